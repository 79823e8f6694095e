"""The simulator's books as Kraken's WebSocket v2 ``book`` channel publishes them.

Each served pair has a market: the venue's own price path and matching book for the simulated pair
(the book market orders walk), and a seeded path and book of the same kind for every other pair.
The book is a function of the simulator second; when the second advances, every subscribed depth
gets the difference as update messages: first the deletes of levels that left the range (so the
book never crosses on the way), then new and changed levels, a few per message, each message
carrying the CRC32 checksum of the book a client holds after applying it and truncating to the
depth. Levels that merely fall below the depth get no delete (Kraken sends none either). REST
``Depth`` for a served pair answers the last published book, so the REST and WS views agree.
"""

from __future__ import annotations

import math
import random
from bisect import insort
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zlib import crc32

from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_sim.book import Book, BookMaker
from candlebot.exchanges.kraken_sim.market import DAY, HOUR, GeneratedPath, PricePath
from candlebot.exchanges.kraken_sim.units import Units

_V2_ASSETS = {"XBT": "BTC", "XDG": "DOGE"}


def v2_symbol(wsname: str) -> str:
    return "/".join(_V2_ASSETS.get(asset, asset) for asset in wsname.split("/"))


def _text(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}".replace(".", "").lstrip("0")


class Mirror:
    """The book a client holds at one depth: integer ticks -> lots, truncated after every message."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.asks: dict[int, int] = {}
        self.bids: dict[int, int] = {}
        self.ask_prices: list[int] = []  # ascending
        self.bid_prices: list[int] = []  # descending, stored negated ascending

    def set(self, side: str, ticks: int, lots: int) -> None:
        levels, prices, key = (self.asks, self.ask_prices, ticks) if side == "asks" else (self.bids, self.bid_prices, -ticks)
        if lots == 0:
            if ticks in levels:
                del levels[ticks]
                prices.remove(key)
            return
        if ticks not in levels:
            insort(prices, key)
        levels[ticks] = lots

    def truncate(self) -> None:
        for levels, prices, sign in ((self.asks, self.ask_prices, 1), (self.bids, self.bid_prices, -1)):
            for key in prices[self.depth:]:
                del levels[key * sign]
            del prices[self.depth:]

    def top(self, side: str, count: int) -> list[tuple[int, int]]:
        if side == "asks":
            return [(t, self.asks[t]) for t in self.ask_prices[:count]]
        return [(-k, self.bids[-k]) for k in self.bid_prices[:count]]


class Market:
    """One pair's path and book over simulator time."""

    def __init__(self, pair: PairInfo, path: PricePath, books: BookMaker) -> None:
        self.pair = pair
        self.symbol = v2_symbol(pair.wsname)
        self.units = Units(pair)
        self.path = path
        self.books = books
        self.published: int | None = None  # the simulator second last published

    def book(self, second: int) -> Book:
        return self.books.book(second, self.path.ticks_at(second))

    def depth_reply(self, count: int, fallback_second: int) -> dict[str, Any]:
        """REST Depth rows of the last published book (or of ``fallback_second`` before any)."""
        second = self.published if self.published is not None else fallback_second
        book = self.book(second)
        units = self.units
        return {self.pair.name: {
            side: [[units.market_str(level.ticks), units.volume_str(level.lots), level.time] for level in levels[:count]]
            for side, levels in (("asks", book.asks), ("bids", book.bids))}}


def generated_market(pair: PairInfo, *, seed: int, origin: float, history_days: int, price: Decimal,
                     trade_lots: float) -> Market:
    """A market of the venue's kind for a pair the venue does not trade."""
    base_ticks = max(100, int(price / pair.tick_size))
    genesis = math.floor(origin / HOUR) * HOUR - history_days * DAY
    path = GeneratedPath(seed=seed, base_ticks=base_ticks, mean_lots=trade_lots, genesis=genesis)
    books = BookMaker(seed=seed, mean_lots=50 * trade_lots, min_lots=max(1, int(pair.ordermin.scaleb(pair.lot_decimals))))
    return Market(pair, path, books)


class DepthStream:
    """One (pair, depth): the client's mirror and the update messages that move it from second to second."""

    def __init__(self, market: Market, depth: int, rng: random.Random) -> None:
        self.market = market
        self.depth = depth
        self.mirror = Mirror(depth)
        self._rng = rng
        units = market.units
        self._price_places = market.pair.pair_decimals
        self._qty_places = market.pair.lot_decimals
        self._tick = units.tick
        self._loaded: int | None = None

    def load(self, second: int) -> None:
        """Start the mirror at ``second``'s book (a new stream, or after the market skipped ahead)."""
        book = self.market.book(second)
        self.mirror = Mirror(self.depth)
        for side, levels in (("asks", book.asks), ("bids", book.bids)):
            for level in levels[:self.depth]:
                self.mirror.set(side, level.ticks, level.lots)
        self._loaded = second

    def snapshot(self, second: int) -> dict[str, Any]:
        if self._loaded is None:
            self.load(second)
        return {"symbol": self.market.symbol, "bids": self._levels("bids"), "asks": self._levels("asks"),
                "checksum": self.checksum(), "timestamp": _stamp(float(self._loaded or second))}

    def advance(self, second: int) -> list[dict[str, Any]]:
        """Update messages (``data`` items) from the mirror's book to ``second``'s."""
        if self._loaded is None:
            self.load(second)
            return []
        book = self.market.book(second)
        changes: list[tuple[str, int, int]] = []
        inserts: list[tuple[str, int, int]] = []
        for side, levels in (("asks", book.asks), ("bids", book.bids)):
            new = {level.ticks: level.lots for level in levels[:self.depth]}
            worst = max(new) if side == "asks" else min(new)
            old = self.mirror.asks if side == "asks" else self.mirror.bids
            for ticks in old:
                inside = ticks <= worst if side == "asks" else ticks >= worst
                if inside and ticks not in new:
                    changes.append((side, ticks, 0))
            inserts += [(side, ticks, lots) for ticks, lots in new.items() if old.get(ticks) != lots]
        changes += inserts
        messages = []
        start = 0
        index = 0
        while start < len(changes):
            size = self._rng.randint(1, 4)
            chunk = changes[start:start + size]
            start += size
            for side, ticks, lots in chunk:
                self.mirror.set(side, ticks, lots)
            self.mirror.truncate()
            messages.append({
                "symbol": self.market.symbol,
                "bids": [self._level(t, l) for s, t, l in chunk if s == "bids"],
                "asks": [self._level(t, l) for s, t, l in chunk if s == "asks"],
                "checksum": self.checksum(),
                "timestamp": _stamp(second + index * 1e-4),
            })
            index += 1
        self._loaded = second
        return messages

    def checksum(self) -> int:
        parts = []
        for side in ("asks", "bids"):
            for ticks, lots in self.mirror.top(side, 10):
                parts.append(_text(self._tick * ticks, self._price_places)
                             + _text(Decimal(lots).scaleb(-self._qty_places), self._qty_places))
        return crc32("".join(parts).encode())

    def _level(self, ticks: int, lots: int) -> dict[str, float]:
        return {"price": float(self._tick * ticks), "qty": float(Decimal(lots).scaleb(-self._qty_places))}

    def _levels(self, side: str) -> list[dict[str, float]]:
        return [self._level(t, l) for t, l in self.mirror.top(side, self.depth)]


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
