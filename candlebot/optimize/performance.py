"""What one trial earned: the plain backtest's own metrics (candlebot/output/metrics.py), ranked.

The default objective ``total_pnl`` is the end equity's P/L (final equity - start cash): closed trades' gross less
every fee paid, plus a trade still open at the window's end marked at its last close without an exit fee, as the
equity curve behind return, CAGR, Sharpe and the stitched walk-forward marks it. ``net_pnl`` (closed trades only)
would call a window a loss while its open trade made the account grow.

Every figure has the definition of docs/metrics.md, so an objective named ``sharpe`` is the
Sharpe ratio ``candlebot --data ... --json`` prints for the same params. The deflated Sharpe
ratio needs that Sharpe per day (not annualised, ``sharpe / sqrt(365)``) and the count,
skewness and (non-excess) kurtosis of the same daily returns (``daily_returns``).

A metric the backtest leaves undefined (null: Sharpe under 2 days or with no variation, Sortino
without a losing day, CAGR and Calmar under a day or without a drawdown) ranks below every
defined value; ties keep trial order.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from candlebot.output.equity import EquityCurve
from candlebot.output.metrics import YEAR_DAYS, CurveRatios, Metrics, curve_ratios, daily_returns

OBJECTIVES = ("total_pnl", "net_pnl", "return_pct", "sharpe", "sortino", "calmar")
DEFAULT_OBJECTIVE = "total_pnl"
LEGACY_OBJECTIVE = "net_pnl"  # what a study stored without --objective ranks by: the default before total_pnl


def with_objective(argv: list[str], default: str) -> list[str]:
    """A study's defining command naming its objective: ``default`` appended when it names none."""
    if any(token == "--objective" or token.startswith("--objective=") for token in argv):
        return argv
    return [*argv, "--objective", default]
UNDEFINED = -math.inf  # what optuna is told for an undefined objective: worse than any value


@dataclass(frozen=True)
class Performance:
    """Money lines of the trades, the equity curve's ``ratios`` (read as own fields: ``performance.sharpe``)
    and the daily returns' count and moments for the deflated Sharpe ratio."""

    net_pnl: float
    gross_pnl: float
    fees: float
    trades: int
    ratios: CurveRatios
    returns: int  # daily returns behind sharpe, skew and kurtosis
    skew: float
    kurtosis: float
    total_pnl: float | None = None  # end equity - start cash (None: a trial stored before it was recorded)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "ratios":
            raise AttributeError(name)
        return getattr(self.ratios, name)

    def objective(self, name: str) -> float | None:
        value = getattr(self, name)
        return None if value is None else float(value)

    @property
    def daily_sharpe(self) -> float | None:
        """The Sharpe ratio per day, as the deflated Sharpe ratio needs it."""
        return None if self.ratios.sharpe is None else self.ratios.sharpe / math.sqrt(YEAR_DAYS)

    def to_json(self) -> dict[str, Any]:
        """Flat: the ratios sit next to the money lines, under the backtest's JSON keys."""
        data = asdict(self)
        return {**{k: v for k, v in data.items() if k != "ratios"}, **data["ratios"]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Performance:
        ratios = CurveRatios(**{key: data[key] for key in CurveRatios.__dataclass_fields__})
        return cls(**{key: data.get(key) if key == "total_pnl" else data[key] for key in cls.__dataclass_fields__ if key != "ratios"},
                   ratios=ratios)


def rank_key(objective: float | None) -> float:
    """The value optuna maximises and the table sorts by: undefined is the worst."""
    return UNDEFINED if objective is None else objective


def of_backtest(metrics: Metrics, curve: EquityCurve) -> Performance:
    """A trial's performance: the backtest report's metrics, as floats."""
    ratios = CurveRatios(metrics.return_pct, metrics.cagr_pct, metrics.max_drawdown_pct, metrics.sharpe, metrics.sortino, metrics.calmar)
    return _performance(float(metrics.net_pnl), float(metrics.gross_pnl), float(metrics.fees), metrics.trades, ratios, curve,
                        float(metrics.total_pnl))


def of_stitched(curve: EquityCurve, parts: list[Performance]) -> Performance:
    """Walk-forward out of sample: money lines summed over the folds, ratios and total P/L from the stitched equity curve."""
    end = float(curve.equity[-1]) if len(curve.equity) else curve.start_cash
    return _performance(sum(p.net_pnl for p in parts), sum(p.gross_pnl for p in parts), sum(p.fees for p in parts),
                        sum(p.trades for p in parts), curve_ratios(curve), curve, end - curve.start_cash)


def _performance(net: float, gross: float, fees: float, trades: int, ratios: CurveRatios, curve: EquityCurve,
                 total: float) -> Performance:
    daily = daily_returns(curve)
    skew, kurtosis = _moments(daily)
    return Performance(net_pnl=net, gross_pnl=gross, fees=fees, trades=trades, ratios=ratios, returns=len(daily), skew=skew,
                       kurtosis=kurtosis, total_pnl=total)


def _moments(returns: np.ndarray) -> tuple[float, float]:
    """Skewness and non-excess kurtosis (3 for a normal distribution); 0 and 3 when flat."""
    if len(returns) < 2:
        return 0.0, 3.0
    centred = returns - returns.mean()
    sigma = float(np.sqrt(np.mean(centred**2)))
    if sigma == 0:
        return 0.0, 3.0
    return float(np.mean(centred**3) / sigma**3), float(np.mean(centred**4) / sigma**4)
