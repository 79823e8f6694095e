"""A one-line record in a small file, shared by every process of the machine under an ``fcntl`` lock.

What the machine's processes must agree on (an API key's last nonce and modelled rate counters: ``nonce``,
``tradecounter``; the bots' order references: ``live.userrefs``) lives in such a file under the state directory. The line has a fixed width and is rewritten
in place, never truncated, so that no reader sees a shorter or a half-written record; it is read and written
only with the lock held. Each process opens its own descriptor (also after a fork: an inherited one shares
its parent's lock), and threads of one process take a thread lock first (``flock`` does not exclude them).
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from candlebot.errors import ConfigError


class LockedRecord:
    """The record in ``path``: ``width`` bytes, a line of text padded with spaces; thread- and fork-safe.

    ``what`` names the file in errors ("the nonce file").
    """

    def __init__(self, path: Path, *, width: int, what: str) -> None:
        self.path = path
        self.width = width
        self.what = what
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._fd_pid: int | None = None

    def __repr__(self) -> str:
        return f"LockedRecord(path={str(self.path)!r})"

    def _file(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._fd_pid != pid:
            # After a fork the inherited descriptor shares the parent's lock: open our own.
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise ConfigError(f"cannot open {self.what} {self.path}: {exc.strerror or exc}") from exc
            self._fd_pid = pid
        return self._fd

    def open(self) -> None:
        """Open the file now, so that an unusable folder is refused at start (``ConfigError``), not at first use."""
        with self._thread_lock:
            self._file()

    @contextmanager
    def locked(self) -> Iterator[int]:
        """The file's descriptor, locked for this thread until the block ends (waits for other holders)."""
        with self._thread_lock:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def try_locked(self) -> Iterator[int | None]:
        """The locked descriptor, or None when another thread or process holds the record right now."""
        if not self._thread_lock.acquire(blocking=False):
            yield None
            return
        try:
            fd = self._file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
            try:
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def read(self, fd: int) -> str:
        """The record's text, stripped ("" for a new file); call with the lock held."""
        return os.pread(fd, self.width, 0).decode("ascii", "replace").strip()

    def write(self, fd: int, text: str) -> None:
        """Replace the record in place; call with the lock held."""
        os.pwrite(fd, text.ljust(self.width - 1).encode("ascii") + b"\n", 0)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._fd_pid == os.getpid():
                os.close(self._fd)
            self._fd = None
