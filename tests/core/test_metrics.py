"""Metrics: by hand on four daily candles, and against empyrical + pandas on a real quarter of 15-minute candles."""

from __future__ import annotations

import csv
import json
import logging
import math
import statistics
import subprocess
import sys
from dataclasses import fields
from decimal import Decimal as D

import numpy as np
import pytest

from candlebot.cli.args import build_parser
from candlebot.assembly import build_backtest, load_chart
from candlebot.cli.backtest import settings_from_args
from candlebot.events import EventBus
from candlebot.venue import Fill, Side
from candlebot.output.equity import equity_curve
from candlebot.output.fills import ExitReason, fill_marks
from candlebot.output.metrics import Metrics, compute_metrics
from candlebot.trade import BotTrade
from tests.conftest import REPO

DAY = 86_400
T0 = 1_704_067_200  # 2024-01-01 00:00 UTC


def _fill(side: Side, day: int, price: str, volume: str, fee: str) -> Fill:
    cost = D(price) * D(volume)
    return Fill(f"O{day}{side.value}", day, "XBTUSD", side, T0 + day * DAY, D(price), D(volume), cost, D(fee))


def test_metrics_by_hand_on_four_daily_candles():
    # closes 100, 110, 90, 120; buy 5 @ 100 on day 0, sell 5 @ 110 on day 2, buy 4 @ 100 on day 3 (still open)
    first = BotTrade(1, _fill(Side.BUY, 0, "100", "5", "1")).closed_by(_fill(Side.SELL, 2, "110", "5", "1"))
    second = BotTrade(2, _fill(Side.BUY, 3, "100", "4", "1"))
    trades = [first, second]
    reasons = {1: ExitReason.SIGNAL, 2: ExitReason.END_OF_DATA}
    times = np.array([T0 + k * DAY for k in range(4)])
    closes = np.array([100.0, 110.0, 90.0, 120.0])
    curve = equity_curve(fill_marks(trades, reasons), times, closes, DAY, 1000.0)

    m = compute_metrics(curve=curve, start_cash=D(1000), trades=trades, reasons=reasons, mark=D("120"), first_open=100.0, last_close=120.0,
                        round_cost=lambda x: x.quantize(D("0.01")))

    # cash 499 -> 1048 -> 647; equity at the closes: 499+500, 499+550, 1048, 647+480
    assert curve.equity.tolist() == [999.0, 1049.0, 1048.0, 1127.0]
    assert (m.gross_pnl, m.fees, m.net_pnl, m.unrealized_pnl) == (D("50"), D("3"), D("47"), D("80.00"))
    assert m.final_equity == D("1127.00") == m.start_cash + m.net_pnl + m.unrealized_pnl
    assert m.fees_pct_of_gross == pytest.approx(6.0)
    assert m.return_pct == pytest.approx(12.7)
    assert m.cagr_pct == pytest.approx((1.127 ** (365 / 4) - 1) * 100)
    assert m.buy_hold_return_pct == pytest.approx(20.0)
    assert m.max_drawdown_pct == pytest.approx(0.1)  # 1000 -> 999
    assert m.max_drawdown_duration_s == 2 * DAY  # start (day 0 open) .. back above 1000 at day 1's close
    daily = [999 / 1000 - 1, 1049 / 999 - 1, 1048 / 1049 - 1, 1127 / 1048 - 1]
    assert m.sharpe == pytest.approx(statistics.mean(daily) / statistics.stdev(daily) * math.sqrt(365))
    downside = math.sqrt(sum(min(r, 0) ** 2 for r in daily) / 4)
    assert m.sortino == pytest.approx(statistics.mean(daily) / downside * math.sqrt(365))
    assert m.calmar == pytest.approx(m.cagr_pct / 100 / 0.001)
    assert (m.trades, m.closed_trades, m.open_trades, m.wins, m.losses) == (2, 1, 1, 1, 0)
    assert m.win_rate_pct == 100.0 and m.profit_factor is None and m.expectancy == D("48.00")
    assert (m.avg_holding_s, m.max_holding_s) == (1.5 * DAY, 2 * DAY)  # the open trade is held until the last close
    assert m.exposure_pct == 75.0
    assert m.exit_reasons == {"signal": 1, "stop_loss": 0} and m.open_at_end == 1  # the open trade is not an exit
    assert m.exits_text() == "signal 1, stop loss 0; 1 still open at the end of the data"
    assert [(r.month, round(r.return_pct, 6)) for r in m.monthly_returns] == [("2024-01", 12.7)]


