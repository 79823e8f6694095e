"""The running collector: feeds, connections, the writer and the metrics, wired and run until a signal.

SIGTERM/SIGINT: the sockets close, a pair still without a verified book gets its open gap closed at
the stop (a row with the gap's reason, counted in the summary), the writer commits what is queued,
the process exits 0 (well within 5 s: a batch commits in milliseconds). A store that is only away
(PostgreSQL restarting) is waited for by the writer, never an exit; any other store error ends the
process (crash-only: supervisor restarts it, and the restart records the gap and takes fresh snapshots).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from candlebot.collector.connection import MAX_SYMBOLS, ConnectBudget, Connection, RestSnapshot, now_us
from candlebot.collector.feed import SymbolFeed
from candlebot.collector.instruments import Instrument
from candlebot.collector.ops import Metrics, UnsyncedAlert
from candlebot.collector.storage.base import Store
from candlebot.collector.tuning import DEPTHS, RecorderTuning
from candlebot.collector.writer import Writer

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CollectorConfig(RecorderTuning):
    name: str
    instruments: tuple[Instrument, ...]
    metrics_interval_s: float = 1.0


def rest_depth(rest_url: str, depth: int) -> RestSnapshot:
    """A REST ``Depth`` snapshot in the v2 message shape (the resync fallback), fetched on a thread."""

    def fetch(feed: SymbolFeed) -> dict[str, Any] | None:
        import krakenex
        import requests

        api = krakenex.API()
        api.uri = rest_url.rstrip("/")
        try:
            reply = api.query_public("Depth", {"pair": feed.pair, "count": min(depth, 500)}, timeout=10)
        except (requests.RequestException, ValueError):
            return None
        finally:
            api.session.close()
        result = reply.get("result") if not reply.get("error") else None
        if not result:
            return None
        (book,) = result.values()
        return {side: [{"price": float(p), "qty": float(q)} for p, q, *_ in book[side]] for side in ("asks", "bids")}

    async def snapshot(feed: SymbolFeed) -> dict[str, Any] | None:
        return await asyncio.to_thread(fetch, feed)

    return snapshot


def connection_groups(feeds: Sequence[SymbolFeed]) -> list[list[SymbolFeed]]:
    """At most ``MAX_SYMBOLS`` (20) symbols per connection, spread evenly: 45 pairs -> 15 + 15 + 15."""
    count = -(-len(feeds) // MAX_SYMBOLS)
    return [list(feeds[i::count]) for i in range(count)] if feeds else []


def tune_gc() -> None:
    """The receive path allocates a few small containers per message and makes no cycles: collecting
    generation 0 every 700 allocations cost a third of the time per message. Objects alive after
    start-up (modules, config) are frozen out of every collection."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


async def collect(config: CollectorConfig, store: Store, *, statsd: Any = None,
                  alert: Callable[[str], None] | None = None, stop: asyncio.Event | None = None) -> int:
    """Run until ``stop`` (or SIGTERM/SIGINT); returns the exit code. ``statsd``: the metrics pass's client (DogStatsd's
    calls); ``alert``: where an unsynced symbol's alert goes (None: none)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (RuntimeError, ValueError):  # not the main thread (tests embedding the collector)
            pass
    last = await store.open(config.instruments)
    tune_gc()
    writer = Writer(store, max_pending=config.max_pending)
    feeds = [SymbolFeed(item, config.depth, writer.offer, snapshot_interval_us=round(config.snapshot_interval_s * 1e6),
                        last_stored_us=last.get(item.pair)) for item in config.instruments]
    groups = connection_groups(feeds)
    budget = ConnectBudget()  # Kraken's connection limit is per IP: every connection of the process spends it
    connections = [Connection(config.ws_url, group, config.depth, rest_snapshot=rest_depth(config.rest_url, config.depth),
                              stall_timeout_s=config.stall_timeout_s, resync_timeout_s=config.resync_timeout_s,
                              budget=budget, name=f"ws{n}") for n, group in enumerate(groups)]
    metrics = Metrics(statsd, feeds, writer, now_us) if statsd is not None else None
    if metrics is not None:
        writer.on_written = metrics.written
    unsynced = UnsyncedAlert(alert, config.name, feeds, config.unsynced_alert_s, now_us) if alert is not None else None
    writer_stop = asyncio.Event()
    writing = asyncio.ensure_future(writer.run(writer_stop))
    reading = [asyncio.ensure_future(c.run(stop)) for c in connections]
    log.info("collecting %s at depth %d into %r (%d connection(s))", ",".join(i.pair for i in config.instruments),
             config.depth, store, len(connections))
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), config.metrics_interval_s)
            except asyncio.TimeoutError:
                pass
            if writing.done() or any(task.done() for task in reading):  # a bug or a dead store: crash-only
                break
            if metrics is not None:
                metrics.flush()
            if unsynced is not None:
                unsynced.check()
    finally:
        stop.set()
        failures = [r for r in await asyncio.gather(*reading, return_exceptions=True) if isinstance(r, BaseException)]
        stopped = now_us()
        for feed in feeds:  # a pair still without a verified book (disconnected, resyncing): its gap ends at the stop
            feed.close_gap(stopped)
        writer_stop.set()
        try:
            await writing
        finally:
            if metrics is not None:
                metrics.flush()
            await store.close()
    if failures:
        raise failures[0]
    return 0
