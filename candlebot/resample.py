"""Coarser candles from finer ones, or from trades, in one vectorised pass.

A bucket is ``floor(time / period) * period`` (UTC-aligned): open of the first
bar, max high, min low, close of the last, summed volume. Empty buckets
produce no candle, exactly like the tick-by-tick ``Chart.update``.
"""

from __future__ import annotations

import numpy as np

from candlebot.candlefile import CandleColumns, TradeColumns
from candlebot.errors import ConfigError


def resample(candles: CandleColumns, period: int) -> CandleColumns:
    """Aggregate to ``period`` seconds; the source period must divide it."""
    native = candles.native_period()
    if native is not None and native != period:
        if period < native:
            raise ConfigError(f"cannot make {period}s candles from a file of {native}s candles (-p must be >= the file's period)")
        if period % native:
            raise ConfigError(f"-p of {period}s is not a multiple of the file's {native}s candles")
    if native == period:
        return candles
    buckets, starts, ends = _buckets(candles.times, period)
    return CandleColumns(
        times=buckets[starts],
        opens=candles.opens[starts],
        highs=np.maximum.reduceat(candles.highs, starts),
        lows=np.minimum.reduceat(candles.lows, starts),
        closes=candles.closes[ends],
        volumes=np.add.reduceat(candles.volumes, starts),
    )


def candles_from_trades(trades: TradeColumns, period: int) -> CandleColumns:
    """Candles of ``period`` seconds from trades (time, price, volume), in time order."""
    if len(trades.times) == 0:
        empty = np.empty(0)
        return CandleColumns(empty.astype(np.int64), empty, empty, empty, empty, empty)
    buckets, starts, ends = _buckets(np.floor(trades.times).astype(np.int64), period)
    return CandleColumns(
        times=buckets[starts],
        opens=trades.prices[starts],
        highs=np.maximum.reduceat(trades.prices, starts),
        lows=np.minimum.reduceat(trades.prices, starts),
        closes=trades.prices[ends],
        volumes=np.add.reduceat(trades.volumes, starts),
    )


def _buckets(times: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's bucket start, and the first and last row of every bucket (times ascending)."""
    buckets = (times // period) * period
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], len(buckets)] - 1
    return buckets, starts, ends
