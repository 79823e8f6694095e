"""Warm-up history: the latest closed candles of any period, from what an exchange serves.

Kraken serves OHLC candles only at a few intervals, and none below a minute. A
period of whole minutes is resampled from the largest interval that divides it;
a shorter one is built from the recent public trades, with a flat candle for
every period without a trade, as Kraken's OHLC and the running bot make them.
Either way the oldest bucket may be only partly covered and the newest may
still be forming: both are left out, so a bot warms its indicators up on whole
candles only.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from candlebot.candle import Candle
from candlebot.data.candlefile import CandleColumns, TradeColumns
from candlebot.data.gaps import extend_flat, fill_gaps
from candlebot.data.resample import candles_from_trades, resample

KRAKEN_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)  # minutes: the OHLC intervals Kraken serves


def latest_closed_candles(
    period: int,
    count: int,
    now: float,
    *,
    ohlc: Callable[[int, int], Sequence[Candle]],
    trades: Callable[[], Sequence[tuple[float, float, float]]],
    intervals: Sequence[int] = KRAKEN_INTERVALS,
    max_rows: int = 720,
) -> list[Candle]:
    """The latest ``count`` candles of ``period`` seconds closed by ``now``.

    ``ohlc(interval_minutes, rows)`` returns the latest closed candles of a served interval (at most
    ``max_rows``); ``trades()`` the recent trades as (time, price, volume), for sub-minute periods.
    """
    if period % 60 == 0:
        minutes = period // 60
        interval = max(i for i in intervals if minutes % i == 0)
        # two buckets to spare: the oldest may be partly covered and the newest may still be forming
        raw = ohlc(interval, min((count + 2) * (minutes // interval), max_rows))
        if not raw:
            return []
        columns = CandleColumns(np.array([c.time for c in raw], dtype=np.int64),
                                *(np.array([getattr(c, f) for c in raw]) for f in ("open", "high", "low", "close", "volume")))
        candles = resample(columns, period) if interval != minutes else columns
        if len(candles) and columns.times[0] != candles.times[0]:
            candles = candles.between(candles.times[0] + 1, None)  # the oldest bucket is only partly covered
    else:
        recent = trades()
        if not recent:
            return []
        candles = candles_from_trades(TradeColumns(*(np.array(column, dtype=float) for column in zip(*recent))), period)
        candles = candles.between(candles.times[0] + 1, None)  # the first period is only partly covered
        # a period without trades is a flat candle, as the running bot's polls make it (up to the last closed one)
        last = int(now) // period * period - period
        candles = extend_flat(fill_gaps(_window(candles, period, last - count * period), period).candles, period, last)
    complete = candles.between(None, (int(now) // period) * period)  # the current period is still forming
    rows = zip(*(c.tolist() for c in (complete.times, complete.opens, complete.highs, complete.lows, complete.closes,
                                        complete.volumes)))
    return [Candle(int(t), o, h, l, c, v) for t, o, h, l, c, v in rows][-count:]


def _window(candles: CandleColumns, period: int, first: int) -> CandleColumns:
    """``candles`` from ``first`` on, the period before it standing for all that came before: a flat candle at the
    last close when it had no trade. The warm-up needs only the last candles, and filling from a trade of a pair
    quiet for months would make a flat candle of every second since (gigabytes at 1 s candles)."""
    older, recent = candles.between(None, first - period), candles.between(first - period, None)
    if not len(older) or (len(recent) and recent.times[0] == first - period):
        return recent if len(older) else candles
    close = older.closes[-1:]
    seed = CandleColumns(np.array([first - period], dtype=np.int64), close, close, close, close, np.zeros(1))
    return CandleColumns(*(np.r_[a, b] for a, b in zip(seed._columns(), recent._columns())))
