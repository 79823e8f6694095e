"""The bounded queue between the sockets and the store, and the task that drains it in batches.

``offer`` never waits: when ``max_pending`` records are queued the record is dropped, counted,
and the caller (``SymbolFeed``) resyncs the symbol, so a slow database leaves a recorded gap and
never a silent hole. Gaps are always accepted (they are few and they are the record of the
holes). The task takes everything queued (up to ``batch_records``), writes it in one transaction
and reports it written only after the commit.

A store that cannot be reached (PostgreSQL restarting) is waited for: the same batch is offered
again after a back-off (0.25 s doubling to 5 s, on the monotonic clock) while the queue goes on
filling; what it refuses meanwhile becomes gaps as above, so an outage is recorded like any other
hole and the process never exits for it. Asked to stop while the store is away, the writer tries
for ``stop_grace_s`` more and then gives up what is queued (a restart records that gap).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Callable, Sequence

from candlebot.collector.records import GapRecord, Record
from candlebot.collector.storage.base import Store, StoreUnavailable

log = logging.getLogger(__name__)

Written = Callable[[Sequence[Record], int, float], None]  # batch, rows, seconds the write took
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 5.0


class Writer:
    def __init__(self, store: Store, *, max_pending: int = 50_000, batch_records: int = 5_000,
                 linger_s: float = 0.02, on_written: Written | None = None, stop_grace_s: float = 2.0) -> None:
        self.store = store
        self.stop_grace_s = stop_grace_s
        self.unavailable_since: float | None = None  # monotonic time the store went away; None while it works
        self.max_pending = max_pending
        self.batch_records = batch_records
        self.linger_s = linger_s
        self.on_written = on_written
        self._queue: deque[Record] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0
        self.rows_written = 0

    @property
    def pending(self) -> int:
        return len(self._queue)

    def offer(self, record: Record) -> bool:
        queue = self._queue
        if len(queue) >= self.max_pending and type(record) is not GapRecord:
            self.dropped += 1
            return False
        queue.append(record)
        if not self._ready.is_set():
            self._ready.set()
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until ``stop`` is set and the queue is empty."""
        queue = self._queue
        while True:
            if not queue:
                if stop.is_set():
                    return
                self._ready.clear()
                waiter = asyncio.ensure_future(self._ready.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait((waiter, stopper), return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
                continue
            if len(queue) < self.batch_records and not stop.is_set() and self.linger_s > 0:
                await asyncio.sleep(self.linger_s)  # let a batch gather: one commit per ``linger_s``
            count = min(len(queue), self.batch_records)
            batch = [queue.popleft() for _ in range(count)]
            started = time.perf_counter()
            rows = await self._write(batch, stop)
            if rows is None:  # stopped while the store was away
                log.error("store unavailable at stop: %d queued records not stored (the next start records the gap)",
                          len(batch) + len(queue))
                queue.clear()
                return
            self.rows_written += rows
            if self.on_written is not None:
                self.on_written(batch, rows, time.perf_counter() - started)

    async def _write(self, batch: list[Record], stop: asyncio.Event) -> int | None:
        """Write ``batch``, waiting out an unavailable store; None when stopped before it came back."""
        delay = RETRY_FIRST_S
        given_up_at: float | None = None
        while True:
            try:
                rows = await self.store.write(batch)
            except StoreUnavailable as exc:
                now = time.monotonic()
                if self.unavailable_since is None:
                    self.unavailable_since = now
                    log.error("store unavailable (%s): %d records queued; retrying with back-off", exc, self.pending + len(batch))
                else:
                    log.warning("store still unavailable after %.0f s (%s); retrying in %.2f s", now - self.unavailable_since,
                                exc, delay)
                if stop.is_set():  # a few more tries, then give up: SIGTERM must end the process within 5 s
                    given_up_at = given_up_at or now + self.stop_grace_s
                    if now >= given_up_at:
                        return None
                    await asyncio.sleep(min(delay, RETRY_FIRST_S))
                else:
                    try:  # a stop request cuts the wait short
                        await asyncio.wait_for(stop.wait(), delay)
                    except asyncio.TimeoutError:
                        pass
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            if self.unavailable_since is not None:
                log.warning("store is back after %.1f s; writing the %d queued records", time.monotonic() - self.unavailable_since,
                            self.pending + len(batch))
                self.unavailable_since = None
            return rows
