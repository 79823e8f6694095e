"""What a run earned, and what the fees took: the summary, its JSON and the trades CSV.

The metrics come from ``candlebot.output.metrics`` (formulas in docs/metrics.md),
over the mark-to-market equity rebuilt after the run from the booked fills and
the candles' closes: it costs the engine loop nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Mapping, TextIO

import numpy as np

from candlebot.chart import Chart
from candlebot.trading.ledger import Ledger
from candlebot.output.pnl import NET_PNL, NET_PNL_MEANING
from candlebot.output.lines import duration_text, plural, utc
from candlebot.output.skips import SkipTally
from candlebot.money import ZERO, to_decimal
from candlebot.output.equity import EquityCurve, equity_curve
from candlebot.output.fills import ExitReason, exit_reason, fill_marks
from candlebot.output.metrics import Metrics, compute_metrics
from candlebot.trade import BotTrade

TRADES_CSV_HEADER = ("open_time", "close_time", "side", "volume", "entry_price", "exit_price", "fees", "pnl",
                     "open_time_utc", "close_time_utc", "duration_s", "exit_reason")


@dataclass(frozen=True)
class RunReport:
    strategy: str
    params: dict[str, Any]
    pair: str
    period_s: int
    first_time: int
    last_time: int
    candles: int
    metrics: Metrics
    strategy_errors: int
    elapsed_s: float
    curve: EquityCurve
    reasons: Mapping[int, ExitReason]
    skips: SkipTally = field(default_factory=SkipTally)

    def __getattr__(self, name: str) -> Any:
        """Metrics read as the report's own fields (``report.trades``, ``report.max_drawdown_pct``)."""
        if name.startswith("__") or name == "metrics":
            raise AttributeError(name)
        return getattr(self.metrics, name)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "strategy": self.strategy, "params": self.params, "pair": self.pair, "period_s": self.period_s,
            "period_minutes": self.period_s / 60, "first_time": self.first_time, "last_time": self.last_time,
            "candles": self.candles,
        }
        data.update(self.metrics.to_json())
        data.update(strategy_errors=self.strategy_errors, orders_skipped=self.skips.total,
                    orders_below_minimum=self.skips.below_minimum, elapsed_s=round(self.elapsed_s, 4))
        return data

    def summary(self) -> str:
        """Money lines at the books' exact decimals, so that they add up to the last digit."""
        m = self.metrics
        rows = [
            ("strategy", f"{self.strategy} {self._params_text()}"),
            ("market", f"{self.pair}, {self.period_s / 60:g} min candles, {utc(self.first_time)} .. {utc(self.last_time)} UTC"),
            ("candles", f"{self.candles}"),
            ("trades", f"{m.trades} ({m.wins} won, {m.losses} lost, {m.open_trades} still open)"),
            ("not traded", f"{plural(self.skips.total, 'order')} skipped ({self.skips.below_minimum:,} below Kraken's order "
                           f"minimum), {plural(self.strategy_errors, 'error')} in the strategy"
                           + (" (those candles skipped, see log)" if self.strategy_errors else "")),
            ("gross P/L", f"{m.gross_pnl:f} (closed trades, before fees)"),
            ("fees", f"{m.fees:f} ({_num(m.fees_pct_of_gross, '.1f', '% of gross P/L', 'gross P/L <= 0')})"),
            (NET_PNL, f"{m.net_pnl:f} ({NET_PNL_MEANING})"),
            ("unrealized P/L", f"{m.unrealized_pnl:f} ({m.open_trades} open, marked at the last close, entry fees in fees)"),
            ("total P/L", f"{m.total_pnl:f} (net + unrealized = final equity - start cash, no exit fee)"),
            ("equity", f"{m.start_cash:f} -> {m.final_equity:f} ({m.return_pct:+.2f}%, CAGR {_num(m.cagr_pct, '+.2f', '%')})"),
            ("buy & hold", f"{m.buy_hold_return_pct:+.2f}%"),
            ("max drawdown", f"{m.max_drawdown_pct:.2f}%, longest {duration_text(m.max_drawdown_duration_s)}"),
            ("risk-adjusted", f"Sharpe {_num(m.sharpe, '.2f')}, Sortino {_num(m.sortino, '.2f')}, Calmar {_num(m.calmar, '.2f')} (daily, sqrt 365)"),
            ("per trade", f"win rate {_num(m.win_rate_pct, '.1f', '%')}, profit factor {_num(m.profit_factor, '.2f')}, "
                          f"expectancy {_num(m.expectancy, '.2f')}"),
            ("holding", f"avg {duration_text(m.avg_holding_s)}, max {duration_text(m.max_holding_s)}, exposure {m.exposure_pct:.1f}% of candles"),
            ("exits", m.exits_text()),
            *_monthly_rows(m),
            ("elapsed", f"{self.elapsed_s:.2f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:>{width}}  {value}" for name, value in rows)

    def _params_text(self) -> str:
        return " ".join(f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in self.params.items())


def build_report(
    *, strategy: str, params: dict[str, Any], ledger: Ledger, chart: Chart, start: int, stop: int,
    strategy_errors: int, elapsed_s: float, stop_loss_ids: frozenset[int] = frozenset(), skips: SkipTally | None = None,
) -> RunReport:
    trades = ledger.trades
    reasons = {t.trade_id: exit_reason(t, stop_loss_ids, backtest=True) for t in trades}
    times = np.frombuffer(chart.times, dtype=np.int64)[start:stop]
    closes = np.frombuffer(chart.closes, dtype=np.float64)[start:stop]
    curve = equity_curve(fill_marks(trades, reasons), times, closes, chart.period, float(ledger.start_cash))
    empty = stop <= start
    metrics = compute_metrics(
        curve=curve, start_cash=ledger.start_cash, trades=trades, reasons=reasons, mark=ZERO if empty else to_decimal(chart.closes[stop - 1]),
        first_open=0.0 if empty else chart.opens[start], last_close=0.0 if empty else chart.closes[stop - 1],
        round_cost=ledger.pair.round_cost,
    )
    return RunReport(
        strategy=strategy,
        params=params,
        pair=chart.pair,
        period_s=chart.period,
        first_time=0 if empty else int(chart.times[start]),
        last_time=0 if empty else int(chart.times[stop - 1]),
        candles=stop - start,
        metrics=metrics,
        strategy_errors=strategy_errors,
        elapsed_s=elapsed_s,
        curve=curve,
        reasons=reasons,
        skips=skips or SkipTally(),
    )


def write_trades_csv(trades: list[BotTrade], out: TextIO, reasons: Mapping[int, ExitReason] | None = None,
                     end_time: float | None = None) -> None:
    """One row per trade; times are the fills' unix seconds and ISO UTC, close fields empty while open.

    An open trade's duration runs to ``end_time`` (a backtest's last close) when given; its exit reason is
    ``end_of_data`` in a backtest, ``open`` in a bot. Reasons a bot did not record stay empty.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRADES_CSV_HEADER)
    reasons = reasons or {}
    for trade in trades:
        closed = trade.close_fill
        opened = trade.open_fill.time
        until = closed.time if closed is not None else end_time
        reason = reasons.get(trade.trade_id)
        writer.writerow(
            (
                _seconds(opened),
                "" if closed is None else _seconds(closed.time),
                trade.side.value,
                trade.volume,
                trade.entry_price,
                "" if closed is None else closed.price,
                trade.fees,
                "" if closed is None else trade.pnl,
                _iso(opened),
                "" if closed is None else _iso(closed.time),
                "" if until is None else _seconds(until - opened),
                reason.value if reason else ("open" if closed is None else ""),
            )
        )


def _seconds(ts: float) -> str:
    return str(int(ts)) if ts == int(ts) else repr(ts)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def _monthly_rows(m: Metrics) -> list[tuple[str, str]]:
    """One row per year: each month's return in %."""
    years: dict[str, list[str]] = {}
    for month in m.monthly_returns:
        year, number = month.month.split("-")
        years.setdefault(year, []).append(f"{_MONTHS[int(number) - 1]} {month.return_pct:+.1f}")
    return [("monthly %" if k == 0 else "", f"{year}  " + "  ".join(items)) for k, (year, items) in enumerate(years.items())]


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _num(value: float | Decimal | None, spec: str, suffix: str = "", missing: str = "n/a") -> str:
    return missing if value is None else f"{value:{spec}}{suffix}"
