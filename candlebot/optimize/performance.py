"""What one trial earned, from its mark-to-market equity: the numbers objectives rank by.

Formulas (returns are taken from the equity at each UTC day's last close, or per candle for
daily and longer candles; a year is 365 days because crypto trades every day):

    return_pct        = (final equity / start cash - 1) x 100
    annual_return_pct = return_pct / years                      (simple, so short windows do not explode)
    sharpe            = mean(r) / std(r) x sqrt(returns per year)
    sortino           = mean(r) / sqrt(mean(min(r, 0)^2)) x sqrt(returns per year)
    calmar            = annual_return_pct / max(max_drawdown_pct, 0.01)
    period_sharpe     = mean(r) / std(r), not annualised: what the deflated Sharpe ratio needs,
                        with the returns' count, skewness and (non-excess) kurtosis
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from candlebot.output.equity import EquityCurve, drawdown as drawdown_series

DAY = 86_400
YEAR_DAYS = 365
OBJECTIVES = ("net_pnl", "return_pct", "sharpe", "sortino", "calmar")


@dataclass(frozen=True)
class Performance:
    net_pnl: float
    gross_pnl: float
    fees: float
    trades: int
    return_pct: float
    annual_return_pct: float
    max_drawdown_pct: float
    sharpe: float
    sortino: float
    calmar: float
    period_sharpe: float
    skew: float
    kurtosis: float
    returns: int

    def objective(self, name: str) -> float:
        return float(getattr(self, name))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Performance:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})


def measure(
    *, times: np.ndarray, equity: np.ndarray, period_s: int, start_cash: float, net_pnl: float,
    gross_pnl: float, fees: float, trades: int, return_pct: float | None = None, max_drawdown_pct: float | None = None,
) -> Performance:
    """Performance of an equity curve marked at every candle's close (``times`` are bar opens).

    A backtest passes its report's own return and drawdown, so a trial shows exactly what ``candlebot --data`` shows.
    """
    final = float(equity[-1]) if len(equity) else start_cash
    years = max(len(equity) * period_s / (YEAR_DAYS * DAY), 1e-9)
    returns, per_year = sampled_returns(times, equity, period_s, start_cash)
    if max_drawdown_pct is None:
        curve = EquityCurve(float(times[0]) if len(times) else 0.0, times, equity, np.zeros(0), start_cash)
        max_drawdown_pct = float(drawdown_series(curve).max()) * 100 if len(equity) else 0.0
    drawdown = max_drawdown_pct
    if return_pct is None:
        return_pct = (final / start_cash - 1) * 100 if start_cash else 0.0
    mean, std = (float(returns.mean()), float(returns.std(ddof=1))) if len(returns) > 1 else (0.0, 0.0)
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))) if len(returns) else 0.0
    period_sharpe = mean / std if std > 0 else 0.0
    skew, kurtosis = _moments(returns)
    annual = return_pct / years
    return Performance(
        net_pnl=net_pnl,
        gross_pnl=gross_pnl,
        fees=fees,
        trades=trades,
        return_pct=return_pct,
        annual_return_pct=annual,
        max_drawdown_pct=drawdown,
        sharpe=period_sharpe * math.sqrt(per_year),
        sortino=mean / downside * math.sqrt(per_year) if downside > 0 else 0.0,
        calmar=annual / max(drawdown, 0.01),
        period_sharpe=period_sharpe,
        skew=skew,
        kurtosis=kurtosis,
        returns=len(returns),
    )


def sampled_returns(times: np.ndarray, equity: np.ndarray, period_s: int, start_cash: float) -> tuple[np.ndarray, float]:
    """Simple returns between the last closes of consecutive UTC days (per candle for daily candles), and how many a year holds."""
    if len(equity) == 0:
        return np.empty(0), float(YEAR_DAYS)
    if period_s >= DAY:
        points, per_year = equity, YEAR_DAYS * DAY / period_s
    else:
        closes_at = (np.asarray(times, dtype=np.int64) + period_s - 1) // DAY  # the day each candle closes in
        last_of_day = np.r_[np.flatnonzero(np.diff(closes_at)), len(closes_at) - 1]
        points, per_year = equity[last_of_day], float(YEAR_DAYS)
    levels = np.r_[start_cash, points]
    return levels[1:] / levels[:-1] - 1.0, per_year


def _moments(returns: np.ndarray) -> tuple[float, float]:
    """Skewness and non-excess kurtosis (3 for a normal distribution); 0 and 3 when flat."""
    if len(returns) < 2:
        return 0.0, 3.0
    centred = returns - returns.mean()
    sigma = float(np.sqrt(np.mean(centred**2)))
    if sigma == 0:
        return 0.0, 3.0
    return float(np.mean(centred**3) / sigma**3), float(np.mean(centred**4) / sigma**4)
