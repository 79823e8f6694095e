"""The backtester on real candles: sma_cross checked against a straightforward computation, every strategy sane."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import subprocess
import sys
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal as D
from pathlib import Path

import numpy as np
import pytest
import talib

from candlebot.cli.args import build_parser
from candlebot.assembly import build_backtest, load_chart
from candlebot.cli.backtest import settings_from_args
from candlebot.events import EventBus
from candlebot.money import to_decimal
from candlebot.strategies import STRATEGIES

REPO = Path(__file__).resolve().parents[2]


def _read_csv(path: Path, period: int = 300, tick: D = D("0.1")):
    """Read the candle file with the csv module, independent of candlebot's loader, in the bot's convention: prices
    on the tick (half to even on price/tick, the float of the decimal k × tick) and a flat candle at the previous
    close for every period without a row, as a polling bot and Kraken's REST OHLC make them."""
    with gzip.open(path, "rt") if path.suffix == ".gz" else open(path) as handle:
        rows = list(csv.DictReader(handle))

    def on_tick(text: str) -> float:
        return float(round(float(text) / float(tick)) * tick)

    times, opens, closes = [], [], []
    for r in rows:
        while times and times[-1] + period < int(r["time"]):
            times.append(times[-1] + period)
            opens.append(closes[-1])
            closes.append(closes[-1])
        times.append(int(r["time"]))
        opens.append(on_tick(r["open"]))
        closes.append(on_tick(r["close"]))
    return times, opens, closes


def _expected_sma_cross(times, opens, closes, cash=D("10000"), fee=D("0.0026"), max_slippage=D(0)):
    """sma_cross as the issue states it, booked like Kraken: one decimal prices, 8 lot and 5 cost decimals.

    Buys are sized at the protection price (the next open moved up by ``max_slippage``, floored to the tick)
    and fill at the next open."""
    fast = talib.SMA(np.array(closes), 10)
    slow = talib.SMA(np.array(closes), 30)
    lot, cents = D("1e-8"), D("1e-5")
    position = None
    trades = []
    for i in range(1, len(closes) - 1):  # a decision on the last candle has no next open to fill at
        if np.isnan([fast[i], slow[i], fast[i - 1], slow[i - 1]]).any():
            continue
        if position is None and fast[i] > slow[i] and fast[i - 1] <= slow[i - 1]:
            price = D(repr(opens[i + 1])).quantize(D("0.1"), rounding=ROUND_CEILING)
            protection = (price * (1 + max_slippage)).quantize(D("0.1"), rounding=ROUND_FLOOR)
            volume = (cash / (protection * (1 + fee))).quantize(lot, rounding=ROUND_FLOOR)
            while True:
                bound = (protection * volume).quantize(cents)
                if bound + (bound * fee).quantize(cents, rounding=ROUND_CEILING) <= cash:
                    break
                volume -= lot
            cost = (price * volume).quantize(cents)
            entry_fee = (cost * fee).quantize(cents, rounding=ROUND_CEILING)
            cash -= cost + entry_fee
            position = (times[i + 1], volume, price, cost, entry_fee)
        elif position is not None and fast[i] < slow[i] and fast[i - 1] >= slow[i - 1]:
            t0, volume, entry, cost, entry_fee = position
            price = D(repr(opens[i + 1])).quantize(D("0.1"), rounding=ROUND_FLOOR)
            proceeds = (price * volume).quantize(cents)
            exit_fee = (proceeds * fee).quantize(cents, rounding=ROUND_CEILING)
            cash += proceeds - exit_fee
            trades.append((t0, times[i + 1], volume, entry, price, entry_fee + exit_fee, proceeds - exit_fee - cost - entry_fee))
            position = None
    if position is not None:
        t0, volume, entry, cost, entry_fee = position
        trades.append((t0, None, volume, entry, None, entry_fee, None))
    return trades, cash


@pytest.mark.integration
@pytest.mark.parametrize("flags, max_slippage", [(["--max-slippage", "0"], D(0)), ([], D("0.005")),
                                                  (["--max-slippage", "1%"], D("0.01"))])
@pytest.mark.slow
def test_sma_cross_fills_equal_a_straightforward_computation(shared_data, tmp_path, flags, max_slippage):
    data = shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"
    times, opens, closes = _read_csv(data)
    expected, cash = _expected_sma_cross(times, opens, closes, max_slippage=max_slippage)
    out = tmp_path / "trades.csv"

    result = subprocess.run(
        [sys.executable, "-m", "candlebot", "--data", str(data), "--strategy", "sma_cross", "--json", "--trades-csv", str(out),
         *flags],
        capture_output=True, text=True, cwd=REPO, check=True,
    )

    summary = json.loads(result.stdout.strip().splitlines()[-1])
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(expected) > 100
    for row, (t0, t1, volume, entry, exit_price, fees, pnl) in zip(rows, expected):
        assert int(row["open_time"]) == t0 and row["side"] == "buy"
        assert (D(row["volume"]), D(row["entry_price"]), D(row["fees"])) == (volume, entry, fees)
        if t1 is None:
            assert row["close_time"] == row["exit_price"] == row["pnl"] == ""
        else:
            assert (int(row["close_time"]), D(row["exit_price"]), D(row["pnl"])) == (t1, exit_price, pnl)
    open_value = sum(v * D(repr(closes[-1])) for _, t1, v, *_ in expected if t1 is None)
    assert summary["trades"] == len(expected)
    assert D(str(summary["final_equity"])) == (cash + open_value).quantize(D("1e-5"))
    assert summary["candles"] == len(times)
    assert summary["wins"] + summary["losses"] == sum(1 for t in expected if t[1] is not None)


