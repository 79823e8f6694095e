"""Reading stored books back: the book at any moment, every book in a window, top-of-book features,
and tardis-style incremental L2 rows.

    from candlebot.collector import read
    book = read.book_at("sqlite:///books.sqlite", "XBTUSD", "2026-11-30T01:00:00")
    for f in read.books("sqlite:///books.sqlite", "XBTUSD", start, end, every=1.0, features=True):
        print(f.time, f.spread, f.mid, f.microprice, f.imbalance)

Times are unix seconds (float) or anything ``parse_time`` reads (ISO 8601, UTC when no zone).
The book is rebuilt from the newest snapshot at or before the start, then row by row. Inside a
gap there is no verified book: ``book_at`` raises ``NoBook`` and ``books`` skips the gap (a book
comes again with the snapshot that closed it). Amounts are exact ``Decimal``s in ``Book``;
features are floats, for research.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterator

from candlebot.errors import ConfigError
from candlebot.collector.storage import open_reader
from candlebot.collector.storage.base import Reader, SymbolInfo

Level = tuple[Decimal, Decimal]


class NoBook(LookupError):
    """No verified book at that moment (before the first snapshot, or inside a gap)."""


def utc_text(us: int) -> str:
    """Epoch microseconds as a person reads them (and ``--at`` takes back): ``2026-12-07T08:39:18.983448Z``."""
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Book:
    pair: str
    time: float                # receive time of the last message applied (unix seconds)
    asks: tuple[Level, ...]    # lowest first
    bids: tuple[Level, ...]    # highest first

    @property
    def utc(self) -> str:
        """``time`` in UTC ISO 8601, for people."""
        return utc_text(round(self.time * 1_000_000))


@dataclass(frozen=True)
class TopOfBook:
    """Per sampling time: ``spread`` = ask - bid, ``mid``, ``microprice`` = (bid x ask_qty + ask x bid_qty) /
    (bid_qty + ask_qty), ``imbalance`` = (bid_qty - ask_qty) / (bid_qty + ask_qty) at the best level."""

    pair: str
    time: float
    bid: float
    ask: float
    bid_qty: float
    ask_qty: float
    spread: float
    mid: float
    microprice: float
    imbalance: float


@dataclass(frozen=True)
class L2Row:
    """tardis.dev's incremental_book_L2 columns; times in epoch microseconds."""

    timestamp: int
    local_timestamp: int
    is_snapshot: bool
    side: str
    price: Decimal
    amount: Decimal


