"""What a run earned, and what the fees took: the summary, its JSON and the trades CSV.

The equity curve (for drawdown) is rebuilt after the run from the booked fills
and the candles' closes, in numpy: it costs the engine loop nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO

import numpy as np

from candlebot.chart import Chart
from candlebot.ledger import Ledger
from candlebot.lines import utc
from candlebot.money import ZERO, to_decimal
from candlebot.trade import BotTrade

TRADES_CSV_HEADER = ("open_time", "close_time", "side", "volume", "entry_price", "exit_price", "fees", "pnl")


@dataclass(frozen=True)
class RunReport:
    strategy: str
    params: dict[str, Any]
    pair: str
    period_s: int
    first_time: int
    last_time: int
    candles: int
    trades: int
    open_trades: int
    wins: int
    losses: int
    fees: Decimal
    gross_pnl: Decimal
    net_pnl: Decimal
    start_cash: Decimal
    final_equity: Decimal
    return_pct: float
    buy_hold_return_pct: float
    max_drawdown_pct: float
    strategy_errors: int
    elapsed_s: float

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = float(value)
        data["period_minutes"] = self.period_s / 60
        data["elapsed_s"] = round(self.elapsed_s, 4)
        return data

    def summary(self) -> str:
        rows = [
            ("strategy", f"{self.strategy} {self._params_text()}"),
            ("market", f"{self.pair}, {self.period_s / 60:g} min candles, {utc(self.first_time)} .. {utc(self.last_time)} UTC"),
            ("candles", f"{self.candles}"),
            ("trades", f"{self.trades} ({self.wins} won, {self.losses} lost, {self.open_trades} still open)"),
            ("gross P/L", f"{self.gross_pnl:.2f} before fees"),
            ("fees", f"{self.fees:.2f}"),
            ("net P/L", f"{self.net_pnl:.2f}"),
            ("equity", f"{self.start_cash:.2f} -> {self.final_equity:.2f} ({self.return_pct:+.2f}%)"),
            ("buy & hold", f"{self.buy_hold_return_pct:+.2f}%"),
            ("max drawdown", f"{self.max_drawdown_pct:.2f}%"),
            ("elapsed", f"{self.elapsed_s:.2f} s"),
        ]
        if self.strategy_errors:
            rows.append(("strategy errors", f"{self.strategy_errors} candles skipped (see log)"))
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:>{width}}  {value}" for name, value in rows)

    def _params_text(self) -> str:
        return " ".join(f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in self.params.items())


def build_report(
    *, strategy: str, params: dict[str, Any], ledger: Ledger, chart: Chart, start: int, stop: int,
    strategy_errors: int, elapsed_s: float,
) -> RunReport:
    trades = ledger.trades
    closed = [t for t in trades if not t.is_open]
    last_close = to_decimal(chart.closes[stop - 1]) if stop > start else ZERO
    final_equity = ledger.equity(last_close)
    start_cash = ledger.start_cash
    first_open, last_close_f = chart.opens[start], chart.closes[stop - 1]
    return RunReport(
        strategy=strategy,
        params=params,
        pair=chart.pair,
        period_s=chart.period,
        first_time=int(chart.times[start]) if stop > start else 0,
        last_time=int(chart.times[stop - 1]) if stop > start else 0,
        candles=stop - start,
        trades=len(trades),
        open_trades=len(trades) - len(closed),
        wins=sum(1 for t in closed if t.pnl > 0),  # type: ignore[operator]
        losses=sum(1 for t in closed if t.pnl <= 0),  # type: ignore[operator]
        fees=ledger.fees,
        gross_pnl=sum((t.gross_pnl for t in closed), ZERO),  # type: ignore[misc]
        net_pnl=sum((t.pnl for t in closed), ZERO),  # type: ignore[misc]
        start_cash=start_cash,
        final_equity=final_equity,
        return_pct=float((final_equity - start_cash) / start_cash * 100) if start_cash else 0.0,
        buy_hold_return_pct=(last_close_f / first_open - 1) * 100 if stop > start else 0.0,
        max_drawdown_pct=max_drawdown_pct(trades, chart, start, stop, float(start_cash)),
        strategy_errors=strategy_errors,
        elapsed_s=elapsed_s,
    )


def max_drawdown_pct(trades: list[BotTrade], chart: Chart, start: int, stop: int, start_cash: float) -> float:
    """Largest fall of equity (marked at each candle's close) from its running peak, in percent."""
    if stop <= start or start_cash <= 0:
        return 0.0
    return drawdown_pct(equity_curve(trades, chart, start, stop, start_cash), start_cash)


def drawdown_pct(equity: np.ndarray, start_cash: float) -> float:
    """Largest fall of an equity curve from its running peak (starting at ``start_cash``), in percent."""
    if len(equity) == 0 or start_cash <= 0:
        return 0.0
    peaks = np.maximum.accumulate(np.r_[start_cash, equity])[1:]
    return max(float(((peaks - equity) / peaks).max()) * 100, 0.0)


def equity_curve(trades: list[BotTrade], chart: Chart, start: int, stop: int, start_cash: float) -> np.ndarray:
    """Cash plus held volume marked at each close of candles ``start .. stop-1``, as float64."""
    fills = [(trade.open_fill, -1.0) for trade in trades]
    fills += [(trade.close_fill, 1.0) for trade in trades if trade.close_fill is not None]
    times = np.array(chart.times[start:stop], dtype=np.float64)
    closes = np.array(chart.closes[start:stop], dtype=np.float64)
    fill_times = np.array([fill.time for fill, _ in fills], dtype=np.float64)
    candle = np.searchsorted(times, fill_times, side="right") - 1  # the candle during which each fill happened
    sign = np.array([s for _, s in fills])
    cash_moves = sign * np.array([float(f.cost) for f, _ in fills]) - np.array([float(f.fee) for f, _ in fills])
    volume_moves = -sign * np.array([float(f.volume) for f, _ in fills])
    inside = (candle >= 0) & (candle < len(times))
    cash_delta = np.bincount(candle[inside], cash_moves[inside], minlength=len(times))
    volume_delta = np.bincount(candle[inside], volume_moves[inside], minlength=len(times))
    return start_cash + np.cumsum(cash_delta) + np.cumsum(volume_delta) * closes


def write_trades_csv(trades: list[BotTrade], out: TextIO) -> None:
    """One row per trade; times are the fills' unix seconds, close fields empty while open."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRADES_CSV_HEADER)
    for trade in trades:
        closed = trade.close_fill
        writer.writerow(
            (
                _seconds(trade.open_fill.time),
                "" if closed is None else _seconds(closed.time),
                trade.side.value,
                trade.volume,
                trade.entry_price,
                "" if closed is None else closed.price,
                trade.fees,
                "" if closed is None else trade.pnl,
            )
        )


def _seconds(ts: float) -> str:
    return str(int(ts)) if ts == int(ts) else repr(ts)