def _run(strategy, data, *extra):
    args = build_parser().parse_args(["--data", str(data), "--strategy", strategy, "--quiet", *extra])
    setup = settings_from_args(args)
    chart = load_chart(setup)
    log = logging.getLogger(f"test.{strategy}")
    log.setLevel(logging.WARNING)
    backtest = build_backtest(setup, chart, EventBus())
    return backtest, backtest.run()


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_produces_a_sane_ledger_on_real_data(shared_data, strategy):
    extra = ["--param", "num_simultaneous_trades=2"] if strategy in ("stochastic", "stochastic_sr_ma") else []
    backtest, report = _run(strategy, shared_data / "kraken/xbtusd_15m_2023q1.csv.gz", *extra)
    ledger, chart = backtest.ledger, backtest.chart

    assert report.trades > 0, "a strategy that never trades on a quarter of data is not exercised"
    assert ledger.cash >= 0
    exchange = backtest.trader.exchange
    assert exchange.balances() == {"ZUSD": ledger.cash, "XXBT": ledger.position}  # the books equal the venue
    opens_by_time = dict(zip(chart.times, chart.opens))
    booked = ledger.start_cash
    for trade in ledger.trades:
        fills = [trade.open_fill] + ([trade.close_fill] if trade.close_fill else [])
        for fill in fills:  # every fill at a candle's open, rounded to one decimal against us
            raw = to_decimal(opens_by_time[int(fill.time)])
            if fill.side.value == "buy":
                assert raw <= fill.price < raw + D("0.1")
            else:
                assert raw - D("0.1") < fill.price <= raw
        booked -= trade.open_fill.cost + trade.open_fill.fee
        if trade.close_fill:
            assert trade.close_fill.time > trade.open_fill.time
            booked += trade.close_fill.cost - trade.close_fill.fee
            assert trade.pnl == trade.gross_pnl - trade.fees
    assert booked == ledger.cash
    assert report.fees == sum(t.fees for t in ledger.trades)
    assert 0 <= report.max_drawdown_pct < 100


def test_trading_starts_at_s_but_earlier_candles_warm_the_indicators(shared_data):
    data = shared_data / "kraken/xbtusd_1h_2023q1.csv"
    backtest, report = _run("sma_cross", data, "-s", "2023-02-01", "-e", "2023-03-01")
    assert report.first_time == 1675209600 and report.last_time == 1677625200  # 2023-02-01 00:00 .. 02-28 23:00
    assert report.candles == 28 * 24
    assert all(t.open_fill.time >= 1675209600 for t in backtest.ledger.trades)


@pytest.mark.slow
@pytest.mark.integration
def test_backtest_json_has_the_promised_fields(shared_data):
    result = subprocess.run(
        [sys.executable, "-m", "candlebot", "--data", str(shared_data / "kraken/xbtusd_1h_2023q1.csv"), "--strategy", "macd", "--json"],
        capture_output=True, text=True, cwd=REPO, check=True,
    )
    summary = json.loads(result.stdout.splitlines()[-1])
    for key in ("candles", "trades", "wins", "losses", "fees", "start_cash", "final_equity", "return_pct", "max_drawdown_pct", "elapsed_s"):
        assert key in summary
    assert summary["candles"] == 2160 and summary["start_cash"] == 10000


def _backtest_output(shared_data, *extra):
    result = subprocess.run(
        [sys.executable, "-m", "candlebot", "--data", str(shared_data / "kraken/xbtusd_1d_2023q1.csv"), "--strategy", "sma_cross",
         "--param", "fast=3", "--param", "slow=8", *extra],
        capture_output=True, text=True, cwd=REPO, check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.slow
@pytest.mark.integration
def test_the_default_output_is_the_summary_alone(shared_data):
    lines = _backtest_output(shared_data)
    assert lines[0].strip().startswith("strategy") and lines[-1].strip().startswith("elapsed")
    assert not any(":INFO:" in l for l in lines)


@pytest.mark.slow
@pytest.mark.integration
def test_verbose_output_has_ticker_and_labelled_ledger_lines_then_a_summary(shared_data):
    lines = _backtest_output(shared_data, "-v")
    assert any(l.startswith("2023-") and ":INFO: Open: " in l and " Current: " in l for l in lines)
    ledger = [l for l in lines if " BUY " in l]
    assert ledger and all(" @ " in l and " = $" in l and " | price move: $" in l and l.endswith("%)") for l in ledger)
    closed = [l for l in ledger if "CLOSED Exit Price: " in l]
    assert closed and all(" net P/L: $" in l for l in closed)
    held = 0
    for line in lines:  # an open trade is marked at the close of the candle its line follows, not at its entry
        if ":INFO: Open: " in line:
            close = D(line.split(" Close: ")[1].split()[0])
        elif " OPEN Mark: " in line:
            held += 1
            assert D(line.split(" OPEN Mark: ")[1].split()[0]) == close and " unrealized net P/L: $" in line
    assert held > 1
    assert "exits" in lines[-3] and "monthly %  2023  Jan " in lines[-2] and lines[-1].strip().startswith("elapsed")
