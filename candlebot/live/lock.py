"""One process per bot: an exclusive ``fcntl`` lock beside the bot's state file, held for the process's lifetime.

Two processes on one state file would spend one budget twice and book each other's orders (issue 17).
The lock (``<label>.lock`` beside ``<label>.sqlite``) is taken before any exchange call; a second
process finds it held and stops at once (``BotLocked``: one line naming the holder's PID and the file,
exit 2). The kernel drops the lock when the holder dies, even by ``kill -9``: a stale file never blocks.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from candlebot.errors import ConfigError


class BotLocked(ConfigError):
    """Another live process holds the bot's lock."""


class BotLock:
    """Held from ``acquire`` until ``release`` (or the process ends)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def beside(cls, state_file: Path) -> BotLock:
        return cls(state_file.with_suffix(".lock"))

    def acquire(self, what: str) -> BotLock:
        """Take the lock without waiting; ``BotLocked`` naming the holder when another process has it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ConfigError(f"cannot create lock file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise BotLocked(f"{what} is already running (PID {holder or 'unknown'} holds {self.path}); "
                            "one process per bot: stop that one first, or use another --name") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).strip() or 0) or None
    except (OSError, ValueError):
        return None
