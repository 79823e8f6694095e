"""Candles from files, from trades and from ticks, checked against Kraken's own candles."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from candlebot.candle import Candle
from candlebot.data.candlefile import load_candles, load_trades
from candlebot.chart import Chart, period_seconds
from candlebot.errors import ConfigError, DataFileError
from candlebot.data.resample import candles_from_trades, resample


@pytest.mark.parametrize("minutes, name", [(5, "5m"), (15, "15m"), (60, "1h")])
def test_resampling_krakens_1m_candles_gives_krakens_own_coarser_files(shared_data, minutes, name):
    one_minute = load_candles(shared_data / "kraken/xbtusdc_1m_2023q1.csv.gz")
    suffix = ".csv.gz" if name != "1h" else ".csv"
    expected = load_candles(shared_data / f"kraken/xbtusdc_{name}_2023q1{suffix}")

    ours = resample(one_minute, minutes * 60)

    assert len(ours) == len(expected)
    assert np.array_equal(ours.times, expected.times)
    for field in ("opens", "highs", "lows", "closes"):
        assert np.array_equal(getattr(ours, field), getattr(expected, field)), field
    assert np.allclose(ours.volumes, expected.volumes, rtol=0, atol=5e-9)


def _kraken_rest_minutes(shared_data):
    rest = load_candles(shared_data / "kraken/xbtusdt_1m_2025-11-10_rest.csv")
    trades = load_trades(shared_data / "kraken/xbtusdt_trades_2025-11-10.csv")
    first_minute = int(trades.times[0] // 60 * 60)
    last_minute = int(trades.times[-1] // 60 * 60)
    inside = (rest.times > first_minute) & (rest.times < last_minute)  # complete minutes only
    return rest, trades, inside


def test_candles_built_from_krakens_trades_equal_krakens_1m_candles(shared_data):
    rest, trades, inside = _kraken_rest_minutes(shared_data)

    ours = candles_from_trades(trades, 60)

    by_time = {int(t): k for k, t in enumerate(ours.times)}
    compared = 0
    for k in np.flatnonzero(inside):
        t = int(rest.times[k])
        if rest.volumes[k] == 0:  # Kraken's REST fills empty minutes; we invent none
            assert t not in by_time
            assert rest.opens[k] == rest.highs[k] == rest.lows[k] == rest.closes[k] == rest.closes[k - 1]
            continue
        j = by_time[t]
        assert (ours.opens[j], ours.highs[j], ours.lows[j], ours.closes[j]) == (
            rest.opens[k], rest.highs[k], rest.lows[k], rest.closes[k])
        assert round(ours.volumes[j], 8) == rest.volumes[k]
        compared += 1
    assert compared == 272  # every complete minute with trades (the data README's count)
    assert len(ours) == compared + 2  # plus the partial first and last minutes


def test_chart_update_tick_by_tick_matches_the_vectorised_builder(shared_data):
    trades = load_trades(shared_data / "kraken/xbtusdt_trades_2025-11-10.csv")
    chart = Chart("XBTUSDT", 60)
    closed = [c for c in (chart.update(p, v, t) for t, p, v in zip(trades.times, trades.prices, trades.volumes)) if c]
    vectorised = candles_from_trades(trades, 60)

    assert len(closed) == len(vectorised) - 1  # the last minute is still forming
    assert chart.forming is not None and chart.forming.time == vectorised.times[-1]
    for candle, k in zip(closed, range(len(closed))):
        assert (candle.time, candle.open, candle.high, candle.low, candle.close) == (
            vectorised.times[k], vectorised.opens[k], vectorised.highs[k], vectorised.lows[k], vectorised.closes[k])
        assert candle.volume == pytest.approx(vectorised.volumes[k], rel=1e-12)


def test_fractional_minutes_give_utc_aligned_three_second_candles():
    chart = Chart("XBTUSD", period_seconds(0.05))
    assert chart.period == 3
    assert chart.update(100.0, 1.0, 1000.5) is None  # opens the candle at floor(1000.5/3)*3 = 999
    assert chart.update(101.0, 1.0, 1001.9) is None
    closed = chart.update(99.0, 2.0, 1002.0)
    assert closed == Candle(999, 100.0, 101.0, 100.0, 101.0, 2.0)
    assert chart.forming == Candle(1002, 99.0, 99.0, 99.0, 99.0, 2.0)


def test_missing_periods_stay_missing_and_the_chart_knows_the_gap():
    chart = Chart("XBTUSD", 60)
    for ts, price in [(0, 10.0), (30, 11.0), (65, 12.0), (250, 13.0), (300, 14.0)]:
        chart.update(price, 1.0, ts)
    chart.close_forming()
    assert list(chart.times) == [0, 60, 240, 300]
    assert chart.gaps() == [(120, 240)]
    assert chart.update(9.0, 1.0, 100) is None  # a stale tick is ignored
    assert len(chart) == 4


def test_kraken_5m_file_gaps_are_reported_not_filled(shared_data):
    candles = load_candles(shared_data / "kraken/xbtusd_5m_2023q1.csv.gz")
    chart = Chart.from_arrays("XBTUSD", 300, candles.times, candles.opens, candles.highs, candles.lows, candles.closes, candles.volumes)
    gaps = chart.gaps()
    assert (1677024900, 1677029400) in gaps  # the 75-minute maintenance on 2023-02-22 00:15-01:25
    assert sum((b - a) // 300 for a, b in gaps) == 19


def test_resample_refuses_periods_the_file_cannot_make(shared_data):
    five = load_candles(shared_data / "kraken/xbtusd_5m_2023q1.csv.gz")
    with pytest.raises(ConfigError, match="cannot make 60s candles"):
        resample(five, 60)
    with pytest.raises(ConfigError, match="not a multiple"):
        resample(five, 420)


@pytest.mark.parametrize("minutes", [0, -1, 0.001, float("nan")])
def test_bad_periods_are_config_errors(minutes):
    with pytest.raises(ConfigError):
        period_seconds(minutes)


@pytest.mark.parametrize(
    "body, line, message",
    [
        ("1,2,3,1,2,5\n2,x,3,1,2,5\n", 3, "field 2 is not a number"),
        ("1,2,3,1,2,5\n2,2,3,1\n", 3, "expected 6 fields"),
        ("60,2,3,1,2,5\n\n60,2,3,1,2,5\n", 4, "not after the previous row"),
        ("60,2,3,1,2,5\n120,2,1,1,2,5\n", 3, "inconsistent candle"),
        ("60,2,3,1,2,5\n120,nan,3,1,2,5\n", 3, "not a finite number"),
    ],
)
def test_a_malformed_row_is_named_by_its_line(tmp_path, body, line, message):
    path = tmp_path / "bad.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("time,open,high,low,close,volume\n" + body)
    with pytest.raises(DataFileError, match=rf"bad\.csv\.gz:{line}: .*{message}"):
        load_candles(path)


def test_missing_and_non_candle_files_are_clear_errors(tmp_path, shared_data):
    with pytest.raises(DataFileError, match="not found"):
        load_candles(tmp_path / "nope.csv")
    with pytest.raises(DataFileError, match="expected a header"):
        load_candles(shared_data / "kraken/xbtusdt_trades_2025-11-10.csv")
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes((shared_data / "kraken/xbtusd_5m_2023q1.csv.gz").read_bytes()[:5000])
    with pytest.raises(DataFileError, match="truncated"):
        load_candles(truncated)


@pytest.mark.slow
def test_a_million_rows_load_into_columns(tmp_path):
    from tests.support.candles import write_candle_file

    path = tmp_path / "two_years_1m.csv.gz"
    written = write_candle_file(path, days=731)
    candles = load_candles(path)
    assert len(candles) == len(written) == 1_052_640
    assert candles.native_period() == 60
    assert candles.times.dtype == np.int64 and candles.closes.dtype == np.float64
    assert (candles.times[0], candles.times[-1]) == (1672531200, 1672531200 + 60 * (1_052_640 - 1))
    assert np.array_equal(candles.closes, written.closes) and np.allclose(candles.volumes, written.volumes, rtol=0, atol=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("bad_line", [None, 150_000, 290_000])
def test_big_files_parse_in_chunks_and_still_name_a_bad_row(tmp_path, bad_line):
    """Over 8 MB of text is inflated by a thread and parsed chunk by chunk; the result and the error lines must not change."""
    rows = 300_000
    times = 1_600_000_000 + 60 * np.arange(rows)
    prices = 20_000 + (np.arange(rows) % 1000) / 10
    lines = [f"{t},{p},{p + 5},{p - 5},{p + 1},{1 + (k % 7) / 100}" for k, (t, p) in enumerate(zip(times, prices))]
    if bad_line is not None:
        lines[bad_line - 2] = lines[bad_line - 2].replace(",", ",x", 1)
    path = tmp_path / "big.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("time,open,high,low,close,volume\n" + "\n".join(lines) + "\n")
    if bad_line is not None:
        with pytest.raises(DataFileError, match=rf"big\.csv\.gz:{bad_line}: malformed row"):
            load_candles(path)
        return
    candles = load_candles(path)
    assert len(candles) == rows
    assert np.array_equal(candles.times, times) and np.array_equal(candles.opens, prices)
    assert np.array_equal(candles.volumes, 1 + (np.arange(rows) % 7) / 100)
