"""Bots on one API key share one state dir, enforced on the machine: a register of the state dirs keys are used from.

Why: the key's nonce file, its userref sequence and the fleet-wide audit (``candlebot.live.fleet``) all live in
the state dir. A bot on the same key with another state dir would race the nonces and hide its books from the
fleet's audit. Each bot with a key holds a shared ``fcntl`` lock on ``<runtime dir>/keys/<key>.<state dir>.lock``
for its lifetime (``candlebot.live.paths.runtime_dir``); a start finds a held lock of the same key under another
state dir and refuses (exit 2), naming that dir. Locks die with their process: a stopped bot never blocks one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from candlebot.errors import ConfigError
from candlebot.live.paths import runtime_dir


class KeyShare:
    """This process's use of a key from one state dir; ``release`` when done (or let the process end)."""

    def __init__(self, key_id: str, state_dir: Path, root: Path | None = None) -> None:
        self.key_id = key_id
        self.state_dir = Path(os.path.abspath(state_dir))
        self.folder = (root or runtime_dir()) / "keys"
        tag = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:16]
        self.path = self.folder / f"{key_id}.{tag}.lock"
        self._fd: int | None = None

    def claim(self) -> KeyShare:
        """Register, then refuse (``ConfigError``) when a live process uses the key from another state dir."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ConfigError(f"cannot register the API key's state dir under {self.folder}: {exc.strerror or exc}") from None
        fcntl.flock(fd, fcntl.LOCK_SH)
        if os.fstat(fd).st_size == 0:
            os.pwrite(fd, str(self.state_dir).encode(), 0)
        self._fd = fd
        for other in sorted(self.folder.glob(f"{self.key_id}.*.lock")):
            if other.name == self.path.name:
                continue
            used_from = _in_use(other)
            if used_from is not None:
                self.release()
                raise ConfigError(f"this API key is in use by a bot with --state-dir {used_from}, not {self.state_dir}: "
                                  "bots on one key must share one state dir (its nonce file and the fleet's audit "
                                  "live there)")
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _in_use(path: Path) -> str | None:
    """The state dir recorded in ``path`` when a live process holds it, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 4096, 0).decode(errors="replace") or "?"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
