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

from array import array
from numbers import Real
from typing import Sequence, Union

import numpy as np

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


def crossings(a: Sequence[float], b: Sequence[float]) -> list[int]:
    """Every candle ``i`` (ascending) where ``crossed_above(a, b, i)`` or ``crossed_below(a, b, i)`` holds, found over
    the whole lines at once: the same comparisons of the same doubles (NaN compares False alike), so exactly those
    candles. What a crossover rule returns from ``active_candles``, so that a backtest ticks it on those alone."""
    x, y = _values(a), _values(b)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    now_above, now_below = x[1:] > y[1:], x[1:] < y[1:]
    crossed = (now_above & (x[:-1] <= y[:-1])) | (now_below & (x[:-1] >= y[:-1]))
    return (np.flatnonzero(crossed) + 1).tolist()


def _values(line: Sequence[float]) -> np.ndarray:
    """A line's values as float64 (an ``array('d')`` is viewed, not copied; the view is gone when the caller returns)."""
    if isinstance(line, array) and line.typecode == "d":
        return np.frombuffer(line, dtype=np.float64)
    return np.asarray(line, dtype=np.float64)