def parse_time(value: float | int | str | datetime) -> float:
    """Unix seconds from a number, a datetime or an ISO 8601 text (UTC when no zone is given)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"time {value!r}: expected unix seconds or ISO 8601 (2026-11-30T01:00:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _us(value: float | int | str | datetime) -> int:
    return round(parse_time(value) * 1_000_000)


class _Rebuild:
    """Integer books replayed from rows; knows where snapshots start."""

    def __init__(self, reader: Reader, info: SymbolInfo, start_seq: int) -> None:
        self.info = info
        self.asks: dict[int, int] = {}
        self.bids: dict[int, int] = {}
        snapshot_seqs = reader._query("SELECT seq FROM snapshots WHERE symbol_id = ? AND seq >= ?", (info.id, start_seq))
        self.snapshot_starts = {int(s) for (s,) in snapshot_seqs}

    def apply(self, seq: int, side: int, price: int, qty: int) -> None:
        if seq in self.snapshot_starts:
            self.asks.clear()
            self.bids.clear()
        levels = self.asks if side else self.bids
        if qty:
            levels[price] = qty
        else:
            levels.pop(price, None)

    def book(self, time_us: int, depth: int | None) -> Book:
        p, q = self.info.price_decimals, self.info.qty_decimals
        asks = sorted(self.asks.items())[:depth]
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        return Book(self.info.pair, time_us / 1e6,
                    tuple((Decimal(a).scaleb(-p), Decimal(b).scaleb(-q)) for a, b in asks),
                    tuple((Decimal(a).scaleb(-p), Decimal(b).scaleb(-q)) for a, b in bids))

    def top(self, time_us: int) -> TopOfBook | None:
        if not self.asks or not self.bids:
            return None
        ps, qs = 10 ** self.info.price_decimals, 10 ** self.info.qty_decimals  # int / int rounds correctly
        ask_units, bid_units = min(self.asks), max(self.bids)
        ask, bid = ask_units / ps, bid_units / ps
        ask_qty, bid_qty = self.asks[ask_units] / qs, self.bids[bid_units] / qs
        total = ask_qty + bid_qty
        return TopOfBook(self.info.pair, time_us / 1e6, bid, ask, bid_qty, ask_qty, ask - bid, (ask + bid) / 2,
                         (bid * ask_qty + ask * bid_qty) / total, (bid_qty - ask_qty) / total)


def _in_gap(reader: Reader, info: SymbolInfo, at_us: int) -> tuple[int, int, str] | None:
    for start, end, reason in reader.gaps(info.id, at_us, at_us):
        if start < at_us < end:
            return start, end, reason
    return None


def book_at(db: str, pair: str, at: float | str | datetime, depth: int | None = None) -> Book:
    """The verified book as it stood at ``at``; ``NoBook`` when there was none."""
    at_us = _us(at)
    reader = open_reader(db)
    try:
        info = reader.symbol(pair)
        gap = _in_gap(reader, info, at_us)
        if gap is not None:
            raise NoBook(f"{info.pair}: no verified book at {utc_text(at_us)}: gap from {utc_text(gap[0])} "
                         f"to {utc_text(gap[1])} ({gap[2]})")
        found = reader.snapshot_before(info.id, at_us)
        if found is None:
            raise NoBook(f"{info.pair}: nothing stored at or before {utc_text(at_us)}")
        rebuild = _Rebuild(reader, info, found[0])
        last = found[1]
        for seq, _, ts_local, _, side, price, qty in reader.rows(info.id, found[0], at_us):
            rebuild.apply(seq, side, price, qty)
            last = ts_local
        return rebuild.book(last, depth)
    finally:
        reader.close()


def books(db: str, pair: str, start: float | str | datetime, end: float | str | datetime, *,
          every: float | None = None, depth: int | None = None, features: bool = False) -> Iterator[Book] | Iterator[TopOfBook]:
    """Books (or ``TopOfBook`` when ``features``) in [start, end): after every message, or sampled each
    ``every`` seconds (the book as it stood then). Gaps are skipped, and samples end with the newest stored row."""
    if every is not None and not every > 0:
        raise ConfigError("every must be > 0 seconds")
    return _books(db, pair, _us(start), _us(end), every, depth, features)


def _books(db: str, pair: str, start_us: int, end_us: int, every: float | None, depth: int | None,
           features: bool) -> Iterator[Book] | Iterator[TopOfBook]:
    reader = open_reader(db)
    try:
        info = reader.symbol(pair)
        found = reader.snapshot_before(info.id, start_us) or reader.first_snapshot_from(info.id, start_us)
        if found is None:
            return
        gaps = reader.gaps(info.id, start_us, end_us)
        known_until = min(end_us, (reader.last_time(info.id) or 0) + 1)  # after the newest row nothing is known
        rebuild = _Rebuild(reader, info, found[0])

        def emit(time_us: int) -> Book | TopOfBook | None:
            if any(a < time_us < b for a, b, _ in gaps):
                return None
            return rebuild.top(time_us) if features else rebuild.book(time_us, depth)

        step_us = None if every is None else round(every * 1_000_000)
        next_sample = start_us
        pending_time: int | None = None
        for seq, _, ts_local, _, side, price, qty in reader.rows(info.id, found[0], end_us - 1):
            if pending_time is not None and ts_local != pending_time:
                if step_us is None:
                    if pending_time >= start_us and (item := emit(pending_time)) is not None:
                        yield item
                else:
                    while next_sample < ts_local and next_sample < end_us:
                        if next_sample >= pending_time and (item := emit(next_sample)) is not None:
                            yield item
                        next_sample += step_us
            rebuild.apply(seq, side, price, qty)
            pending_time = ts_local
        if pending_time is None:
            return
        if step_us is None:
            if pending_time >= start_us and (item := emit(pending_time)) is not None:
                yield item
        else:
            while next_sample < known_until:
                if next_sample >= pending_time and (item := emit(next_sample)) is not None:
                    yield item
                next_sample += step_us
    finally:
        reader.close()


def l2_rows(db: str, pair: str, start: float | str | datetime, end: float | str | datetime) -> Iterator[L2Row]:
    """tardis-style incremental L2 in [start, end): the book at ``start`` as snapshot rows (when there is
    one), then every stored row; snapshots after resyncs and restarts come out as snapshot rows too."""
    return _l2_rows(db, pair, _us(start), _us(end))


def _l2_rows(db: str, pair: str, start_us: int, end_us: int) -> Iterator[L2Row]:
    reader = open_reader(db)
    try:
        info = reader.symbol(pair)
        p, q = info.price_decimals, info.qty_decimals
        found = reader.snapshot_before(info.id, start_us) or reader.first_snapshot_from(info.id, start_us)
        if found is None:
            return
        rebuild = _Rebuild(reader, info, found[0])
        started = False
        for seq, ts_exchange, ts_local, is_snapshot, side, price, qty in reader.rows(info.id, found[0], end_us - 1):
            if ts_local < start_us:
                rebuild.apply(seq, side, price, qty)
                continue
            if not started:
                started = True
                if seq not in rebuild.snapshot_starts and _in_gap(reader, info, start_us) is None:
                    for side_name, levels in (("ask", rebuild.asks), ("bid", rebuild.bids)):
                        for units, amount in sorted(levels.items(), reverse=side_name == "bid"):
                            yield L2Row(start_us, start_us, True, side_name, Decimal(units).scaleb(-p),
                                        Decimal(amount).scaleb(-q))
            yield L2Row(ts_exchange if ts_exchange is not None else ts_local, ts_local, bool(is_snapshot),
                        "ask" if side else "bid", Decimal(price).scaleb(-p), Decimal(qty).scaleb(-q))
    finally:
        reader.close()


__all__ = ["Book", "TopOfBook", "L2Row", "NoBook", "book_at", "books", "l2_rows", "parse_time"]
