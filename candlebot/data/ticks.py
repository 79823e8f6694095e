"""Tick-true candle prices: what a backtest's indicators see is what the bot's chart holds.

Kraken (and the simulator) quote every price on the pair's tick, but files built elsewhere, or resampled from
another venue, carry off-tick prices, and an indicator on raw prices crosses at other candles than the bot's.
A price becomes ``k × tick`` with ``k`` = ``price / tick`` rounded half to even, as the simulator's replay rounds.
The float kept is the double nearest to the decimal ``k × tick``, the value parsing Kraken's decimal string gives:
``k / 10`` for a 0.1 tick, never ``k * 0.1`` (the two differ in the last bit, and that flips exact ties between
moving averages). Done once, when the candles are loaded; vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from candlebot.data.candlefile import CandleColumns
from candlebot.errors import ConfigError


@dataclass(frozen=True)
class RoundedCandles:
    candles: CandleColumns
    changed: int  # candles where any of open, high, low, close moved


def on_tick(prices: np.ndarray, tick: Decimal, out: np.ndarray | None = None) -> np.ndarray:
    """``prices`` on the tick (round half to even on price/tick), each the double nearest to its decimal value.

    ``out`` (may be ``prices`` itself) receives the result: one array per column, no temporaries."""
    out = np.divide(prices, float(tick), out=out)
    np.rint(out, out=out)
    _, digits, exponent = tick.normalize().as_tuple()
    multiple = int("".join(map(str, digits)))  # tick = multiple × 10^exponent, exactly
    assert isinstance(exponent, int)
    if exponent >= 0:
        return np.multiply(out, float(multiple * 10**exponent), out=out)  # integers times an integer: exact below 2^53
    if multiple != 1:
        np.multiply(out, multiple, out=out)  # still an exact integer
    return np.divide(out, float(10**-exponent), out=out)  # one correctly rounded division of exact integers


def round_to_tick(candles: CandleColumns, tick: Decimal, *, in_place: bool = False) -> RoundedCandles:
    """The candles' prices on ``tick``; ConfigError when a price would round to zero (the pair does not fit).

    ``in_place``: the price columns are the caller's own (not a read-only cache map) and are overwritten.
    Otherwise new columns are made only when a price moved."""
    scratch = np.empty(len(candles))
    on_tick(candles.lows, tick, out=scratch)
    if len(candles) and (scratch <= 0).any():
        k = int(np.argmax(scratch <= 0))
        raise ConfigError(f"a price of {float(candles.lows[k])!r} at {int(candles.times[k])} is below half the pair's "
                          f"{tick} tick: is -c the pair this data is from?")
    moved = np.zeros(len(candles), dtype=bool)
    columns = []
    for column in (candles.lows, candles.opens, candles.highs, candles.closes):  # the lows are in scratch already
        if column is not candles.lows:
            on_tick(column, tick, out=scratch)
        changed = scratch != column
        moved |= changed
        if in_place:
            np.copyto(column, scratch, where=changed)
            columns.append(column)
        else:
            columns.append(scratch.copy() if changed.any() else column)
    count = int(moved.sum())
    if not count or in_place:
        return RoundedCandles(candles, count)
    lows, opens, highs, closes = columns
    return RoundedCandles(CandleColumns(candles.times, opens, highs, lows, closes, candles.volumes), count)
