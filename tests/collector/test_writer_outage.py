"""The writer waits out an unavailable store (fast, in-process: a store that is away for a while, then back)."""

from __future__ import annotations

import asyncio
import time
from typing import Sequence

from candlebot.collector.records import BookRecord, GapRecord, Record
from candlebot.collector.storage.base import StoreUnavailable
from candlebot.collector.writer import Writer


class AwayStore:
    """Refuses every write until ``back`` is set, then stores; records every batch it was offered."""

    def __init__(self) -> None:
        self.back = asyncio.Event()
        self.offered: list[Sequence[Record]] = []
        self.stored: list[Record] = []

    async def write(self, batch: Sequence[Record]) -> int:
        self.offered.append(batch)
        if not self.back.is_set():
            raise StoreUnavailable("PostgreSQL: connection refused")
        self.stored.extend(batch)
        return len(batch)


def record(n: int) -> BookRecord:
    return BookRecord("XBTUSD", None, n, [(1, n, 1)], None)


def test_the_same_batch_is_offered_again_and_a_full_queue_refuses_all_but_gaps():
    async def scenario() -> tuple[AwayStore, Writer, list[bool]]:
        store, stop = AwayStore(), asyncio.Event()
        writer = Writer(store, max_pending=5, linger_s=0)
        task = asyncio.ensure_future(writer.run(stop))
        writer.offer(record(0))
        while len(store.offered) < 3:  # refused, and offered again after the back-off
            await asyncio.sleep(0.01)
        accepted = [writer.offer(record(n)) for n in range(1, 9)] + [writer.offer(GapRecord("XBTUSD", 1, 2, "dropped"))]
        assert writer.unavailable_since is not None
        store.back.set()
        while writer.pending or len(store.stored) < 7:
            await asyncio.sleep(0.01)
        stop.set()
        await task
        return store, writer, accepted

    store, writer, accepted = asyncio.run(scenario())
    assert all(batch is store.offered[0] for batch in store.offered[:3])  # one batch, the same object each time
    assert accepted == [True] * 5 + [False] * 3 + [True]  # the queue bound holds while the store is away; gaps pass
    assert [r.ts_local for r in store.stored if isinstance(r, BookRecord)] == [0, 1, 2, 3, 4, 5]  # each once, in order
    assert writer.unavailable_since is None and writer.rows_written == 7


def test_asked_to_stop_while_the_store_is_away_it_gives_up_within_its_grace():
    async def scenario() -> float:
        store, stop = AwayStore(), asyncio.Event()
        writer = Writer(store, linger_s=0, stop_grace_s=0.5)
        task = asyncio.ensure_future(writer.run(stop))
        writer.offer(record(0))
        while not store.offered:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 5)
        assert writer.pending == 0 and store.stored == []
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 2
