"""A pair's candles at one period, as columns.

Columns are ``array('d')`` rather than lists or numpy arrays: a strategy reads
``chart.closes[i]`` at C speed and gets a plain float, and a million candles
cost 8 MB per column instead of 32.
Backtests load the whole series at once; a live bot appends one candle per
period and keeps a bounded history.
"""

from __future__ import annotations

import math
from array import array
from typing import Iterator

import numpy as np

from candlebot.candle import Candle
from candlebot.errors import ConfigError



MAX_PERIOD_MINUTES = 525_600  # a year: longer candles are a typo (and 1e308 * 60 is inf)


def period_seconds(minutes: float) -> int:
    """``-p`` minutes (fractions allowed: 0.05 = 3 s) as whole seconds; ConfigError otherwise."""
    if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and minutes > 0):
        raise ConfigError(f"candle period must be a positive number of minutes, got {minutes!r}")
    if minutes > MAX_PERIOD_MINUTES:
        raise ConfigError(f"candle period must be at most {MAX_PERIOD_MINUTES} minutes (a year), got {minutes:g}")
    seconds = minutes * 60
    whole = round(seconds)
    if whole < 1 or abs(seconds - whole) > 1e-4:
        raise ConfigError(f"candle period {minutes} min is not a whole number of seconds (e.g. 0.05 = 3 s, 1/60 = 1 s)")
    return whole


class Chart:
    """Closed candles of one pair at one period, plus the candle still forming from ticks.

    ``update(price, volume, ts)`` folds a tick into the forming candle and
    returns the candle it closed, if the tick belongs to a later period.
    Boundaries are UTC-aligned: ``floor(ts / period) * period``. Periods with
    no ticks produce no candle: gaps stay gaps (see ``gaps()``).
    """

    def __init__(self, pair: str, period: int) -> None:
        if period < 1:
            raise ConfigError("candle period must be at least one second")
        self.pair = pair
        self.period = period
        self.times = array("q")
        self.opens = array("d")
        self.highs = array("d")
        self.lows = array("d")
        self.closes = array("d")
        self.volumes = array("d")
        self._forming: list[float] | None = None  # [start, open, high, low, close, volume]

    @classmethod
    def from_arrays(
        cls, pair: str, period: int, times: np.ndarray, opens: np.ndarray, highs: np.ndarray,
        lows: np.ndarray, closes: np.ndarray, volumes: np.ndarray,
    ) -> Chart:
        chart = cls(pair, period)
        # straight from the arrays' memory (a cache map included): no intermediate bytes copy
        chart.times.frombytes(memoryview(np.ascontiguousarray(times, dtype=np.int64)).cast("B"))
        for column, values in zip(chart._columns(), (opens, highs, lows, closes, volumes)):
            column.frombytes(memoryview(np.ascontiguousarray(values, dtype=np.float64)).cast("B"))
        return chart

    def __len__(self) -> int:
        return len(self.times)

    def __getitem__(self, i: int) -> Candle:
        return Candle(self.times[i], self.opens[i], self.highs[i], self.lows[i], self.closes[i], self.volumes[i])

    def __iter__(self) -> Iterator[Candle]:
        return (self[i] for i in range(len(self)))

    def _columns(self) -> tuple[array, ...]:
        return (self.opens, self.highs, self.lows, self.closes, self.volumes)

    def append(self, candle: Candle) -> None:
        if self.times and candle.time <= self.times[-1]:
            raise ValueError(f"candle at {candle.time} is not after the last one ({self.times[-1]})")
        if candle.time % self.period:
            raise ValueError(f"candle time {candle.time} is not aligned to the {self.period}s period")
        self.times.append(candle.time)
        self.opens.append(candle.open)
        self.highs.append(candle.high)
        self.lows.append(candle.low)
        self.closes.append(candle.close)
        self.volumes.append(candle.volume)

    def drop_front(self, count: int) -> None:
        """Forget the oldest ``count`` candles (bounded history in long-running bots)."""
        for column in (self.times, *self._columns()):
            del column[:count]

    @property
    def forming(self) -> Candle | None:
        """The candle being built from ticks, not yet closed."""
        if self._forming is None:
            return None
        start, o, h, low, c, v = self._forming
        return Candle(int(start), o, h, low, c, v)

    def update(self, price: float, volume: float, ts: float) -> Candle | None:
        """Fold one tick in; return the candle this tick closed, if any. Ticks older than the forming candle are ignored."""
        if not (math.isfinite(price) and price > 0 and math.isfinite(volume) and volume >= 0):
            raise ValueError(f"bad tick: price={price!r} volume={volume!r}")
        start = (int(ts) // self.period) * self.period
        forming = self._forming
        if forming is None:
            if self.times and start <= self.times[-1]:
                return None
            self._forming = [start, price, price, price, price, volume]
            return None
        if start == forming[0]:
            if price > forming[2]:
                forming[2] = price
            elif price < forming[3]:
                forming[3] = price
            forming[4] = price
            forming[5] += volume
            return None
        if start < forming[0]:
            return None
        closed = self.close_forming()
        self._forming = [start, price, price, price, price, volume]
        return closed

    def close_forming(self) -> Candle | None:
        """Close the forming candle now (its period is over although no later tick came)."""
        if self._forming is None:
            return None
        candle = self.forming
        self._forming = None
        assert candle is not None
        self.append(candle)
        return candle

    def discard_forming(self) -> None:
        """Drop the candle being built (a bot back from an outage replaces it with the exchange's bar)."""
        self._forming = None

    def gaps(self) -> list[tuple[int, int]]:
        """Missing periods as (first missing open time, next present open time) pairs."""
        times = np.frombuffer(self.times, dtype=np.int64) if self.times else np.empty(0, dtype=np.int64)
        holes = np.nonzero(np.diff(times) > self.period)[0]
        result = [(int(times[k]) + self.period, int(times[k + 1])) for k in holes]
        del times
        return result
