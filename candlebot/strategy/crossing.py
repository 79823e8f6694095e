"""Crossovers: the test most rules are built from, written once.

``crossed_above(a, b, i)`` is ``a[i] > b[i] and a[i - 1] <= b[i - 1]``: ``a`` is above ``b`` on
candle ``i`` and was not on the candle before (touching is not crossing). ``b`` may be a line or a
level (a number such as 20 or 80.0). Any NaN makes it False, as every comparison with NaN is, and so does
``i < 1`` (there is no candle before, and ``a[-1]`` would be the last value of the file); the
engine does not tick before the lines are warm anyway. A rule that uses these reads values at ``i``
and ``i - 1``: the base class's default ``lookback`` of 2.

They run once or twice per candle, so they are written for speed: an identity test of the class
(cheaper than ``isinstance``) finds plain numbers, and other numbers (numpy's float64) are found when
indexing them fails: a ``try`` costs nothing until it catches.
"""

from __future__ import annotations

from numbers import Real
from typing import Sequence, Union

Level = Union[Sequence[float], float]


def crossed_above(a: Sequence[float], b: Level, i: int) -> bool:
    """``a`` crosses above ``b`` on candle ``i``."""
    if i < 1:  # no candle before: a[i - 1] would wrap to the last value (the future, in a backtest)
        return False
    kind = b.__class__
    if kind is float or kind is int:
        return a[i] > b and a[i - 1] <= b  # type: ignore[operator]
    try:
        return a[i] > b[i] and a[i - 1] <= b[i - 1]  # type: ignore[index]
    except (TypeError, IndexError):  # not a line: another kind of number (numpy's float64)?
        if not isinstance(b, Real):
            raise
        return a[i] > b and a[i - 1] <= b


def crossed_below(a: Sequence[float], b: Level, i: int) -> bool:
    """``a`` crosses below ``b`` on candle ``i``."""
    if i < 1:  # no candle before: a[i - 1] would wrap to the last value (the future, in a backtest)
        return False
    kind = b.__class__
    if kind is float or kind is int:
        return a[i] < b and a[i - 1] >= b  # type: ignore[operator]
    try:
        return a[i] < b[i] and a[i - 1] >= b[i - 1]  # type: ignore[index]
    except (TypeError, IndexError):  # not a line: another kind of number (numpy's float64)?
        if not isinstance(b, Real):
            raise
        return a[i] < b and a[i - 1] >= b