def _backtest(data, *extra):
    args = build_parser().parse_args(["--data", str(data), "--quiet", *extra])
    setup = settings_from_args(args)
    log = logging.getLogger("test.metrics")
    log.setLevel(logging.WARNING)
    backtest = build_backtest(setup, load_chart(setup), EventBus())
    return backtest, backtest.run()


@pytest.mark.slow
def test_metrics_match_empyrical_and_pandas_on_real_candles(shared_data):
    pd = pytest.importorskip("pandas")
    empyrical = pytest.importorskip("empyrical")
    backtest, report = _backtest(shared_data / "kraken/xbtusd_15m_2023q1.csv.gz", "--strategy", "macd", "--param", "stop_loss_pct=1")
    m, chart, trades = report.metrics, backtest.chart, backtest.ledger.trades
    assert m.trades > 50 and m.exit_reasons["stop_loss"] > 0 and m.exit_reasons["signal"] > 0

    # equity rebuilt independently: cash and position as step functions of the fills' times, read at each candle
    index = pd.to_datetime(np.array(chart.times), unit="s")
    closes = pd.Series(np.array(chart.closes), index=index)
    moves = []
    for t in trades:
        o = t.open_fill
        moves.append((o.time, -float(o.cost + o.fee), float(o.volume)))
        if t.close_fill is not None:
            c = t.close_fill
            moves.append((c.time, float(c.cost - c.fee), -float(c.volume)))
    book = pd.DataFrame(moves, columns=["time", "cash", "volume"]).groupby("time").sum().cumsum()
    book.index = pd.to_datetime(book.index, unit="s")
    book = book.reindex(index, method="ffill").fillna(0.0)
    equity = 10_000 + book["cash"] + book["volume"] * closes
    np.testing.assert_allclose(report.curve.equity, equity.to_numpy(), rtol=1e-9)

    daily_equity = equity.resample("D").last().ffill()
    daily = pd.concat([pd.Series([10_000.0]), daily_equity.reset_index(drop=True)]).pct_change().dropna()
    daily.index = daily_equity.index
    candle_returns = pd.concat([pd.Series([10_000.0]), equity.reset_index(drop=True)]).pct_change().dropna()
    assert m.sharpe == pytest.approx(empyrical.sharpe_ratio(daily, annualization=365), rel=1e-9)
    assert m.sortino == pytest.approx(empyrical.sortino_ratio(daily, annualization=365), rel=1e-9)
    assert m.max_drawdown_pct == pytest.approx(-empyrical.max_drawdown(candle_returns) * 100, rel=1e-9)
    annual = empyrical.annual_return(daily, annualization=365)  # the data is 90 whole days
    assert m.cagr_pct == pytest.approx(annual * 100, rel=1e-9)
    assert m.calmar == pytest.approx(annual / -empyrical.max_drawdown(candle_returns), rel=1e-9)
    assert m.return_pct == pytest.approx((equity.iloc[-1] / 10_000 - 1) * 100, rel=1e-9)
    monthly = equity.resample("ME").last()
    expected = (monthly / pd.concat([pd.Series([10_000.0]), monthly.iloc[:-1].reset_index(drop=True)]).to_numpy() - 1) * 100
    assert [r.month for r in m.monthly_returns] == ["2023-01", "2023-02", "2023-03"]
    np.testing.assert_allclose([r.return_pct for r in m.monthly_returns], expected.to_numpy(), rtol=1e-9)
    assert m.exposure_pct == pytest.approx((book["volume"] > 1e-12).mean() * 100)

    closed = [t for t in trades if t.close_fill is not None]
    pnls = [t.pnl for t in closed]
    assert m.win_rate_pct == pytest.approx(sum(p > 0 for p in pnls) / len(pnls) * 100)
    assert m.profit_factor == pytest.approx(float(sum(p for p in pnls if p > 0) / -sum(p for p in pnls if p <= 0)))
    assert m.expectancy == (sum(pnls) / len(pnls)).quantize(D("0.00001"))
    holds = [t.close_fill.time - t.open_fill.time for t in closed] + [chart.times[-1] + chart.period - t.open_fill.time
                                                                        for t in trades if t.close_fill is None]
    assert m.avg_holding_s == pytest.approx(statistics.mean(holds)) and m.max_holding_s == max(holds)
    assert m.gross_pnl - m.fees == m.net_pnl
    assert m.start_cash + m.net_pnl + m.unrealized_pnl == m.final_equity == backtest.ledger.equity(D(repr(chart.closes[-1])))


