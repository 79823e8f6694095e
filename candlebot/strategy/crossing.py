"""Crossovers: the test most rules are built from, written once.

``crossed_above(a, b, i)`` is ``a[i] > b[i] and a[i - 1] <= b[i - 1]``: ``a`` is above ``b`` on
candle ``i`` and was not on the candle before. ``b`` may be a line or a level (an ``int`` or
``float`` such as 20 or 80.0). Any NaN makes it False, as every comparison with NaN is; the engine
does not tick before the lines are warm anyway. A rule that uses these reads values at ``i`` and
``i - 1``: the base class's default ``lookback`` of 2.
"""

from __future__ import annotations

from typing import Sequence, Union

Level = Union[Sequence[float], float]
_NUMBER = (int, float)


def crossed_above(a: Sequence[float], b: Level, i: int) -> bool:
    """``a`` crosses above ``b`` on candle ``i``."""
    if isinstance(b, _NUMBER):
        return a[i] > b and a[i - 1] <= b
    return a[i] > b[i] and a[i - 1] <= b[i - 1]


def crossed_below(a: Sequence[float], b: Level, i: int) -> bool:
    """``a`` crosses below ``b`` on candle ``i``."""
    if isinstance(b, _NUMBER):
        return a[i] < b and a[i - 1] >= b
    return a[i] < b[i] and a[i - 1] >= b[i - 1]
