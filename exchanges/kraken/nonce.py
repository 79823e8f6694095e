"""Strictly increasing nonces per API key, shared by every process on the machine.

Kraken refuses a private call whose nonce is not above the last one it
accepted for the key. krakenex's own nonce (``int(1000 * time.time())``)
collides within a millisecond and between processes, so candlebot takes
nonces from a counter in a small file per key, under an ``fcntl`` lock:
``next = max(now in µs, last + 1)``.

Taking a nonce is not enough: a nonce taken by process A may reach Kraken
after a higher one sent by process B, and A's call is then refused. So the
lock is held from taking the nonce until the reply has arrived (every call has
a timeout, so this is bounded). A ``Lease`` is that critical section:

    with sequencer.lease(cost=1) as lease:
        nonce = lease.next_nonce()
        ...send, wait for the reply...

The same record holds the client-side rate counter (``ratelimit``): a lease
is only granted when the modelled counter has room for ``cost``, so that all
processes sharing a key also share one counter (its time is
``Clock.monotonic``, one clock for every process of the machine, so a wall-clock
step neither freezes nor frees it). The wait happens outside the lock, on the
injected clock. Nonces themselves are ``max(wall µs, last + 1)``: a step back
only slows their growth to +1.

Calls that can come back later (reconciliation lookups) take ``try_lease``
instead: it never waits, neither for the lock (another process's call in
flight) nor for the counter, and it leaves ``reserve`` units free for orders.
When it cannot be granted it raises ``LeaseDeferred`` with the expected wait,
and the caller tries again on a later loop iteration.

File: ``<state_dir>/kraken/key-<key_id>.state``, one fixed-width line
``<nonce> <level> <at>`` (a ``LockedRecord``).
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from candlebot.clock import Clock, LiveClock
from candlebot.errors import ConfigError
from candlebot.live.paths import default_state_dir
from candlebot.lockedrecord import LockedRecord
from candlebot.exchanges.kraken.ratelimit import CounterState, RateLimiter

log = logging.getLogger(__name__)

_RECORD_WIDTH = 80


class Lease:
    """Exclusive use of a key between taking a nonce and receiving the reply."""

    __slots__ = ("_sequencer", "_fd", "last_nonce", "_active")

    def __init__(self, sequencer: NonceSequencer, fd: int) -> None:
        self._sequencer = sequencer
        self._fd = fd
        self.last_nonce: int | None = None
        self._active = True

    def next_nonce(self) -> int:
        if not self._active:
            raise RuntimeError("nonce taken outside its lease")
        nonce = self._sequencer._advance(self._fd)
        self.last_nonce = nonce
        return nonce



class LeaseDeferred(Exception):
    """``try_lease`` could not be granted now; ``wait`` is a guess (seconds) at when it could."""

    def __init__(self, reason: str, wait: float) -> None:
        super().__init__(reason)
        self.wait = wait


class NonceSequencer:
    """Nonces (and the shared rate counter) for one API key.

    ``key_id`` names the key without revealing it (``KrakenCredentials.key_id``).
    Safe to share between threads; every process (forked or not) gets its own
    lock file handle.
    """

    def __init__(
        self,
        key_id: str,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        if not key_id or not all(c.isalnum() or c in "-_" for c in key_id):
            raise ConfigError(f"nonce key id must be a plain file-name part, got {key_id!r}")
        base = Path(state_dir) if state_dir is not None else default_state_dir()
        self.path = base / "kraken" / f"key-{key_id}.state"
        self.clock: Clock = clock or LiveClock()
        self.limiter = limiter
        self._record = LockedRecord(self.path, width=_RECORD_WIDTH, what="the nonce file")

    def __repr__(self) -> str:
        return f"NonceSequencer(path={str(self.path)!r}, limiter={self.limiter!r})"

    @contextmanager
    def try_lease(self, cost: int = 1, *, reserve: float = 0.0) -> Iterator[Lease]:
        """The key now, or ``LeaseDeferred``: never waits; keeps ``reserve`` counter units free for others."""
        with self._record.try_locked() as fd:
            if fd is None:
                raise LeaseDeferred("another call holds the key", 0.0)
            wait = self._admit(fd, cost, reserve)
            if wait > 0:
                raise LeaseDeferred(f"the rate counter has no room for {cost} unit(s) beside the orders' reserve", wait)
            lease = Lease(self, fd)
            try:
                yield lease
            finally:
                lease._active = False

    @contextmanager
    def lease(self, cost: int = 1) -> Iterator[Lease]:
        """Hold the key until the block ends; first wait (unlocked) until the rate counter has room for ``cost``."""
        while True:
            with self._record.locked() as fd:
                wait = self._admit(fd, cost)
                if wait <= 0:
                    lease = Lease(self, fd)
                    try:
                        yield lease
                    finally:
                        lease._active = False
                    return
            log.debug("kraken rate counter full: waiting %.2fs before a call", wait)
            self.clock.sleep(wait)

    # -- the record (called with the lock held) ---------------------------------------------

    def _read(self, fd: int) -> tuple[int, CounterState]:
        text = self._record.read(fd)
        if not text:
            return 0, CounterState()
        try:
            nonce, level, at = text.split()
            return int(nonce), CounterState(float(level), float(at))
        except ValueError:
            log.warning("nonce file %s is unreadable; starting from the clock", self.path)
            return 0, CounterState()

    def _write(self, fd: int, nonce: int, counter: CounterState) -> None:
        self._record.write(fd, f"{nonce} {counter.level:.6f} {counter.at:.6f}")

    def _advance(self, fd: int) -> int:
        last, counter = self._read(fd)
        nonce = max(int(self.clock.now() * 1_000_000), last + 1)
        self._write(fd, nonce, counter)
        return nonce

    def _admit(self, fd: int, cost: int, reserve: float = 0.0) -> float:
        if self.limiter is None:
            return 0.0
        last, counter = self._read(fd)
        admitted, wait = self.limiter.admit(counter, cost, self.clock.monotonic(), reserve=reserve)
        if admitted is None:
            return max(wait, 0.001)
        self._write(fd, last, admitted)
        return 0.0

    def _mark_full(self, fd: int) -> None:
        if self.limiter is None:
            return
        last, _ = self._read(fd)
        self._write(fd, last, self.limiter.refused(self.clock.monotonic()))

    def mark_rate_limited(self) -> None:
        """The server refused a call for its rate counter: record the counter as full, as of now."""
        with self._record.locked() as fd:
            self._mark_full(fd)

    def peek(self) -> tuple[int, CounterState]:
        """The stored (last nonce, counter): for tests and diagnostics."""
        with self._record.locked() as fd:
            return self._read(fd)

    def close(self) -> None:
        self._record.close()
