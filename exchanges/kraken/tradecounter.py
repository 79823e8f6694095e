"""The client-side model of Kraken's per-pair trading counter, shared by every process on one key.

AddOrder and CancelOrder are not on the REST counter (``ratelimit``): the
matching engine counts them per key and pair. Before such a call the client
takes its cost here, waiting (outside the lock, on the injected clock) while the
modelled counter has no room; a refusal (``EOrder:Rate limit exceeded``) marks
it full. Times are ``Clock.monotonic`` seconds.

File: ``<state_dir>/kraken/key-<key_id>.trading-<pair>``, one fixed-width line
``<level> <at>`` (a ``LockedRecord``).
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from candlebot.clock import Clock
from candlebot.lockedrecord import LockedRecord
from candlebot.exchanges.kraken.ratelimit import CounterState, RateLimiter

log = logging.getLogger(__name__)

_RECORD_WIDTH = 48


class TradingDeferred(Exception):
    """The pair's trading counter would make the call wait ``wait`` seconds, longer than allowed."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the pair's trading counter is full for {wait:.1f} s")
        self.wait = wait


class TradingCounter:
    """The trading counters of one key (one file per pair); thread-safe. ``close`` it when done."""

    def __init__(self, folder: Path, key_id: str, *, clock: Clock, limiter: RateLimiter) -> None:
        self.folder = folder
        self.key_id = key_id
        self.clock = clock
        self.limiter = limiter
        self._lock = threading.Lock()
        self._records: dict[str, LockedRecord] = {}

    def __repr__(self) -> str:
        return f"TradingCounter(folder={str(self.folder)!r}, limiter={self.limiter!r})"

    def path(self, pair: str) -> Path:
        return self.folder / f"key-{self.key_id}.trading-{re.sub(r'[^A-Za-z0-9]', '_', pair) or 'any'}"

    def _record(self, pair: str) -> LockedRecord:
        with self._lock:
            record = self._records.get(pair)
            if record is None:
                record = self._records[pair] = LockedRecord(self.path(pair), width=_RECORD_WIDTH,
                                                            what="the trading counter")
            return record

    def _read(self, record: LockedRecord, fd: int) -> CounterState:
        try:
            level, at = record.read(fd).split()
            return CounterState(float(level), float(at))
        except ValueError:
            return CounterState()

    def _write(self, record: LockedRecord, fd: int, state: CounterState) -> None:
        record.write(fd, f"{state.level:.6f} {state.at:.6f}")

    def take(self, pair: str, cost: int, *, max_wait: float | None = None) -> None:
        """Count a call of ``cost`` on ``pair``'s counter, first waiting until the model has room for it.

        ``max_wait``: when the wait would be longer, count nothing and raise ``TradingDeferred`` instead
        (a running bot's poll loop must not stall behind a fleet that trades faster than the pair allows).
        """
        if cost <= 0:
            return
        record = self._record(pair)
        while True:
            with record.locked() as fd:
                admitted, wait = self.limiter.admit(self._read(record, fd), cost, self.clock.monotonic())
                if admitted is not None:
                    self._write(record, fd, admitted)
                    return
            if max_wait is not None and wait > max_wait:
                raise TradingDeferred(wait)
            log.info("kraken trading counter of %s full: the order waits %.2fs", pair, wait)
            self.clock.sleep(max(wait, 0.001))

    def mark_full(self, pair: str) -> None:
        """Kraken refused a trading call for this counter: assume it is full, as of now."""
        record = self._record(pair)
        with record.locked() as fd:
            self._write(record, fd, self.limiter.refused(self.clock.monotonic()))

    def level(self, pair: str) -> float:
        """The modelled level now: for tests and diagnostics."""
        record = self._record(pair)
        with record.locked() as fd:
            return self.limiter.level_at(self._read(record, fd), self.clock.monotonic())

    def close(self) -> None:
        with self._lock:
            records, self._records = list(self._records.values()), {}
        for record in records:
            record.close()
