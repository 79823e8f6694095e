"""Mark-to-market equity at every candle's close, rebuilt from the fills after the run (numpy, no engine cost).

A fill belongs to the candle during which it happened (a backtest fills at a
candle's open, so that candle's close already counts it); fills before the
first candle count from the start, fills after the last one at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from candlebot.output.fills import FillMark


@dataclass(frozen=True)
class EquityCurve:
    """``equity[i]``: cash + position x close of candle ``i``, at that candle's close time ``close_times[i]``."""

    start_time: float
    close_times: np.ndarray
    equity: np.ndarray
    position: np.ndarray
    start_cash: float

    @property
    def end_time(self) -> float:
        return float(self.close_times[-1]) if len(self.close_times) else self.start_time


def equity_curve(fills: Sequence[FillMark], times: np.ndarray, closes: np.ndarray, period: int, start_cash: float) -> EquityCurve:
    times = np.asarray(times, dtype=np.float64)
    closes = np.asarray(closes, dtype=np.float64)
    n = len(times)
    start_time = float(times[0]) if n else 0.0
    if n == 0:
        empty = np.zeros(0)
        return EquityCurve(start_time, empty, empty, empty, start_cash)
    fill_times = np.array([f.time for f in fills], dtype=np.float64)
    candle = np.clip(np.searchsorted(times, fill_times, side="right") - 1, 0, n - 1)
    sign = np.array([1.0 if f.side == "sell" else -1.0 for f in fills])
    cost = np.array([float(f.cost) for f in fills])
    fee = np.array([float(f.fee) for f in fills])
    volume = np.array([float(f.volume) for f in fills])
    cash = start_cash + np.cumsum(np.bincount(candle, sign * cost - fee, minlength=n)) if len(fills) else np.full(n, start_cash)
    position = np.cumsum(np.bincount(candle, -sign * volume, minlength=n)) if len(fills) else np.zeros(n)
    position[np.abs(position) < 1e-12] = 0.0  # float sums of equal buys and sells
    return EquityCurve(start_time, times + period, cash + position * closes, position, start_cash)


def drawdown(curve: EquityCurve) -> np.ndarray:
    """Fall below the running peak (the start cash included) as a fraction >= 0 at every candle."""
    if not len(curve.equity):
        return np.zeros(0)
    peaks = np.maximum.accumulate(np.r_[curve.start_cash, curve.equity])[1:]
    return np.where(peaks > 0, (peaks - curve.equity) / np.where(peaks > 0, peaks, 1), 0.0)
