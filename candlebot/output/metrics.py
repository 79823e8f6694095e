"""Backtest and bot metrics, each with the formula in docs/metrics.md.

Money lines (gross, fees, net, unrealized, total) are exact Decimals from the fills;
ratios come from the mark-to-market equity at every candle (``EquityCurve``).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from candlebot.money import ZERO
from candlebot.output.equity import EquityCurve, drawdown
from candlebot.output.fills import ExitReason
from candlebot.trade import BotTrade

DAY = 86_400
YEAR_DAYS = 365


@dataclass(frozen=True)
class MonthReturn:
    month: str  # YYYY-MM (UTC)
    return_pct: float


@dataclass(frozen=True)
class Metrics:
    gross_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    unrealized_pnl: Decimal
    total_pnl: Decimal  # final equity - start cash: net + unrealized (what the optimizer ranks by default)
    fees_pct_of_gross: float | None
    start_cash: Decimal
    final_equity: Decimal
    return_pct: float
    cagr_pct: float | None
    buy_hold_return_pct: float
    max_drawdown_pct: float
    max_drawdown_duration_s: float
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    trades: int
    closed_trades: int
    open_trades: int
    wins: int
    losses: int
    win_rate_pct: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    avg_holding_s: float | None
    max_holding_s: float | None
    exposure_pct: float
    exit_reasons: dict[str, int]  # closed trades only: an open trade has not exited (open_trades, open_at_end)
    monthly_returns: list[MonthReturn]
    open_at_end: int = 0  # a backtest's trades still open when its candles ran out (marked, not sold); 0 in a bot

    def to_json(self) -> dict[str, Any]:
        """Decimals as floats, NaN/inf as null: plain JSON."""
        return {key: _plain(value) for key, value in asdict(self).items()}

    def exits_text(self) -> str:
        """``signal 862, stop loss 0; 1 still open at the end of the data``: the summary's and the report's row."""
        exits = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.exit_reasons.items())
        still_open = (f"{self.open_at_end} still open at the end of the data" if self.open_at_end
                      else f"{self.open_trades} still open" if self.open_trades else "")
        return "; ".join(part for part in (exits, still_open) if part) or "-"


def compute_metrics(
    *, curve: EquityCurve, start_cash: Decimal, trades: Sequence[BotTrade], reasons: Mapping[int, ExitReason], mark: Decimal,
    first_open: float, last_close: float, round_cost: Callable[[Decimal], Decimal],
) -> Metrics:
    """``mark`` prices the open trades (the last close); ``round_cost`` rounds quote to the pair's cost decimals;
    buy & hold buys at ``first_open`` and sells at ``last_close``, without fees."""
    closed = [(t, t.close_fill) for t in trades if t.close_fill is not None]
    still_open = [t for t in trades if t.close_fill is None]
    gross = round_cost(sum((g for t, _ in closed if (g := t.gross_pnl) is not None), ZERO))
    fees = round_cost(sum((t.fees for t in trades), ZERO))
    start_cash = round_cost(start_cash)
    unrealized = round_cost(sum((t.volume * mark - t.open_fill.cost for t in still_open), ZERO))
    net = gross - fees
    final_equity = start_cash + net + unrealized
    pnls = [p for t, _ in closed if (p := t.pnl) is not None]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p <= 0]
    lost = -sum(losses, ZERO)
    holds = [exit.time - t.open_fill.time for t, exit in closed]
    holds += [curve.end_time - t.open_fill.time for t in still_open]
    ratios = curve_ratios(curve, float(final_equity / start_cash) if start_cash else 0.0)
    return Metrics(
        gross_pnl=gross,
        fees=fees,
        net_pnl=net,
        unrealized_pnl=unrealized,
        total_pnl=net + unrealized,
        fees_pct_of_gross=float(fees / gross * 100) if gross > 0 else None,
        start_cash=start_cash,
        final_equity=final_equity,
        return_pct=ratios.return_pct if start_cash else 0.0,
        cagr_pct=ratios.cagr_pct,
        buy_hold_return_pct=(last_close / first_open - 1) * 100 if first_open else 0.0,
        max_drawdown_pct=ratios.max_drawdown_pct,
        max_drawdown_duration_s=max_drawdown_duration(curve),
        sharpe=ratios.sharpe,
        sortino=ratios.sortino,
        calmar=ratios.calmar,
        trades=len(trades),
        closed_trades=len(closed),
        open_trades=len(still_open),
        wins=len(wins),
        losses=len(losses),
        win_rate_pct=len(wins) / len(closed) * 100 if closed else None,
        profit_factor=float(sum(wins, ZERO) / lost) if lost > 0 else None,
        expectancy=round_cost(sum(pnls, ZERO) / len(closed)) if closed else None,
        avg_holding_s=sum(holds) / len(holds) if holds else None,
        max_holding_s=max(holds) if holds else None,
        exposure_pct=float((curve.position > 0).mean() * 100) if len(curve.position) else 0.0,
        exit_reasons=_exit_reasons(trades, reasons),
        monthly_returns=monthly_returns(curve),
        open_at_end=sum(1 for t in still_open if reasons.get(t.trade_id) is ExitReason.END_OF_DATA),
    )


@dataclass(frozen=True)
class CurveRatios:
    """Return and risk of an equity curve: what ``Metrics`` reports, and what the optimizer ranks and stitches."""

    return_pct: float
    cagr_pct: float | None
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    calmar: float | None


def curve_ratios(curve: EquityCurve, total: float | None = None) -> CurveRatios:
    """``total`` is final equity / start cash (a backtest passes its books' exact one); by default the curve's last mark."""
    if total is None:
        total = (float(curve.equity[-1]) if len(curve.equity) else curve.start_cash) / curve.start_cash if curve.start_cash else 0.0
    daily = daily_returns(curve)
    cagr = _annualized(total, (curve.end_time - curve.start_time) / (YEAR_DAYS * DAY))
    depth = float(drawdown(curve).max()) if len(curve.equity) else 0.0
    return CurveRatios(
        return_pct=(total - 1) * 100,
        cagr_pct=None if cagr is None else cagr * 100,
        max_drawdown_pct=depth * 100,
        sharpe=sharpe(daily),
        sortino=sortino(daily),
        calmar=cagr / depth if cagr is not None and depth > 0 else None,
    )


def daily_returns(curve: EquityCurve) -> np.ndarray:
    """Close-to-close returns of the equity at the end of each UTC day (days without candles carry the last
    equity forward); the first day is measured from the start cash."""
    if not len(curve.equity):
        return np.zeros(0)
    days = ((curve.close_times - 1) // DAY).astype(np.int64)  # a candle belongs to the day it closes in (a close at 00:00 ends the day before)
    first = int(days[0])
    last_of_day = np.r_[days[1:] != days[:-1], True]
    daily = np.full(int(days[-1]) - first + 1, np.nan)
    daily[days[last_of_day] - first] = curve.equity[last_of_day]
    for k in range(1, len(daily)):  # forward fill gaps (few, short loop over days)
        if math.isnan(daily[k]):
            daily[k] = daily[k - 1]
    previous = np.r_[curve.start_cash, daily[:-1]]
    return daily / previous - 1


def sharpe(daily: np.ndarray) -> float | None:
    if len(daily) < 2:
        return None
    spread = float(np.std(daily, ddof=1))
    return float(np.mean(daily)) / spread * math.sqrt(YEAR_DAYS) if spread > 0 else None


def sortino(daily: np.ndarray) -> float | None:
    if len(daily) < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(daily, 0.0) ** 2)))
    return float(np.mean(daily)) / downside * math.sqrt(YEAR_DAYS) if downside > 0 else None


def max_drawdown_duration(curve: EquityCurve) -> float:
    """Longest time from a peak until the equity is back at it (or the end of the data), in seconds.

    Every stretch under water lies between two consecutive peaks (or after the last one, until the end): the
    stretches are found from the peaks' indices alone, a few passes over the curve instead of a dozen."""
    equity = curve.equity
    if not len(equity):
        return 0.0
    levels = np.r_[curve.start_cash, equity]
    stamps = np.r_[curve.start_time, curve.close_times]
    peaks = np.flatnonzero(levels >= np.maximum.accumulate(levels))
    following = np.r_[peaks[1:], len(levels)]  # the next peak's index, or past the end
    under = following - peaks > 1  # a stretch under water follows this peak
    if not under.any():
        return 0.0
    back = stamps[np.minimum(following[under], len(levels) - 1)]  # back at the peak, or the end of the data
    return float((back - stamps[peaks[under]]).max())


def monthly_returns(curve: EquityCurve) -> list[MonthReturn]:
    """Equity at each UTC month's last candle close over the month before's (the start cash for the first)."""
    if not len(curve.equity):
        return []
    seconds = curve.close_times - 1
    days = seconds // DAY  # a month's last candle is its last day's last one: months are read on those alone
    last_of_day = np.flatnonzero(np.r_[days[1:] != days[:-1], True])
    months = seconds[last_of_day].astype("datetime64[s]").astype("datetime64[M]")
    month_end = np.r_[months[1:] != months[:-1], True]
    ends = curve.equity[last_of_day[month_end]]
    previous = np.r_[curve.start_cash, ends[:-1]]
    return [MonthReturn(str(m), float(e / p - 1) * 100) for m, e, p in zip(months[month_end], ends, previous)]


def _exit_reasons(trades: Sequence[BotTrade], reasons: Mapping[int, ExitReason]) -> dict[str, int]:
    """How the closed trades ended; a trade still open (end_of_data, open) is not an exit and is not counted here."""
    counts = Counter(reasons[t.trade_id].value for t in trades if t.trade_id in reasons and not t.is_open)
    return {reason.value: counts.get(reason.value, 0) for reason in (ExitReason.SIGNAL, ExitReason.STOP_LOSS)}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _annualized(total: float, years: float) -> float | None:
    """CAGR as a fraction; None when the equity ended at 0, the run is under a day (annualizing a few hours
    says nothing) or the figure leaves float range."""
    if total <= 0 or years * YEAR_DAYS < 1:
        return None
    try:
        return total ** (1 / years) - 1
    except OverflowError:
        return None
