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


def on_tick(prices: np.ndarray, tick: Decimal) -> np.ndarray:
    """``prices`` on the tick (round half to even on price/tick), each the double nearest to its decimal value."""
    steps = np.rint(prices / float(tick))
    _, digits, exponent = tick.normalize().as_tuple()
    multiple = int("".join(map(str, digits)))  # tick = multiple × 10^exponent, exactly
    assert isinstance(exponent, int)
    if exponent >= 0:
        return steps * float(multiple * 10**exponent)  # integers times an integer: exact below 2^53
    return (steps * multiple) / float(10**-exponent)  # one correctly rounded division of exact integers


def round_to_tick(candles: CandleColumns, tick: Decimal) -> RoundedCandles:
    """The candles' prices on ``tick``; ConfigError when a price would round to zero (the pair does not fit)."""
    columns = [on_tick(c, tick) for c in (candles.opens, candles.highs, candles.lows, candles.closes)]
    if len(candles) and (columns[2] <= 0).any():
        k = int(np.argmax(columns[2] <= 0))
        raise ConfigError(f"a price of {float(candles.lows[k])!r} at {int(candles.times[k])} is below half the pair's "
                          f"{tick} tick: is -c the pair this data is from?")
    moved = np.zeros(len(candles), dtype=bool)
    for new, old in zip(columns, (candles.opens, candles.highs, candles.lows, candles.closes)):
        moved |= new != old
    changed = int(moved.sum())
    if not changed:
        return RoundedCandles(candles, 0)
    return RoundedCandles(CandleColumns(candles.times, *columns, candles.volumes), changed)
