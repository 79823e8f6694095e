"""Lean processes: with pandas installed in the environment, neither a bot nor a backtest loads it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.support.bots import ONE_SECOND, REPO, BotRun, start_simulator, stop
from tests.support.wait import wait_until

HEAVY = ("pandas", "polars")


def test_pandas_is_installed_here():
    """The tests below mean something only when TA-Lib could find pandas (it is in the [test] extra)."""
    assert importlib.util.find_spec("pandas") is not None


@pytest.mark.integration
@pytest.mark.slow
def test_a_backtest_never_imports_pandas():
    probe = ("import sys; from candlebot.cli import main; "
             "code = main(['--data', 'demo', '--strategy', 'macd', '--quiet', '--no-cache']); "
             f"print(code, [m for m in {HEAVY!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 []"


@pytest.mark.integration
@pytest.mark.slow
def test_a_first_backtest_of_a_csv_never_imports_pandas(tmp_path):
    """The CSV goes through pyarrow's parser, whose ``ChunkedArray.to_numpy()`` imports pandas (~0.3 s)."""
    data = tmp_path / "candles.csv"
    rows = [f"{1_700_000_000 + 60 * k},{100 + k % 7},{108 + k % 7},{95 + k % 7},{101 + k % 5},1.5" for k in range(500)]
    data.write_text("time,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    probe = ("import sys; from candlebot.cli import main; "
             f"code = main(['--data', {str(data)!r}, '--strategy', 'macd', '--quiet', '--no-cache']); "
             f"print(code, 'pyarrow' in sys.modules, [m for m in {HEAVY!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 True []"


@pytest.mark.integration
@pytest.mark.slow
def test_pandas_still_imports_after_talib():
    probe = "import candlebot.strategy.indicators, sys; assert 'pandas' not in sys.modules; import pandas; print(pandas.Series.__name__)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "Series", result.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_a_running_bot_maps_no_pandas(tmp_path):
    sim = start_simulator()
    try:
        bot = BotRun(tmp_path, sim.url)
        process = bot.start("-p", ONE_SECOND, "-t", "0.2", "--strategy", "macd", "--param", "fast=2",
                            "--param", "slow=3", "--param", "signal=2")
        wait_until(lambda: "started" in bot.logs(), "the bot to start")
        maps = open(f"/proc/{process.pid}/maps").read()
        code, _, err = stop(process)
        assert code == 0, err
    finally:
        sim.stop()
    assert "/talib/" in maps  # the check can see an extension module when one is loaded
    assert not [line for line in maps.splitlines() if any(f"/{name}/" in line for name in HEAVY)]
