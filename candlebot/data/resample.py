"""Coarser candles from finer ones, or from trades, in one vectorised pass.

A bucket is ``floor(time / period) * period`` (UTC-aligned): open of the first
bar, max high, min low, close of the last, summed volume. Empty buckets
produce no candle, exactly like the tick-by-tick ``Chart.update``.
"""

from __future__ import annotations

import numpy as np

from candlebot.data.candlefile import CandleColumns, TradeColumns
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
    return _aggregate(candles.times, candles.opens, candles.highs, candles.lows, candles.closes, candles.volumes, period)


def candles_from_trades(trades: TradeColumns, period: int) -> CandleColumns:
    """Candles of ``period`` seconds from trades (time, price, volume), in time order."""
    if len(trades.times) == 0:
        empty = np.empty(0)
        return CandleColumns(empty.astype(np.int64), empty, empty, empty, empty, empty)
    prices = trades.prices  # a trade is a candle whose open, high, low and close are its price
    return _aggregate(np.floor(trades.times).astype(np.int64), prices, prices, prices, prices, trades.volumes, period)


def _aggregate(times: np.ndarray, opens: np.ndarray, highs: np.ndarray, lows: np.ndarray, closes: np.ndarray,
               volumes: np.ndarray, period: int) -> CandleColumns:
    """Rows (ascending times) into ``period``-second buckets: first open, max high, min low, last close, summed volume."""
    buckets = (times // period) * period
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], len(buckets)] - 1
    return CandleColumns(
        times=buckets[starts],
        opens=opens[starts],
        highs=np.maximum.reduceat(highs, starts),
        lows=np.minimum.reduceat(lows, starts),
        closes=closes[ends],
        volumes=np.add.reduceat(volumes, starts),
    )
