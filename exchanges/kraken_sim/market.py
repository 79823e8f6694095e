"""The simulated market's price path, and the generated (seeded random-walk) one.

A path is a tape of trades on a grid of simulator seconds (``step`` apart):
each grid point is one public trade with a price in integer ticks and a
volume in integer lots (units of the pair's lot decimals). Everything the
public API shows is derived from that tape, so the ticker's last price, the
newest trade and the forming candle's close always agree, and every price is
on the pair's tick. Integer units also keep volume sums exact.

``GeneratedPath`` is a deterministic function of (seed, second): the log
price is a slow daily level (linear between seeded daily knots) plus an
hourly knot, joined within each hour by a seeded Brownian bridge with about
0.01% noise per second (~3 USD at 30000), so that seconds-long candles differ.
Any hour can be computed on its own, in any order, by any process.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

HOUR = 3600
DAY = 86400


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLC row: prices in ticks, volume in lots, ``vwap`` in ticks (0.0 when nothing traded)."""

    time: int
    open: int
    high: int
    low: int
    close: int
    vwap: float
    volume: int
    count: int


@dataclass(frozen=True, slots=True)
class Print:
    """One public trade of the tape."""

    id: int
    time: float
    ticks: int
    lots: int
    side: str  # "b" or "s": the taker's side
    kind: str  # "m" market or "l" limit
    cursor: int  # Trades' ``since``/``last``: nanoseconds, unique and increasing along the tape


class PricePath(Protocol):
    """What the public endpoints and the matching need from a market."""

    genesis: int
    """First simulator second with data: nothing exists before it."""

    def ticks_at(self, t: float) -> int:
        """The last trade price at simulator time ``t`` (in ticks)."""
        ...

    def bars(self, interval: int, first: int, end: float) -> list[Bar]:
        """Bars of ``interval`` seconds opening at ``first``, ``first + interval`` ... up to ``end``.

        The last bar is cut at ``end`` (still forming); bars without trades are
        flat at the previous close with zero volume, as Kraken's REST OHLC fills them.
        """
        ...

    def extremes(self, after: float, until: float) -> tuple[int, int] | None:
        """(lowest, highest) trade price in (after, until], or None when nothing traded."""
        ...

    def prints(self, after: float, until: float, limit: int, newest: bool) -> list[Print]:
        """Trades in (after, until], oldest first: the first ``limit`` of them, or the last when ``newest``."""
        ...

    def prints_after(self, cursor: int, until: float, limit: int) -> list[Print]:
        """The first ``limit`` trades whose ``cursor`` is above ``cursor`` (Trades' ``since``), up to ``until``."""
        ...


