"""Kraken's public endpoints, answered from the simulated market at simulator time ``now``.

Shapes follow KRAKEN.md: results keyed by the pair id even when asked by
altname; prices and volumes as strings; OHLC rows ``[time, open, high, low,
close, vwap, volume, count]`` with at most 720 rows, the still-forming candle
last and ``last`` the open time of the newest closed candle; ``since`` is
exclusive (rows newer than it), so passing ``last`` back returns the forming
candle and whatever closed since. Trades' ``since``/``last`` are
nanosecond cursors, unique per trade (``Print.cursor``): ``since`` is
exclusive and ``last`` is the cursor of the last trade returned, so paging
with ``since=last`` neither skips nor repeats a trade, even where trades share
a timestamp. ``since`` may be given in seconds, milliseconds, microseconds
or nanoseconds (``cursors``); ``last`` always fits in 64 bits.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from candlebot.data.history import KRAKEN_INTERVALS
from candlebot.exchanges.kraken_sim import params as p
from candlebot.exchanges.kraken_sim.assets import AssetTable
from candlebot.exchanges.kraken_sim.book import BookMaker
from candlebot.exchanges.kraken_sim.catalog import Catalog
from candlebot.exchanges.kraken_sim.cursors import trade_cursor
from candlebot.exchanges.kraken_sim.errors import INVALID_ARGUMENTS, UNKNOWN_METHOD, KrakenError
from candlebot.exchanges.kraken_sim.market import DAY, HOUR, Bar, PricePath
from candlebot.exchanges.kraken_sim.units import Units, fixed

OHLC_INTERVALS = frozenset(KRAKEN_INTERVALS)
OHLC_ROWS = 720
TRADES_ROWS = 1000
SPREAD_ROWS = 200


class MarketData:
    """The public API of one simulated pair."""

    def __init__(self, *, catalog: Catalog, path: PricePath, books: BookMaker, units: Units) -> None:
        self.catalog = catalog
        self.path = path
        self.books = books
        self.units = units
        self.pair = units.pair
        self.assets = AssetTable(catalog.assets())
        self._handlers: dict[str, Callable[[p.Params, float], Any]] = {
            "Time": self.time, "SystemStatus": self.system_status, "Assets": self.asset_info,
            "AssetPairs": self.asset_pairs, "Ticker": self.ticker, "OHLC": self.ohlc, "Depth": self.depth,
            "Trades": self.trades, "Spread": self.spread,
        }
        self._ticker: tuple[int, dict[str, Any]] | None = None

    def handle(self, method: str, params: p.Params, now: float) -> Any:
        handler = self._handlers.get(method)
        if handler is None:
            raise KrakenError(UNKNOWN_METHOD)
        return handler(params, now)

    def _answer_key(self, params: p.Params) -> str:
        """The key of the answer (see ``catalog``); the pair must be the simulated one."""
        name = p.text(params, "pair", required=True)
        assert name is not None
        return self.catalog.market_key(name)

    # -- endpoints ----------------------------------------------------------------------------------------------

    def time(self, params: p.Params, now: float) -> dict[str, Any]:
        moment = datetime.fromtimestamp(int(now), timezone.utc)
        return {"unixtime": int(now), "rfc1123": moment.strftime("%a, %d %b %y %H:%M:%S +0000")}

    def system_status(self, params: p.Params, now: float) -> dict[str, Any]:
        moment = datetime.fromtimestamp(int(now), timezone.utc)
        return {"status": "online", "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def asset_info(self, params: p.Params, now: float) -> dict[str, Any]:
        return self.assets.answer(p.names(params, "asset"), p.text(params, "aclass"))

    def asset_pairs(self, params: p.Params, now: float) -> dict[str, Any]:
        return self.catalog.asset_pairs(p.names(params, "pair"), p.text(params, "info"))

    def ticker(self, params: p.Params, now: float) -> dict[str, Any]:
        """The simulated pair's ticker, keyed as asked (without ``pair``: every pair Kraken lists, here the one)."""
        keys = [self.catalog.market_key(name) for name in p.names(params, "pair")] or [self.pair.name]
        second = math.floor(now)
        if self._ticker is None or self._ticker[0] != second:
            # everything below is a function of the whole second (the tape's grid): one computation per second
            self._ticker = (second, self._ticker_at(now))
        return {key: self._ticker[1] for key in keys}

    def _ticker_at(self, now: float) -> dict[str, Any]:
        units = self.units
        last = self.path.ticks_at(now)
        book = self.books.book(math.floor(now), last)
        ask, bid = book.asks[0], book.bids[0]
        newest = self.path.prints(float("-inf"), now, 1, True)
        last_lots = newest[0].lots if newest else 0
        today = _merge(self.path.bars(DAY, math.floor(now / DAY) * DAY, now))
        day = _merge(self.path.bars(HOUR, math.floor(now / HOUR) * HOUR - 23 * HOUR, now))
        fallback = Bar(0, last, last, last, last, 0.0, 0, 0)
        today, day = today or fallback, day or fallback
        return {
            "a": [units.market_str(ask.ticks), str(max(1, int(units.volume(ask.lots)))), _lot3(units, ask.lots)],
            "b": [units.market_str(bid.ticks), str(max(1, int(units.volume(bid.lots)))), _lot3(units, bid.lots)],
            "c": [units.market_str(last), units.volume_str(last_lots)],
            "v": [units.volume_str(today.volume), units.volume_str(day.volume)],
            "p": [_vwap(units, today, units.market_places), _vwap(units, day, units.market_places)],
            "t": [today.count, day.count],
            "l": [units.market_str(today.low), units.market_str(day.low)],
            "h": [units.market_str(today.high), units.market_str(day.high)],
            "o": units.market_str(today.open),
        }

    def ohlc(self, params: p.Params, now: float) -> dict[str, Any]:
        key = self._answer_key(params)
        minutes = p.integer(params, "interval", default=1)
        if minutes not in OHLC_INTERVALS:
            raise KrakenError(INVALID_ARGUMENTS)
        interval = minutes * 60
        since = p.integer(params, "since")
        forming = math.floor(now / interval) * interval
        first = forming - (OHLC_ROWS - 1) * interval
        if since is not None:
            first = max(first, (since // interval + 1) * interval)
        units = self.units
        rows = [
            [bar.time, units.price_str(bar.open), units.price_str(bar.high), units.price_str(bar.low),
             units.price_str(bar.close), _vwap(units, bar, self.pair.pair_decimals), units.volume_str(bar.volume),
             bar.count]
            for bar in self.path.bars(interval, first, now)
        ] if first <= forming else []
        return {key: rows, "last": forming - interval}

    def depth(self, params: p.Params, now: float) -> dict[str, Any]:
        key = self._answer_key(params)
        count = p.integer(params, "count", default=100, low=1, high=500)
        assert count is not None
        book = self.books.book(math.floor(now), self.path.ticks_at(now))
        units = self.units
        return {key: {
            side: [[units.market_str(level.ticks), units.volume_str(level.lots), level.time] for level in levels[:count]]
            for side, levels in (("asks", book.asks), ("bids", book.bids))
        }}

    def trades(self, params: p.Params, now: float) -> dict[str, Any]:
        key = self._answer_key(params)
        since = trade_cursor(p.text(params, "since"))
        count = p.integer(params, "count", default=TRADES_ROWS, low=1, high=TRADES_ROWS)
        assert count is not None
        if since is None:  # the newest trades
            prints = self.path.prints(float("-inf"), now, count, True)
        else:  # ``since`` is exclusive
            prints = self.path.prints_after(since, now, count)
        units = self.units
        rows = [[units.market_str(t.ticks), units.volume_str(t.lots), t.time, t.side, t.kind, "", t.id] for t in prints]
        if prints:
            last = prints[-1].cursor
        elif since is not None:
            last = since
        else:
            last = math.floor(now) * 10**9
        return {key: rows, "last": str(last)}

    def spread(self, params: p.Params, now: float) -> dict[str, Any]:
        """Best bid and ask of the recent seconds, ``[time, bid, ask]`` oldest first; ``since`` (seconds) exclusive.

        The book's best ask is the last price and its best bid one tick below (see ``book``), so each
        second's spread follows from the tape alone.
        """
        key = self._answer_key(params)
        since = p.integer(params, "since", low=0)
        end = math.floor(now)
        first = max(self.path.genesis, end - SPREAD_ROWS + 1, (since + 1) if since is not None else 0)
        units = self.units
        rows = []
        for second in range(first, end + 1):
            ticks = self.path.ticks_at(second)
            rows.append([second, units.market_str(ticks - 1), units.market_str(ticks)])
        return {key: rows, "last": rows[-1][0] if rows else (since if since is not None else end)}


def _merge(bars: list[Bar]) -> Bar | None:
    if not bars:
        return None
    volume = sum(b.volume for b in bars)
    vwap = sum(b.vwap * b.volume for b in bars) / volume if volume else 0.0
    return Bar(bars[0].time, bars[0].open, max(b.high for b in bars), min(b.low for b in bars), bars[-1].close,
               vwap, volume, sum(b.count for b in bars))


def _vwap(units: Units, bar: Bar, places: int) -> str:
    """A bar's vwap ("0.0" style zero when nothing traded, as Kraken prints empty bars)."""
    return fixed(units.tick * Decimal(repr(bar.vwap)) if bar.volume else Decimal(0), places)


def _lot3(units: Units, lots: int) -> str:
    return fixed(units.volume(lots), 3)
