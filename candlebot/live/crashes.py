"""A bot that keeps crashing stops itself instead of being restarted forever.

Supervisor restarts a crashed bot (exit 1, a signal, ``kill -9``) at once, and start-up recovery takes over: that is
how a bot survives a bug that hits once. But supervisor only honours ``exitcodes`` (2: stay EXITED) for a process
that reached RUNNING, which is why the generated config has ``startsecs=0``, and with it ``startretries`` never
applies: a bot that crashes at every start would be restarted without end, each start calling Kraken again. So the
bot counts its own crashes, in ``<label>.crashes`` beside its state file, written only under the bot's lock:

- at start it leaves a mark (its PID); a clean end (exit 0 or 2) removes it (and the file, when no recent crash
  is left to remember). A mark found at the next start was
  left by a process that died without ending cleanly: one crash, dated by the machine's monotonic clock
  (``CLOCK_MONOTONIC``, which every process shares; times from before a reboot are dropped as unknown).
- when ``limit`` crashes fall within ``window_s``, the start is refused (``CrashLoop``: one line, one alert,
  exit 2, so supervisor leaves it EXITED) and the count starts over: the next start, a person's, has the whole
  budget again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from candlebot.errors import ConfigError
from candlebot.live.wholefile import UnreadableFile, read_json, write_json

CRASH_LIMIT = 5
CRASH_WINDOW_S = 900.0


class CrashLoop(ConfigError):
    """The bot crashed ``limit`` times within the window: restarting it again would only crash again."""


class CrashRecord:
    def __init__(self, path: Path, monotonic: Callable[[], float], *, limit: int = CRASH_LIMIT,
                 window_s: float = CRASH_WINDOW_S) -> None:
        self.path, self.monotonic, self.limit, self.window_s = path, monotonic, limit, window_s

    @classmethod
    def beside(cls, state_file: Path, monotonic: Callable[[], float], *, limit: int = CRASH_LIMIT,
               window_s: float = CRASH_WINDOW_S) -> CrashRecord:
        return cls(state_file.with_suffix(".crashes"), monotonic, limit=limit, window_s=window_s)

    def start(self, what: str) -> None:
        """Under the bot's lock, before anything that can crash: count a mark the previous process left, refuse
        the start (``CrashLoop``) when the budget is spent, else leave this process's mark."""
        now = self.monotonic()
        record = self._read()
        crashes = [t for t in record.get("crashes", []) if isinstance(t, (int, float)) and now - self.window_s < t <= now]
        if record.get("running") not in (None, os.getpid()):  # its own mark: this process built the bot before
            crashes.append(now)
        if self.limit and len(crashes) >= self.limit:
            self._write({"crashes": []})
            raise CrashLoop(f"{what} crashed {len(crashes)} times within {self.window_s / 60:g} minutes (exit 1 or a "
                            f"signal, each restarted by supervisor): not starting again; its log file says why it "
                            f"crashed, fix that, then start it again")
        self._write({"running": os.getpid(), "crashes": crashes})

    def clean_exit(self) -> None:
        """The process ends by design (exit 0 or 2): its mark goes (only its own: never another process's)."""
        record = self._read()
        if record.get("running") != os.getpid():
            return
        try:
            if record.get("crashes"):
                self._write({"crashes": record["crashes"]})
            else:
                self.path.unlink(missing_ok=True)  # nothing to remember: no file beside the books
        except (ConfigError, OSError):
            pass  # the next start counts one crash too many: better than a clean stop that fails

    def _read(self) -> dict[str, Any]:
        try:
            record = read_json(self.path)
        except FileNotFoundError:
            return {}
        except UnreadableFile:
            return {"running": "unreadable"}  # a half-written file: its writer died mid-write, which is a crash
        return record if isinstance(record, dict) else {}

    def _write(self, record: dict[str, Any]) -> None:
        try:
            write_json(self.path, record)
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {exc.strerror or exc}") from None
