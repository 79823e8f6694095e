"""One symbol's life on a connection: verify every message, hand rows to the writer, open and close gaps.

States: ``syncing`` (waiting for a snapshot: at start, after a resync or a reconnect) and ``synced``.
A problem (checksum mismatch, crossed book, a message older than the last, a verbatim duplicate, a
dropped write) moves the symbol back to ``syncing`` and opens a gap that starts at the receive time
of the last message stored; the snapshot that ends it closes the gap (or the stop, when the process
ends before one came), and both go to the store. The
connection decides how to get that snapshot (resubscribe, REST Depth as fallback); other symbols
never notice.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from candlebot.collector.book import OrderBook
from candlebot.collector.instruments import Instrument
from candlebot.collector.records import BookRecord, GapRecord, Record, Row

Offer = Callable[[Record], bool]  # the writer's queue: False when full (the record is dropped)


def exchange_us(text: str | None) -> int | None:
    """Kraken's RFC 3339 time (``2023-07-30T15:29:58.343415Z``) as epoch microseconds."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return round(moment.timestamp() * 1_000_000)


@dataclass(slots=True)
class FeedStats:
    """Counters since the metrics last read them (``ops`` resets them); ``unsynced_since`` is a state."""

    messages: int = 0
    mismatches: int = 0
    resyncs: int = 0
    dropped: int = 0
    gaps_us: list[int] = field(default_factory=list)  # the length of each gap closed (a row of the gaps table)
    lags_us: list[int] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)


class SymbolFeed:
    def __init__(self, instrument: Instrument, depth: int, offer: Offer, *, snapshot_interval_us: int,
                 last_stored_us: int | None = None) -> None:
        self.instrument = instrument
        self.pair = instrument.pair
        self.book = OrderBook(depth, instrument.price_decimals, instrument.qty_decimals)
        self._offer = offer
        self._pm = 10 ** instrument.price_decimals
        self._qm = 10 ** instrument.qty_decimals
        self.snapshot_interval_us = snapshot_interval_us
        self.synced = False
        self.reason = "start"                       # why the next snapshot is taken
        self.gap_start: int | None = last_stored_us  # a restart continues after a gap
        self.gap_reason = "restart"
        self.unsynced_since: int | None = None
        self.closed_gaps: deque[GapRecord] = deque(maxlen=100)  # for the alert, which takes them
        self.last_local = 0
        self._last_ts: int | None = None
        self._last_data: Any = None
        self._last_snapshot = 0
        self.stats = FeedStats()

    # -- messages ---------------------------------------------------------------------------------------------

    def on_snapshot(self, data: dict[str, Any], recv_us: int) -> str | None:
        """A fresh book; returns a problem (the symbol stays unsynced) or None."""
        book = self.book
        book.clear()
        book.apply(book.asks, data.get("asks", ()))
        book.apply(book.bids, data.get("bids", ()))
        book.truncate()
        self.stats.messages += 1
        problem = self._verify(data)
        if problem:
            self.fail(problem, recv_us)
            return problem
        if not self._store_snapshot(exchange_us(data.get("timestamp")), recv_us, self.reason):
            return "dropped"
        self.close_gap(recv_us)
        self.unsynced_since = None
        self.synced = True
        self._last_ts = exchange_us(data.get("timestamp"))
        self._last_data = None
        return None

    def on_update(self, data: dict[str, Any], recv_us: int) -> str | None:
        """Apply, truncate, verify, store one update; returns a problem (the caller resyncs) or None."""
        if not self.synced:
            return None
        stats = self.stats
        stats.messages += 1
        ts = exchange_us(data.get("timestamp"))
        last_ts = self._last_ts
        if ts is not None and last_ts is not None:
            if ts < last_ts:
                return self.fail("out_of_order", recv_us)
            if ts == last_ts and data == self._last_data:
                return self.fail("duplicate", recv_us)
            stats.lags_us.append(recv_us - ts)
        book = self.book
        asks, bids = data.get("asks", ()), data.get("bids", ())
        book.apply(book.asks, asks)
        book.apply(book.bids, bids)
        out_asks, out_bids = book.truncate()
        problem = self._verify(data)
        if problem:
            return self.fail(problem, recv_us)
        pm, qm = self._pm, self._qm
        rows: list[Row] = [(1, round(l["price"] * pm), round(l["qty"] * qm)) for l in asks]
        rows += [(0, round(l["price"] * pm), round(l["qty"] * qm)) for l in bids]
        if out_asks:
            rows += [(1, round(p * pm), 0) for p in out_asks]
        if out_bids:
            rows += [(0, round(p * pm), 0) for p in out_bids]
        if not self._offer(BookRecord(self.pair, ts, recv_us, rows, None)):
            stats.dropped += 1
            return self.fail("dropped", recv_us)
        self.last_local = recv_us
        self._last_ts = ts
        self._last_data = data
        if recv_us - self._last_snapshot >= self.snapshot_interval_us:
            if not self._store_snapshot(ts, recv_us, "interval"):
                return "dropped"
        return None

    def fail(self, reason: str, now_us: int) -> str:
        """Leave the synced state (idempotent): the gap starts after the last message stored."""
        if reason in ("checksum", "crossed"):
            self.stats.mismatches += 1
        self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
        if self.synced or self.gap_start is None:
            self.stats.resyncs += 1
        if self.gap_start is None:
            self.gap_start = self.last_local or now_us
            self.gap_reason = reason
        if self.unsynced_since is None:
            self.unsynced_since = self.gap_start  # no verified book since the last message stored
        self.synced = False
        self.reason = f"resync:{reason}"
        self.book.clear()
        return reason

    def close_gap(self, end_us: int) -> None:
        """End the open gap (if any) at ``end_us``: a row for the store (always accepted), the alert and the metrics.
        Called by the snapshot that ends it, and at a stop while the book is still not verified: a research
        dataset must say the book was unknown up to the stop, not leave it to the next start's ``restart`` gap."""
        if self.gap_start is None:
            return
        end_us = max(end_us, self.gap_start)
        gap = GapRecord(self.pair, self.gap_start, end_us, self.gap_reason)
        self._offer(gap)
        self.closed_gaps.append(gap)
        self.stats.gaps_us.append(end_us - self.gap_start)
        self.gap_start = None

    # -- helpers ----------------------------------------------------------------------------------------------

    def _verify(self, data: dict[str, Any]) -> str | None:
        book = self.book
        if book.crossed():
            return "crossed"
        expected = data.get("checksum")
        if expected is not None and book.checksum() != expected:
            return "checksum"
        return None

    def _store_snapshot(self, ts: int | None, recv_us: int, reason: str) -> bool:
        pm, qm = self._pm, self._qm
        rows: list[Row] = [(1, round(p * pm), round(q * qm)) for p, q in self.book.asks.levels()]
        rows += [(0, round(p * pm), round(q * qm)) for p, q in self.book.bids.levels()]
        if not self._offer(BookRecord(self.pair, ts, recv_us, rows, reason)):
            self.stats.dropped += 1
            self.fail("dropped", recv_us)
            return False
        self._last_snapshot = recv_us
        self.last_local = recv_us
        return True