class GeneratedPath:
    """A seeded random walk, one trade per second, around ``base_ticks``.

    Hours are computed lazily (3600 normal draws each) and kept in a small
    LRU; per-hour summaries are cached for long intervals.
    """

    step = 1
    DAY_SIGMA = 0.025      # std of the daily level knots (log)
    HOUR_SIGMA = 0.004     # std of the hourly knots around the daily level
    SECOND_SIGMA = 0.0001  # per-second noise of the bridge

    def __init__(self, *, seed: int, base_ticks: int, mean_lots: float, genesis: int, cache_hours: int = 96) -> None:
        if base_ticks < 100:
            raise ValueError("base price must be at least 100 ticks")
        self.seed = seed
        self.base_ticks = base_ticks
        self.mean_lots = max(1.0, mean_lots)
        self.genesis = genesis
        self._cache_hours = cache_hours
        self._blocks: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._hours: dict[int, tuple[int, int, int, int, int, int]] = {}
        self._days: dict[int, float] = {}

    # -- the path -------------------------------------------------------------------------------------------

    def _normal(self, tag: int, index: int) -> float:
        return float(np.random.default_rng([self.seed, tag, index]).standard_normal())

    def _day_level(self, day: int) -> float:
        level = self._days.get(day)
        if level is None:
            level = self._days[day] = self.DAY_SIGMA * self._normal(1, day)
        return level

    def _knot(self, hour: int) -> float:
        day, into = divmod(hour, 24)
        slow = self._day_level(day) + (self._day_level(day + 1) - self._day_level(day)) * into / 24
        return slow + self.HOUR_SIGMA * self._normal(2, hour)

    def _block(self, hour: int) -> tuple[np.ndarray, np.ndarray]:
        """(ticks, lots) of the 3600 seconds of ``hour`` (unix hour index)."""
        block = self._blocks.get(hour)
        if block is not None:
            self._blocks.move_to_end(hour)
            return block
        rng = np.random.default_rng([self.seed, 3, hour])
        walk = np.concatenate(([0.0], np.cumsum(rng.standard_normal(HOUR)) * self.SECOND_SIGMA))
        along = np.arange(HOUR + 1) / HOUR
        start, end = self._knot(hour), self._knot(hour + 1)
        log_level = start + (end - start) * along + walk - along * walk[-1]
        ticks = np.maximum(1, np.rint(self.base_ticks * np.exp(log_level[:HOUR]))).astype(np.int64)
        lots = np.maximum(1, np.rint(rng.exponential(self.mean_lots, HOUR))).astype(np.int64)
        block = (ticks, lots)
        self._blocks[hour] = block
        if len(self._blocks) > self._cache_hours:
            self._blocks.popitem(last=False)
        return block

    def _tick(self, second: int) -> int:
        ticks, _ = self._block(second // HOUR)
        return int(ticks[second % HOUR])

    # -- PricePath ------------------------------------------------------------------------------------------

    def ticks_at(self, t: float) -> int:
        return self._tick(max(self.genesis, math.floor(t)))

    def _stats(self, first: int, stop: int) -> tuple[int, int, int, int, int, int] | None:
        """(open, high, low, close, lots, ticks*lots) over seconds [first, stop), or None if empty."""
        first = max(first, self.genesis)
        if stop <= first:
            return None
        parts = []
        second = first
        while second < stop:
            hour = second // HOUR
            lo, hi = second - hour * HOUR, min(stop - hour * HOUR, HOUR)
            if lo == 0 and hi == HOUR:
                parts.append(self._hour_stats(hour))
            else:
                parts.append(self._slice_stats(hour, lo, hi))
            second = hour * HOUR + hi
        return (parts[0][0], max(p[1] for p in parts), min(p[2] for p in parts), parts[-1][3],
                sum(p[4] for p in parts), sum(p[5] for p in parts))

    def _slice_stats(self, hour: int, lo: int, hi: int) -> tuple[int, int, int, int, int, int]:
        ticks, lots = self._block(hour)
        t, v = ticks[lo:hi], lots[lo:hi]
        return int(t[0]), int(t.max()), int(t.min()), int(t[-1]), int(v.sum()), int(np.dot(t, v))

    def _hour_stats(self, hour: int) -> tuple[int, int, int, int, int, int]:
        stats = self._hours.get(hour)
        if stats is None:
            stats = self._hours[hour] = self._slice_stats(hour, 0, HOUR)
        return stats

    def bars(self, interval: int, first: int, end: float) -> list[Bar]:
        stop = math.floor(end) + 1
        out = []
        for start in range(first, stop, interval):
            stats = self._stats(start, min(start + interval, stop))
            if stats is not None:
                o, h, l, c, lots, pv = stats
                out.append(Bar(start, o, h, l, c, pv / lots, lots, min(start + interval, stop) - max(start, self.genesis)))
        return out

    def extremes(self, after: float, until: float) -> tuple[int, int] | None:
        stats = self._stats(math.floor(after) + 1, math.floor(until) + 1)
        return None if stats is None else (stats[2], stats[1])

    def prints_after(self, cursor: int, until: float, limit: int) -> list[Print]:
        return self.prints(cursor // 10**9, until, limit, False)  # one trade per second: cursor = second * 1e9

    def prints(self, after: float, until: float, limit: int, newest: bool) -> list[Print]:
        first = max(self.genesis, math.floor(after) + 1) if math.isfinite(after) else self.genesis
        stop = math.floor(until) + 1
        if newest:
            first = max(first, stop - limit)
        else:
            stop = min(stop, first + limit)
        out = []
        previous = self._tick(max(self.genesis, first - 1))
        for second in range(first, stop):
            ticks, lots = self._block(second // HOUR)
            price, volume = int(ticks[second % HOUR]), int(lots[second % HOUR])
            out.append(Print(second - self.genesis + 1, float(second), price, volume,
                             "b" if price >= previous else "s", "l" if volume % 3 == 0 else "m", second * 10**9))
            previous = price
        return out
