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


_FEW_GAPS = 256  # up to this many gaps, columns are joined from whole runs; beyond, scattered


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
    if (steps == period).all():
        return FilledCandles(candles, 0, 0)
    after = np.flatnonzero(steps != period)  # rows followed by a gap
    missing = steps[after] // period - 1
    cuts = np.r_[0, after + 1, len(times)]
    if len(after) <= _FEW_GAPS:  # copy the runs between gaps whole: a few memcpy's per column
        def column(values: np.ndarray, carry: bool) -> np.ndarray:
            parts = []
            for k, gap in enumerate(missing):
                parts.append(values[cuts[k] : cuts[k + 1]])
                parts.append(np.full(int(gap), candles.closes[after[k]] if carry else 0.0))
            parts.append(values[cuts[-2] :])
            return np.concatenate(parts)
    else:  # many gaps (a thin pair): scatter the real rows, then the flat ones
        positions = (times - times[0]) // period
        real = np.zeros(int(positions[-1]) + 1, dtype=bool)
        real[positions] = True
        holes = np.flatnonzero(~real)
        carried = candles.closes[np.searchsorted(positions, holes) - 1]  # the close of the real row before each hole

        def column(values: np.ndarray, carry: bool) -> np.ndarray:
            out = np.empty(int(positions[-1]) + 1, dtype=values.dtype)
            out[positions] = values
            out[holes] = carried if carry else 0.0
            return out

    closes = column(candles.closes, True)
    filled = CandleColumns(times[0] + period * np.arange(len(closes), dtype=np.int64), column(candles.opens, True),
                           column(candles.highs, True), column(candles.lows, True), closes,
                           column(candles.volumes, False))
    return FilledCandles(filled, int(missing.sum()), int(missing.max()))


def extend_flat(candles: CandleColumns, period: int, last: int) -> CandleColumns:
    """``candles`` with flat candles at the last close after the newest one, up to the candle opening at ``last``:
    periods that closed without a trade since (a bot's warm-up built from recent trades)."""
    if not len(candles) or candles.times[-1] >= last:
        return candles
    extra = (last - int(candles.times[-1])) // period
    close = np.full(extra, candles.closes[-1])
    times = candles.times[-1] + period * np.arange(1, extra + 1, dtype=np.int64)
    return CandleColumns(np.r_[candles.times, times], np.r_[candles.opens, close], np.r_[candles.highs, close],
                         np.r_[candles.lows, close], np.r_[candles.closes, close], np.r_[candles.volumes, np.zeros(extra)])
