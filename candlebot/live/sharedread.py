"""A read one bot of a key makes for every bot of the key (the account, the fee tier): one reader at a time, and
how long the others may use what it read.

Reads are dated on ``CLOCK_MONOTONIC``, which every process of the machine shares, never the calendar (a wall-clock
step must not make an old read look new); a monotonic time from another boot of the machine says nothing about
now, so each read also carries the boot it was made in. While one bot reads, the others of the key wait for its
read (``one_reader``) and then use it instead of spending the key's budget on the same answer.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from candlebot.live.paths import boot_id


@dataclass(frozen=True)
class Stamp:
    """When a shared read was made: the monotonic time and the machine's boot."""

    read_at: float
    boot: str

    @classmethod
    def now(cls, monotonic: float) -> Stamp:
        return cls(monotonic, boot_id())

    def fresh(self, monotonic: float, fresh_s: float) -> bool:
        """Made in this boot, not after ``monotonic`` and at most ``fresh_s`` before it."""
        return self.boot == boot_id() and 0.0 <= monotonic - self.read_at <= fresh_s


class ReaderBusy(Exception):
    """Another process of the key is reading now (only raised to a caller that may not wait)."""


@contextmanager
def one_reader(lock: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the key's lock for one shared read (``fcntl``: released when the holder dies, even by ``kill -9``).
    ``wait=False`` (the poll loop, which never waits): ``ReaderBusy`` at once when another process holds it."""
    lock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReaderBusy(f"another process holds {lock}") from None
        yield
    finally:
        os.close(fd)  # releases the lock
