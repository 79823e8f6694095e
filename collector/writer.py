"""The bounded queue between the sockets and the store, and the task that drains it in batches.

``offer`` never waits: when ``max_pending`` records are queued the record is dropped, counted,
and the caller (``SymbolFeed``) resyncs the symbol, so a slow database leaves a recorded gap and
never a silent hole. Gaps are always accepted (they are few and they are the record of the
holes). The task takes everything queued (up to ``batch_records``), writes it in one transaction
and reports it written only after the commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Callable, Sequence

from candlebot.collector.records import GapRecord, Record
from candlebot.collector.storage.base import Store

log = logging.getLogger(__name__)

Written = Callable[[Sequence[Record], int, float], None]  # batch, rows, seconds the write took


class Writer:
    def __init__(self, store: Store, *, max_pending: int = 50_000, batch_records: int = 5_000,
                 linger_s: float = 0.02, on_written: Written | None = None) -> None:
        self.store = store
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
            rows = await self.store.write(batch)
            self.rows_written += rows
            if self.on_written is not None:
                self.on_written(batch, rows, time.perf_counter() - started)
