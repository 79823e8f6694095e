"""The client-side model of Kraken's per-pair trading counter, shared by every process on one key.

AddOrder and CancelOrder are not on the REST counter (``ratelimit``): the
matching engine counts them per key and pair. Before such a call the client
takes its cost here, waiting (outside the lock, on the injected clock) while the
modelled counter has no room; a refusal (``EOrder:Rate limit exceeded``) marks
it full. Times are ``Clock.monotonic`` seconds.

File: ``<state_dir>/kraken/key-<key_id>.trading-<pair>``, one fixed-width line
``<level> <at>`` rewritten in place under an ``fcntl`` lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from candlebot.clock import Clock
from candlebot.errors import ConfigError
from candlebot.exchanges.kraken.ratelimit import CounterState, RateLimiter

log = logging.getLogger(__name__)

_RECORD_WIDTH = 48


class TradingDeferred(Exception):
    """The pair's trading counter would make the call wait ``wait`` seconds, longer than allowed."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the pair's trading counter is full for {wait:.1f} s")
        self.wait = wait


class TradingCounter:
    """The trading counters of one key (one file per pair); thread-safe."""

    def __init__(self, folder: Path, key_id: str, *, clock: Clock, limiter: RateLimiter) -> None:
        self.folder = folder
        self.key_id = key_id
        self.clock = clock
        self.limiter = limiter
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TradingCounter(folder={str(self.folder)!r}, limiter={self.limiter!r})"

    def path(self, pair: str) -> Path:
        return self.folder / f"key-{self.key_id}.trading-{re.sub(r'[^A-Za-z0-9]', '_', pair) or 'any'}"

    @contextmanager
    def _locked(self, pair: str) -> Iterator[int]:
        with self._lock:
            try:
                self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path(pair), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise ConfigError(f"cannot open the trading counter {self.path(pair)}: {exc.strerror or exc}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield fd
            finally:
                os.close(fd)  # releases the lock

    def _read(self, fd: int) -> CounterState:
        text = os.pread(fd, _RECORD_WIDTH, 0).decode("ascii", "replace").strip()
        try:
            level, at = text.split()
            return CounterState(float(level), float(at))
        except ValueError:
            return CounterState()

    def _write(self, fd: int, state: CounterState) -> None:
        os.pwrite(fd, f"{state.level:.6f} {state.at:.6f}".ljust(_RECORD_WIDTH - 1).encode("ascii") + b"\n", 0)

    def take(self, pair: str, cost: int, *, max_wait: float | None = None) -> None:
        """Count a call of ``cost`` on ``pair``'s counter, first waiting until the model has room for it.

        ``max_wait``: when the wait would be longer, count nothing and raise ``TradingDeferred`` instead
        (a running bot's poll loop must not stall behind a fleet that trades faster than the pair allows).
        """
        if cost <= 0:
            return
        while True:
            with self._locked(pair) as fd:
                admitted, wait = self.limiter.admit(self._read(fd), cost, self.clock.monotonic())
                if admitted is not None:
                    self._write(fd, admitted)
                    return
            if max_wait is not None and wait > max_wait:
                raise TradingDeferred(wait)
            log.info("kraken trading counter of %s full: the order waits %.2fs", pair, wait)
            self.clock.sleep(max(wait, 0.001))

    def mark_full(self, pair: str) -> None:
        """Kraken refused a trading call for this counter: assume it is full, as of now."""
        with self._locked(pair) as fd:
            self._write(fd, self.limiter.refused(self.clock.monotonic()))

    def level(self, pair: str) -> float:
        """The modelled level now: for tests and diagnostics."""
        with self._locked(pair) as fd:
            return self.limiter.level_at(self._read(fd), self.clock.monotonic())
