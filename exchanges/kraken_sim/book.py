"""A synthetic order book around the last trade price, and walking it for market orders.

The best ask is the last price and the best bid one tick below (``best bid <
last <= best ask``, the tightest spread the pair allows). Deeper levels are
1-3 ticks apart with exponential sizes, drawn from an RNG seeded by (seed,
simulator second, last price): the same book for every call within a second,
reproducible across runs. The account's own resting orders are not shown: the
simulated market is exogenous (our orders never move it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 500


@dataclass(frozen=True, slots=True)
class Level:
    ticks: int
    lots: int
    time: int


@dataclass(frozen=True, slots=True)
class Book:
    """Asks lowest first, bids highest first."""

    asks: tuple[Level, ...]
    bids: tuple[Level, ...]


class BookMaker:
    """Builds the book for a (second, last price); keeps the latest one (it is asked for repeatedly)."""

    def __init__(self, *, seed: int, mean_lots: float, min_lots: int) -> None:
        self.seed = seed
        self.mean_lots = max(1.0, mean_lots)
        self.min_lots = max(1, min_lots)
        self._last: tuple[tuple[int, int], Book] | None = None

    def book(self, second: int, last_ticks: int) -> Book:
        key = (second, last_ticks)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        rng = np.random.default_rng([self.seed, 7, second & 0xFFFFFFFF, last_ticks])
        sides = []
        for best, sign in ((last_ticks, 1), (last_ticks - 1, -1)):
            gaps = np.concatenate(([0], rng.integers(1, 4, MAX_DEPTH - 1)))
            prices = best + sign * np.cumsum(gaps)
            lots = np.maximum(self.min_lots, np.rint(rng.exponential(self.mean_lots, MAX_DEPTH))).astype(np.int64)
            ages = rng.integers(0, 30, MAX_DEPTH)
            sides.append(tuple(Level(int(p), int(v), second - int(a)) for p, v, a in zip(prices, lots, ages) if p > 0))
        book = Book(asks=sides[0], bids=sides[1])
        self._last = (key, book)
        return book


def walk(levels: tuple[Level, ...], lots: int) -> list[tuple[int, int]]:
    """(ticks, lots) taken from ``levels`` in order to fill ``lots``; beyond the book, the last level's price."""
    fills = []
    left = lots
    for level in levels:
        if left <= 0:
            break
        take = min(left, level.lots)
        fills.append((level.ticks, take))
        left -= take
    if left > 0:
        fills.append((levels[-1].ticks, left))
    return fills
