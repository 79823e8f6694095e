"""One candle convention (issue 20): flat candles for periods without trades, prices on the tick, a spread."""

from __future__ import annotations

import csv
import gzip
import json
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal as D

import numpy as np
import pytest

from candlebot.data.candlefile import load_candles
from candlebot.data.source import load_chart
from tests.core.test_backtest import _run
from tests.core.test_cli import candlebot

HEADER = "time,open,high,low,close,volume\n"
T0 = 1_672_531_200


def _gapped_file(tmp_path):
    """sma_cross fast=2 slow=3 crosses up on the candle at T0+600; the next row of the file is 10 minutes later."""
    rows = [(T0 + 60 * k, 100.0, 100.0) for k in range(10)] + [(T0 + 600, 100.0, 110.0)]
    rows += [(T0 + 600 + 60 * k, 120.0, 120.0) for k in range(11, 20)]
    path = tmp_path / "gapped.csv"
    path.write_text(HEADER + "".join(f"{t},{o},{max(o, c)},{min(o, c)},{c},1\n" for t, o, c in rows))
    return path


def test_a_decision_before_a_gap_fills_at_the_next_period_as_a_bot_would(tmp_path):
    backtest, _ = _run("sma_cross", _gapped_file(tmp_path), "--param", "fast=2", "--param", "slow=3", "--fee", "0")

    [trade] = backtest.ledger.trades
    # the bot's next candle is the flat one at T0+660 (open = the last close, 110), not the file's next row (120)
    assert (trade.open_fill.time, trade.open_fill.price) == (T0 + 660, D("110.0"))
    times = np.array(backtest.chart.times)
    assert (np.diff(times) == 60).all() and len(times) == 30


@pytest.mark.integration
def test_keep_gaps_keeps_the_archives_convention(tmp_path):
    backtest, _ = _run("sma_cross", _gapped_file(tmp_path), "--param", "fast=2", "--param", "slow=3", "--fee", "0",
                       "--keep-gaps")

    [trade] = backtest.ledger.trades
    assert (trade.open_fill.time, trade.open_fill.price) == (T0 + 600 + 660, D("120.0"))
    assert "a bot never sees data that way" in " ".join(candlebot("--help").stdout.split())


def test_candles_built_from_krakens_trades_equal_krakens_rest_ohlc_flat_minutes_included(shared_data):
    rest = load_candles(shared_data / "kraken/xbtusdt_1m_2025-11-10_rest.csv")
    trades = shared_data / "kraken/xbtusdt_trades_2025-11-10.csv"

    chart = load_chart(str(trades), "XBTUSDT", 1, None)

    ours = {t: k for k, t in enumerate(chart.times)}
    inside = [k for k, t in enumerate(rest.times) if chart.times[0] < t < chart.times[-1]]  # complete minutes
    flat = 0
    for k in inside:
        j = ours[int(rest.times[k])]
        assert (chart.opens[j], chart.highs[j], chart.lows[j], chart.closes[j]) == (
            rest.opens[k], rest.highs[k], rest.lows[k], rest.closes[k])
        assert round(chart.volumes[j], 8) == rest.volumes[k]
        flat += rest.volumes[k] == 0
    assert len(inside) == len(chart) - 2 and flat > 100  # every minute, Kraken's flat ones too


