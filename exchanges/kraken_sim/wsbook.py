"""The simulator's books as Kraken's WebSocket v2 ``book`` channel publishes them.

Each served pair has a market: the venue's own price path and matching book for the simulated pair
(the book market orders walk), and a seeded path and book of the same kind for every other pair.
The book is a function of the simulator second; when the second advances, every subscribed depth
gets the difference as small update messages spread over that second (``DepthStream``), each
carrying the CRC32 checksum of the book a client holds after applying it and truncating to the
depth. No message leaves a side with fewer levels than the depth, and none crosses the book.
Levels that merely fall below the depth get no delete (Kraken sends none either). REST ``Depth``
for a served pair answers the book of the second last published, which the stream reaches by the
end of that second.
"""

from __future__ import annotations

import math
import random
from bisect import insort
from collections import deque
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zlib import crc32

from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_sim.book import Book, BookMaker
from candlebot.exchanges.kraken_sim.catalog import v2_symbol
from candlebot.exchanges.kraken_sim.market import DAY, HOUR, GeneratedPath, PricePath
from candlebot.exchanges.kraken_sim.units import Units

__all__ = ["DepthStream", "Market", "Mirror", "generated_market", "v2_symbol"]


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


Change = tuple[str, int, int]
"""(side, ticks, lots): one level as a message carries it; lots 0 deletes."""


class DepthStream:
    """One (pair, depth): the client's mirror, and the changes that move it from second to second, spread over time.

    When the simulator second advances, ``plan`` lays out the difference between the mirror and the new
    second's book as small messages, each due at its own moment within the second (Kraken streams changes
    as they happen, not in one burst). ``due`` sends what is due: it applies each message to the mirror
    and stamps the checksum of the book a client then holds, so a subscriber arriving halfway gets a
    snapshot of the mirror and every later message fits it. Every message keeps each side at the depth:
    a level that leaves the book goes out in the same message as the level that takes its place (or is
    pushed below the depth by a better level, as Kraken sends no delete for those), and when the price
    moves, the side it moves into changes first, so the book never crosses on the way.
    """

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
        self._pending: deque[tuple[float, list[Change]]] = deque()

    def load(self, second: int) -> None:
        """Start the mirror at ``second``'s book (a new stream, or after the market skipped ahead)."""
        book = self.market.book(second)
        self.mirror = Mirror(self.depth)
        for side, levels in (("asks", book.asks), ("bids", book.bids)):
            for level in levels[:self.depth]:
                self.mirror.set(side, level.ticks, level.lots)
        self._loaded = second
        self._pending.clear()

    def snapshot(self, second: int) -> dict[str, Any]:
        if self._loaded is None:
            self.load(second)
        return {"symbol": self.market.symbol, "bids": self._levels("bids"), "asks": self._levels("asks"),
                "checksum": self.checksum(), "timestamp": _stamp(float(self._loaded or second))}

    def advance(self, second: int) -> list[dict[str, Any]]:
        """Everything still due, then the whole change to ``second``'s book at once (tests, tools)."""
        messages = self.due(math.inf)
        self.plan(second)
        return messages + self.due(math.inf)

    def plan(self, second: int) -> None:
        """Lay out the change from the mirror to ``second``'s book; send earlier plans (``due``) first."""
        if self._loaded is None:
            self.load(second)
            return
        if second == self._loaded:
            return
        assert not self._pending, "deliver the previous second's messages first"
        book = self.market.book(second)
        target = {"asks": {level.ticks: level.lots for level in book.asks[:self.depth]},
                  "bids": {level.ticks: level.lots for level in book.bids[:self.depth]}}
        rising = bool(book.asks) and bool(self.mirror.ask_prices) and book.asks[0].ticks > self.mirror.ask_prices[0]
        units: list[list[Change]] = []
        for side in (("asks", "bids") if rising else ("bids", "asks")):
            units += self._side_units(side, target[side])
        messages: list[list[Change]] = []
        index = 0
        while index < len(units):
            size = self._rng.randint(1, 3)
            messages.append([change for unit in units[index:index + size] for change in unit])
            index += size
        offsets = sorted(self._rng.random() for _ in messages)
        self._pending.extend((second + offset, changes) for offset, changes in zip(offsets, messages))
        self._loaded = second

    def _side_units(self, side: str, target: dict[int, int]) -> list[list[Change]]:
        """The changes of one side as units that each keep the side at its depth (best prices first)."""
        held = self.mirror.asks if side == "asks" else self.mirror.bids
        better = (lambda a, b: a < b) if side == "asks" else (lambda a, b: a > b)
        key = (lambda t: t) if side == "asks" else (lambda t: -t)
        worst = max(target, key=key) if target else None
        full = len(target) >= self.depth
        # levels that leave: deleted, unless a full target pushes them below the depth (no delete then)
        leaving = sorted((t for t in held if t not in target and not (full and worst is not None and better(worst, t))),
                         key=key)
        entering = sorted((t for t in target if t not in held), key=key)
        changed = [t for t in sorted(target, key=key) if t in held and held[t] != target[t]]
        units: list[list[Change]] = []
        for k in range(max(len(leaving), len(entering))):
            unit: list[Change] = []
            if k < len(leaving):
                unit.append((side, leaving[k], 0))
            if k < len(entering):
                unit.append((side, entering[k], target[entering[k]]))
            units.append(unit)
        units += [[(side, t, target[t])] for t in changed]
        return units

    def due(self, now: float) -> list[dict[str, Any]]:
        """Update messages (``data`` items) due by simulator time ``now``, applied to the mirror in order."""
        messages = []
        while self._pending and self._pending[0][0] <= now:
            at, changes = self._pending.popleft()
            for side, ticks, lots in changes:
                self.mirror.set(side, ticks, lots)
            self.mirror.truncate()
            messages.append({
                "symbol": self.market.symbol,
                "bids": [self._level(t, l) for s, t, l in changes if s == "bids"],
                "asks": [self._level(t, l) for s, t, l in changes if s == "asks"],
                "checksum": self.checksum(),
                "timestamp": _stamp(at),
            })
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
