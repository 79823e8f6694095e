"""Candle files as a new user brings them: one line on stderr and exit 2, or accepted correctly."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from candlebot.data.candlefile import load_candles
from candlebot.data.resample import resample
from tests.core.test_backtest import _run
from tests.core.test_cli import candlebot

HEADER = "time,open,high,low,close,volume\n"
ROWS = "".join(f"{1672531200 + 60 * k},{100 + k % 5},{106 + k % 5},{99 + k % 5},{101 + k % 5},1.5\n" for k in range(80))


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("candlebot: error: ")
    return line


@pytest.mark.slow
@pytest.mark.integration
def test_millisecond_times_are_refused_with_the_fix(tmp_path):
    path = tmp_path / "ms.csv"
    lines = ROWS.splitlines()
    path.write_text(HEADER + "".join(",".join([l.split(",")[0] + "000", *l.split(",")[1:]]) + "\n" for l in lines))
    line = _one_line_error(candlebot("--data", str(path), "--strategy", "sma_cross"))
    assert "ms.csv:2: candle time 1672531200000 looks like milliseconds" in line
    assert "divide the time column by 1000" in line


@pytest.mark.slow
@pytest.mark.integration
def test_a_row_with_extra_columns_is_refused_by_line(tmp_path):
    path = tmp_path / "extra.csv"
    lines = ROWS.splitlines()
    lines[40] = lines[40].replace(",101,", ",1,01,")  # a thousands separator shifts the row
    path.write_text(HEADER + "\n".join(lines) + "\n")
    line = _one_line_error(candlebot("--data", str(path), "--strategy", "sma_cross"))
    assert "extra.csv:42: malformed row" in line and "(expected 6 fields as in the header, got 7)" in line


def test_extra_columns_named_in_the_header_are_accepted_and_checked(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text(HEADER.strip() + ",trades\n" + "".join(row + ",12\n" for row in ROWS.splitlines()))
    plain = tmp_path / "plain.csv"
    plain.write_text(HEADER + ROWS)
    assert all(np.array_equal(a, b) for a, b in zip(load_candles(wide)._columns(), load_candles(plain)._columns()))
    lines = wide.read_text().splitlines()
    lines[10] += ",3"
    wide.write_text("\n".join(lines) + "\n")
    with pytest.raises(Exception, match=r"wide\.csv:11: .*expected 7 fields as in the header, got 8"):
        load_candles(wide)


@pytest.mark.integration
@pytest.mark.slow
def test_a_gz_name_on_a_plain_file_and_gzip_without_the_name_both_load(tmp_path):
    plain_named_gz = tmp_path / "plain.csv.gz"
    plain_named_gz.write_text(HEADER + ROWS)
    gzip_named_csv = tmp_path / "packed.csv"
    gzip_named_csv.write_bytes(gzip.compress((HEADER + ROWS).encode()))
    reports = []
    for path in (plain_named_gz, gzip_named_csv):
        result = candlebot("--data", str(path), "--strategy", "sma_cross", "--param", "fast=3", "--param", "slow=7",
                           "--json", "--no-cache")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout.splitlines()[-1])
        report.pop("elapsed_s")
        reports.append(report)
    assert reports[0] == reports[1] and reports[0]["candles"] == 80


def test_end_is_exclusive_when_p_resamples(shared_data):
    """-e 10:30 with -p 60 on 5-minute candles: the 10:00 candle holds 10:00-10:25 only."""
    data = shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"
    backtest, _ = _run("sma_cross", data, "-p", "60", "-e", "2023-01-20 10:30")
    chart = backtest.chart
    five = load_candles(data).between(None, 1674210600)  # 2023-01-20 10:30 UTC
    expected = resample(five, 3600)
    assert chart.times[-1] == 1674208800 == expected.times[-1]
    assert (chart.highs[-1], chart.lows[-1], chart.closes[-1], chart.volumes[-1]) == (
        expected.highs[-1], expected.lows[-1], expected.closes[-1], expected.volumes[-1])
    assert chart.closes[-1] == five.closes[-1]  # the close of 10:25, not of 10:55


@pytest.mark.parametrize("name", ["kraken/xbtusd_5m_2023q1.csv.gz", "kraken/xbtusdc_1m_2023q1.csv.gz",
                                  "binanceus/btcusd_1m_2023-03-01_2023-03-21.csv.gz", "kraken/xbtusd_1h_2023q1.csv",
                                  "kraken/xbtusd_trades_2019-07-01.csv"])
def test_arrow_and_numpy_read_every_value_bit_for_bit_alike(shared_data, name):
    """The parser is a choice of speed only: pyarrow's columns are numpy loadtxt's, to the last bit."""
    from candlebot.data.candlefile import (CANDLE_HEADER, TRADE_HEADER, _read_columns_arrow, _read_columns_numpy,
                                           sniff_header)

    path = shared_data / name
    expected = CANDLE_HEADER if sniff_header(path)[:6] == CANDLE_HEADER else TRADE_HEADER
    arrow = _read_columns_arrow(path, expected)
    assert arrow is not None and len(arrow[0]) > 500
    for ours, theirs in zip(arrow, _read_columns_numpy(path, expected)):
        assert ours.dtype == theirs.dtype == np.float64 and ours.tobytes() == theirs.tobytes()


def test_a_file_arrow_refuses_is_read_or_refused_by_the_numpy_reader(tmp_path):
    """Arrow declines what it does not take as it is (here quoted values and a blank field); numpy decides."""
    from candlebot.data.candlefile import CANDLE_HEADER, _read_columns_arrow

    quoted = tmp_path / "quoted.csv"
    quoted.write_text('time,open,high,low,close,volume\n60,"1.5",2,1,1.5,3\n120,1.5,2,1,1.5,3\n')
    assert _read_columns_arrow(quoted, CANDLE_HEADER) is None
    blank = tmp_path / "blank.csv"
    blank.write_text("time,open,high,low,close,volume\n60,1.5,2,1,1.5,3\n120,1.5,,1,1.5,3\n")
    assert _read_columns_arrow(blank, CANDLE_HEADER) is None
    with pytest.raises(Exception, match=r"blank.csv:3"):
        load_candles(blank)