def _bot_candles(path, period, minutes):
    """What a bot polling every few seconds charts at ``minutes``: per file period, a flat candle at the last close
    when nothing traded; then first open, max high, min low, last close of each bucket (plain Python)."""
    with gzip.open(path, "rt") as handle:
        rows = [(int(r["time"]), *(float(r[k]) for k in ("open", "high", "low", "close", "volume")))
                for r in csv.DictReader(handle)]
    filled = [rows[0]]
    for row in rows[1:]:
        while filled[-1][0] + period < row[0]:
            close = filled[-1][4]
            filled.append((filled[-1][0] + period, close, close, close, close, 0.0))
        filled.append(row)
    buckets: dict[int, list] = {}
    for t, o, h, l, c, v in filled:
        bucket = buckets.setdefault(t // (minutes * 60) * minutes * 60, [o, h, l, c, 0.0])
        bucket[1], bucket[2], bucket[3], bucket[4] = max(bucket[1], h), min(bucket[2], l), c, bucket[4] + v
    return buckets


def test_gaps_are_filled_at_the_files_resolution_before_resampling(shared_data):
    """A flat minute at the start of a 15-minute bucket opens it at the last close, as the bot's first poll does
    (Kraken's own 15m bar would open at the bucket's first trade)."""
    data = shared_data / "kraken/xbtusdc_1m_2023q1.csv.gz"

    chart = load_chart(str(data), "XBTUSDC", 15, None)

    expected = _bot_candles(data, 60, 15)
    assert list(chart.times) == sorted(expected)
    for k, column in enumerate(("opens", "highs", "lows", "closes")):
        assert list(getattr(chart, column)) == [expected[t][k] for t in chart.times], column
    assert np.allclose(chart.volumes, [expected[t][4] for t in chart.times], rtol=0, atol=5e-9)


@pytest.mark.integration
def test_the_summary_and_json_say_how_many_candles_were_filled(shared_data):
    data = str(shared_data / "kraken/xbtusd_5m_2023q1.csv.gz")
    with gzip.open(data, "rt") as handle:
        times = [int(row["time"]) for row in csv.DictReader(handle)]
    missing = (times[-1] - times[0]) // 300 + 1 - len(times)
    longest = max(b - a for a, b in zip(times, times[1:])) // 300 - 1

    as_json = json.loads(candlebot("--data", data, "--strategy", "sma_cross", "--json").stdout.splitlines()[-1])
    summary = candlebot("--data", data, "--strategy", "sma_cross").stdout
    kept = json.loads(candlebot("--data", data, "--strategy", "sma_cross", "--json", "--keep-gaps").stdout.splitlines()[-1])

    assert (as_json["filled_candles"], as_json["longest_filled_run"], as_json["candles"]) == (
        missing, longest, len(times) + missing)
    assert f"gaps  {missing} flat candles filled at the data's 5m resolution (longest run {longest})" in summary
    assert (kept["filled_candles"], kept["gaps_kept"], kept["candles"]) == (0, True, len(times))


def test_prices_are_rounded_to_the_tick_as_the_float_of_the_decimal(shared_data):
    data = shared_data / "binanceus/btcusd_1m_2023-03-01_2023-03-21.csv.gz"
    with gzip.open(data, "rt") as handle:
        closes = [row["close"] for row in csv.DictReader(handle)]

    chart = load_chart(str(data), "XBTUSD", None, None, tick=D("0.1"))

    steps = [round(float(c) / 0.1) for c in closes]  # half to even on price/tick, as the simulator rounds
    expected = [float(D(k) * D("0.1")) for k in steps]  # what parsing Kraken's decimal string gives
    assert list(chart.closes) == expected
    assert any(k * 0.1 != e for k, e in zip(steps, expected))  # k * 0.1 would differ in the last bit


@pytest.mark.integration
def test_the_summary_says_when_rounding_changed_prices(shared_data):
    data = str(shared_data / "binanceus/btcusd_1m_2023-03-01_2023-03-21.csv.gz")
    on_tick = str(shared_data / "kraken/xbtusd_1h_2023q1.csv")

    rounded = json.loads(candlebot("--data", data, "--strategy", "sma_cross", "--json").stdout.splitlines()[-1])

    assert rounded["tick_rounded_candles"] > 0
    assert "had prices off the pair's tick" in candlebot("--data", data, "--strategy", "sma_cross").stdout
    assert "tick" not in candlebot("--data", on_tick, "--strategy", "sma_cross").stdout.split()


def test_a_spread_makes_buys_pay_the_ask_and_sells_get_the_bid(shared_data):
    data = shared_data / "kraken/xbtusd_1h_2023q1.csv"
    plain, _ = _run("sma_cross", data)
    zero, _ = _run("sma_cross", data, "--spread", "0")
    spread, _ = _run("sma_cross", data, "--spread", "0.2%")

    assert [t.open_fill for t in zero.ledger.trades] == [t.open_fill for t in plain.ledger.trades]
    opens = dict(zip(spread.chart.times, spread.chart.opens))
    assert len(spread.ledger.trades) > 5
    for trade in spread.ledger.trades:
        bought = trade.open_fill
        assert bought.price == (D(repr(opens[int(bought.time)])) * D("1.001")).quantize(D("0.1"), ROUND_CEILING)
        if trade.close_fill is not None:
            sold = trade.close_fill
            assert sold.price == (D(repr(opens[int(sold.time)])) * D("0.999")).quantize(D("0.1"), ROUND_FLOOR)


@pytest.mark.integration
def test_the_summary_and_json_say_the_spread(shared_data):
    data = str(shared_data / "kraken/xbtusd_1h_2023q1.csv")
    assert "spread  0.2% (every fill paid half of it)" in candlebot("--data", data, "--strategy", "sma_cross",
                                                                   "--spread", "0.2%").stdout
    as_json = candlebot("--data", data, "--strategy", "sma_cross", "--spread", "0.002", "--json").stdout
    assert json.loads(as_json.splitlines()[-1])["spread"] == 0.002


@pytest.mark.integration
def test_a_bad_spread_is_one_line_and_exit_2(shared_data):
    result = candlebot("--data", "demo", "--strategy", "sma_cross", "--spread", "150%")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "--spread" in result.stderr