@pytest.mark.integration
@pytest.mark.slow
def test_json_carries_every_metric_and_the_summary_adds_up(shared_data, tmp_path):
    data = str(shared_data / "kraken/xbtusd_1h_2023q1.csv")
    base = [sys.executable, "-m", "candlebot", "--data", data, "--strategy", "sma_cross", "--param", "stop_loss_pct=2"]
    summary = json.loads(subprocess.run([*base, "--json"], capture_output=True, text=True, cwd=REPO, check=True).stdout.splitlines()[-1])
    assert {f.name for f in fields(Metrics)} <= set(summary)
    assert summary["open_trades"] == 1  # the run ends in a trade: net and unrealized must stay apart
    assert summary["gross_pnl"] - summary["fees"] == pytest.approx(summary["net_pnl"])
    assert summary["start_cash"] + summary["net_pnl"] + summary["unrealized_pnl"] == pytest.approx(summary["final_equity"])

    text = subprocess.run([*base, "--trades-csv", str(tmp_path / "t.csv")], capture_output=True, text=True, cwd=REPO, check=True).stdout
    rows = dict(line.strip().split("  ", 1) for line in text.splitlines())
    number = lambda key: D(rows[key].split()[0])  # noqa: E731
    assert number("gross P/L") - number("fees") == number("net P/L")
    start, final = (D(x) for x in rows["equity"].split(" (")[0].split(" -> "))
    assert start + number("net P/L") + number("unrealized P/L") == final

    with open(tmp_path / "t.csv") as handle:
        trades = list(csv.DictReader(handle))
    assert len(trades) == summary["trades"]
    reasons = [t["exit_reason"] for t in trades]
    assert reasons.count("stop_loss") == summary["exit_reasons"]["stop_loss"] > 0
    assert reasons.count("signal") == summary["exit_reasons"]["signal"] > 0 and reasons[-1] == "end_of_data"
    for row in trades:
        assert row["open_time_utc"].endswith("Z") and row["open_time_utc"].startswith("2023-")
        end = int(row["close_time"]) if row["close_time"] else summary["last_time"] + 3600
        assert int(row["duration_s"]) == end - int(row["open_time"])


def test_drawdown_duration_and_months_equal_a_plain_loop_on_random_curves():
    """The vectorised durations and month ends (issue 23 made them cheaper) against the definitions, one candle at
    a time: longest time from a peak until back at it (or the end), and each month's last equity over the last."""
    import datetime

    from candlebot.output.equity import EquityCurve
    from candlebot.output.metrics import max_drawdown_duration, monthly_returns

    rng = np.random.default_rng(23)
    for _ in range(200):
        n, period = int(rng.integers(1, 2000)), int(rng.choice([60, 3600, 86400]))
        times = np.sort(rng.choice(np.arange(n * 3), n, replace=False)) * period + 1672531200
        equity = np.round(10_000 + np.cumsum(rng.choice([-1.0, 0.0, 1.0], n) * rng.random(n)), int(rng.integers(0, 3)))
        start_cash = float(rng.choice([10_000.0, equity[0]]))
        curve = EquityCurve(float(times[0]), (times + period).astype(float), equity, np.zeros(n), start_cash)
        levels, stamps = [start_cash, *equity], [float(times[0]), *curve.close_times]
        running, at_peak = -math.inf, []
        for value in levels:
            running = max(running, value)
            at_peak.append(value >= running)
        last_peak, previous_peak = 0, []
        for k, peak in enumerate(at_peak):
            last_peak = k if peak else last_peak
            previous_peak.append(last_peak)
        next_peak, following = [len(levels) - 1] * len(levels), None  # back at the peak, or the end of the data
        for k in range(len(levels) - 1, -1, -1):
            next_peak[k] = following if following is not None else len(levels) - 1
            following = k if at_peak[k] else following
        expected = max((stamps[next_peak[k]] - stamps[previous_peak[k]] for k in range(len(levels)) if not at_peak[k]),
                       default=0.0)
        assert max_drawdown_duration(curve) == expected
        months: dict[str, tuple[float, float]] = {}
        for value, at in zip(equity, curve.close_times):
            months[datetime.datetime.fromtimestamp(at - 1, datetime.UTC).strftime("%Y-%m")] = value
        previous, returns = start_cash, []
        for month, value in months.items():
            returns.append((month, float(value / previous - 1) * 100))
            previous = value
        assert [(r.month, r.return_pct) for r in monthly_returns(curve)] == returns
