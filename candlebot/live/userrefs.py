"""Order references (Kraken's int32 ``userref``) unique across every bot on this machine and every restart.

A lookup by userref is what proves whether an order exists, so two orders must
never share one, even from two bots on the same account: the sequence lives
in one file under the state directory, advanced under an exclusive lock.
Each process reserves a block of ``block`` references at a time, so an order
costs no file lock; a block starts at max(last + 1, seconds since 2024 / 2),
so a lost state directory does not restart the sequence at 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from candlebot.errors import ConfigError
from candlebot.lockedrecord import LockedRecord

_EPOCH = 1_704_067_200  # 2024-01-01 UTC
_MAX = 2**31 - 1


class UserrefSequence:
    def __init__(self, state_dir: str | Path, now: Callable[[], float], block: int = 64) -> None:
        self.path = Path(state_dir) / "userref.seq"
        self._now = now
        self._block = block
        self._next = self._end = 0
        self._record = LockedRecord(self.path, width=32, what="the userref sequence")
        self._record.open()

    def __call__(self) -> int:
        if self._next >= self._end:
            self._reserve()
        ref = self._next
        self._next += 1
        return ref

    def _reserve(self) -> None:
        with self._record.locked() as fd:
            raw = self._record.read(fd)
            last = int(raw) if raw else 0
            first = max(last + 1, int((self._now() - _EPOCH) / 2))
            end = first + self._block
            if end - 1 > _MAX:
                raise ConfigError("userref sequence exhausted (int32)")
            self._record.write(fd, str(end - 1))
            self._next, self._end = first, end

    def close(self) -> None:
        self._record.close()
