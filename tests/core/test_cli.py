"""Bad input: one clear line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from candlebot.exchanges.kraken_pairs import snapshot_reply

REPO = Path(__file__).resolve().parents[2]

CATALOG_PAIRS = len(snapshot_reply()["result"])  # the bundled catalog's size, as the messages count it


def candlebot(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", *argv], capture_output=True, text=True, cwd=REPO, timeout=60)


@pytest.fixture()
def bad_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,open,high,low,close,volume\n60,1,2,1,1,3\n120,1,2,1,1,3\n180,1,oops,1,1,3\n")
    return str(path)


@pytest.mark.integration
@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data", "/nonexistent/candles.csv", "--strategy", "sma_cross"], "data file not found: /nonexistent/candles.csv"),
        (["--data", "/tmp", "--strategy", "sma_cross"], "is a directory"),
        (["--data", "BAD_ROW", "--strategy", "sma_cross"], "bad.csv:4: malformed row '180,1,oops,1,1,3' (field 3 is not a number)"),
        (["--data", "demo", "--strategy", "moon_shot"], "unknown strategy 'moon_shot' (available: bollinger, direction_mask, macd,"),
        (["--data", "demo", "--strategy", "sma_cross", "--param", "fats=3"], "unknown parameter 'fats' for strategy sma_cross (known: num_simultaneous_trades, stop_loss_pct, fast, slow)"),
        (["--data", "demo", "--strategy", "sma_cross", "--param", "fast=ten"], "parameter fast: 'ten' is not a valid integer"),
        (["--data", "demo", "--strategy", "sma_cross", "--param", "fast=40"], "slow (30) must be longer than fast (40)"),
        (["--data", "demo", "--strategy", "sma_cross", "--param", "fast"], "--param expects name=value, got 'fast'"),
        (["--data", "demo", "--strategy", "direction_mask", "--param", "mask=1,2,0"], "mask holds 0s and 1s only"),
        (["--data", "demo", "--strategy", "sma_cross", "--fee", "0.26"], "--fee 0.26 is 26.00% per fill"),
        (["--data", "demo", "--strategy", "sma_cross", "--max-slippage", "150%"], "--max-slippage must be a fraction within [0, 1) or a percent (0.5%), got 150%"),
        (["--data", "demo", "--strategy", "sma_cross", "--max-slippage", "-0.1"], "--max-slippage must be a fraction"),
        (["--data", "demo", "--strategy", "sma_cross", "--max-slippage", "lots"], "--max-slippage"),
        (["--data", "demo", "--strategy", "sma_cross", "--cash", "-5"], "--cash must be > 0, got -5"),
        (["--data", "demo", "--strategy", "sma_cross", "--cash", "lots"], "--cash: 'lots' is not a number"),
        (["--data", "demo", "--strategy", "sma_cross", "--stake", "20000"], "--stake 20000 is more than --cash 10000: every buy would be skipped"),
        (["--data", "demo", "--strategy", "sma_cross", "-p", "abc"], "argument -p/--period: expected a number of minutes, got 'abc'"),
        (["--data", "demo", "--strategy", "sma_cross", "-p", "0.001"], "not a whole number of seconds"),
        (["--data", "demo", "--strategy", "sma_cross", "-p", "0.5"], "cannot make 30s candles from a file of 60s candles"),
        (["--data", "demo", "--strategy", "sma_cross", "-s", "2024-02-01", "-e", "2024-01-01"], "--from (2024-02-01 00:00:00) must be before --to (2024-01-01 00:00:00)"),
        (["--data", "demo", "--strategy", "sma_cross", "-s", "next tuesday-ish"], "--from: cannot read 'next tuesday-ish' as a date"),
        (["--data", "demo", "--strategy", "sma_cross", "-s", "2030-01-01"], "no candles between --from and --to"),
        (["--data", "demo", "--strategy", "sma_cross", "-x", "binance"], "unknown exchange 'binance' (candlebot trades on: kraken)"),
        (["--data", "demo", "--strategy", "sma_cross", "-c", "DOGEUSD"], f"unknown pair 'DOGEUSD' (not among the {CATALOG_PAIRS} Kraken pairs candlebot knows; did you mean XDGUSD, XDGUSDT, XDGUSDC?)"),
        (["--data", "demo"], "the following arguments are required: --strategy"),
        (["--data", "demo", "--strategy", "sma_cross", "--trades-csv", "/nonexistent/dir/t.csv"], "--trades-csv: cannot write /nonexistent/dir/t.csv"),
    ],
)
@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_code_2(argv, message, bad_row):
    result = candlebot(*[bad_row if a == "BAD_ROW" else a for a in argv])
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("candlebot: error: ")
    assert message in lines[0]


@pytest.mark.integration
@pytest.mark.slow
def test_dates_datetimes_and_unix_seconds_all_select_the_same_range():
    reports = []
    for start, end in [("2024-01-10", "2024-01-20"), ("2024-01-10T00:00:00Z", "2024-01-20 00:00"), ("1704844800", "1705708800")]:
        result = candlebot("--data", "demo", "-p", "60", "--strategy", "sma_cross", "-s", start, "-e", end, "--json")
        assert result.returncode == 0, result.stderr
        reports.append(result.stdout.splitlines()[-1])
    assert '"candles": 240' in reports[0]
    assert reports[0].split('"elapsed_s"')[0] == reports[1].split('"elapsed_s"')[0] == reports[2].split('"elapsed_s"')[0]


@pytest.mark.integration
def test_help_shows_the_original_flags():
    result = candlebot("--help")
    assert result.returncode == 0 and "-x EXCHANGE" in result.stdout and "--strategy" in result.stdout


@pytest.mark.integration
@pytest.mark.slow
def test_long_runs_show_a_progress_bar_on_a_terminal_and_stay_silent_in_pipes(tmp_path):
    from tests.support.candles import write_candle_file
    from tests.support.terminal import run_on_terminal

    data = tmp_path / "synthetic_1m.csv.gz"  # a name of no pair: the run is silent in pipes
    write_candle_file(data, days=160)  # from 2023-01-01; -e cuts it at 151 days = 217440 candles
    long_run = ("--data", str(data), "-e", "2023-06-01", "--strategy", "sma_cross")
    result, shown = run_on_terminal([sys.executable, "-m", "candlebot", *long_run, "--report", str(tmp_path / "r.html")],
                                    stream="stderr", cwd=REPO, timeout=120)
    assert result.returncode == 0
    assert b"backtest:" in shown and b"candles/s" in shown and b"report:" in shown  # tqdm's bars on the terminal
    assert b"candles  217440" in result.stdout and b"max drawdown" in result.stdout  # the summary still goes to stdout
    piped = candlebot(*long_run, "--quiet")
    assert piped.returncode == 0 and piped.stderr == ""  # no progress noise in pipes and logs


@pytest.mark.integration
@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_output_quietly():
    """`candlebot --data ... -v | head -1`: no 'Logging error' traceback per remaining line, exit 0."""
    process = subprocess.Popen([sys.executable, "-m", "candlebot", "--data", "demo", "-p", "60", "-e", "2024-01-31",
                                "--strategy", "sma_cross", "-v"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().strip()  # the first ticker line, as head -1 reads it
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert err.decode() == ""


@pytest.mark.slow
def test_a_strategy_that_cannot_warm_up_on_the_data_says_so(capsys):
    from candlebot.cli import main

    assert main(["--data", "demo", "-p", "60", "--strategy", "sma_cross", "--param", "fast=800", "--param", "slow=900",
                 "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "the strategy never traded: its indicators and lookback need more than the 720 candles" in captured.err
    assert "trades  0 (0 won" in captured.out
