"""One candle convention: a period without trades is a flat candle, as a polling bot and Kraken's REST OHLC make it.

Kraken's downloadable OHLCVT archives (and candles built from trades) write a bar only when something traded.
A bot polling the ticker makes a candle every period whatever happens, flat at the last price with volume 0 when
nothing traded, and Kraken's REST OHLC serves the same flat bars. A backtest that skips those periods fills at the
next row of the file, which can be an hour later than the bot's fill. So every candle a backtest, the resampler's
callers, ``download`` or ``data list`` make is first filled here, at the data's own resolution, before any
resampling: open = high = low = close = the previous close, volume 0. Nothing is invented before the first candle
or after the last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from candlebot.data.candlefile import CandleColumns
from candlebot.errors import DataFileError


@dataclass(frozen=True)
class FilledCandles:
    """The candles with every gap filled, and what the filling did (for summaries and ``--json``)."""

    candles: CandleColumns
    filled: int  # flat candles added
    longest_run: int  # the most consecutive flat candles added in one gap


def fill_gaps(candles: CandleColumns, period: int) -> FilledCandles:
    """``candles`` (times ascending, on a grid of ``period`` seconds) without gaps; vectorised, one pass."""
    times = candles.times
    if len(times) < 2:
        return FilledCandles(candles, 0, 0)
    steps = np.diff(times)
    if (steps % period).any():
        k = int(np.flatnonzero(steps % period)[0])
        raise DataFileError(f"candle at {int(times[k + 1])} is not on the {period} s grid of the candles before it")
    counts = steps // period  # candles from each row up to the next one, itself included
    if (counts == 1).all():
        return FilledCandles(candles, 0, 0)
    counts = np.r_[counts, 1]
    source = np.repeat(np.arange(len(times)), counts)  # the real row each output row comes from
    out_times = times[0] + period * np.arange(len(source), dtype=np.int64)
    real = out_times == times[source]
    closes = candles.closes[source]  # a filled candle carries the close of the real one before it

    def column(values: np.ndarray) -> np.ndarray:
        return np.where(real, values[source], closes)

    filled = CandleColumns(out_times, column(candles.opens), column(candles.highs), column(candles.lows), closes,
                           np.where(real, candles.volumes[source], 0.0))
    return FilledCandles(filled, int(len(source) - len(times)), int(counts.max() - 1))
