"""A backtest asked to run `--to` a time after its file's last candle says so in one warning line and ends at that
candle (the new-user review: the run silently stopped months early). Nothing is filled after the last candle: the
gap convention fills periods without trades *between* recorded candles, and after the file no price is known."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from candlebot.cli import main


def backtest(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["backtest", "--strategy", "sma_cross", "--no-cache", *argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def hourly(shared_data) -> str:
    return str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")  # last candle opens 2023-03-31 23:00 UTC


def test_a_to_after_the_last_candle_is_one_warning_and_the_run_ends_there(hourly):
    code, out, err = backtest("--data", hourly, "--to", "2023-06-01", "--json")
    assert code == 0, err
    assert err.splitlines() == ["warning: --to 2023-06-01 00:00:00 UTC is after the last candle of xbtusd_1h_2023q1.csv "
                                "(which ends 2023-04-01 00:00:00 UTC): the backtest ends there"]
    _, whole, _ = backtest("--data", hourly, "--json")
    assert json.loads(out)["candles"] == json.loads(whole)["candles"]  # no candle made up after the file's last


def test_a_to_within_the_file_or_at_its_end_warns_nothing(hourly):
    for to in ("2023-03-15", "2023-04-01"):
        code, _, err = backtest("--data", hourly, "--to", to, "--json")
        assert code == 0 and err == "", err


def test_a_trade_file_warns_from_its_last_trade(shared_data):
    trades = str(shared_data / "kraken" / "xbtusd_trades_2019-07-01.csv")  # last trade 2019-07-01 00:59:51
    code, _, err = backtest("--data", trades, "-p", "5", "--to", "2019-07-03", "--json")
    assert code == 0, err
    assert ("warning: --to 2019-07-03 00:00:00 UTC is after the last candle of xbtusd_trades_2019-07-01.csv "
            "(which ends 2019-07-01 01:00:00 UTC): the backtest ends there") in err.splitlines()


@pytest.mark.parametrize("flag, warning", [
    (("--to", "2023-06-01"), "warning: --to 2023-06-01 00:00:00 UTC is after the last candle of xbtusd_1h_2023q1.csv "
                             "(which ends 2023-04-01 00:00:00 UTC): the backtest ends there"),
    (("--from", "2022-06-01"), "warning: --from 2022-06-01 00:00:00 UTC is before the first candle of "
                               "xbtusd_1h_2023q1.csv (which starts 2023-01-01 00:00:00 UTC): the backtest starts there"),
], ids=["to", "from"])
def test_optimize_says_so_too(hourly, flag, warning):
    pytest.importorskip("optuna")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["optimize", "--data", hourly, "--strategy", "sma_cross", "--space", "fast=4..8:4 slow=20", *flag,
                     "--jobs", "1", "--json", "--no-cache"])
    assert code == 0, err.getvalue()
    assert err.getvalue().splitlines()[0] == warning


def test_a_from_before_the_first_candle_is_one_warning_and_the_run_starts_there(hourly):
    """The mirror of --to: `--from 2022-06-01` on a file that starts 2023-01-01 ran silently from the file's start."""
    code, out, err = backtest("--data", hourly, "--from", "2022-06-01", "--json")
    assert code == 0, err
    assert err.splitlines() == ["warning: --from 2022-06-01 00:00:00 UTC is before the first candle of "
                                "xbtusd_1h_2023q1.csv (which starts 2023-01-01 00:00:00 UTC): the backtest starts there"]
    _, whole, _ = backtest("--data", hourly, "--json")
    assert json.loads(out)["candles"] == json.loads(whole)["candles"]  # nothing made up before the file's first


def test_a_from_within_the_file_or_at_its_start_warns_nothing(hourly):
    for start in ("2023-01-01", "2023-02-15"):
        code, _, err = backtest("--data", hourly, "--from", start, "--json")
        assert code == 0 and err == "", err
