"""``candlebot replay``: a paper bot's own record backtested, decision by decision (issue 20 item 4)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.bots import FLIP, ONE_SECOND, REPO, BotRun, start_simulator

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def flipped(tmp_path_factory):
    """A paper bot that traded every one-second candle against the simulator, then stopped."""
    sim = start_simulator()
    try:
        bot = BotRun(tmp_path_factory.mktemp("replay"), sim.url)
        result = bot.run("--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "6")
        assert result.returncode == 0, result.stderr
    finally:
        sim.stop()
    return bot


def replay(bot: BotRun, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", "replay", "--name", bot.name, "--state-dir",
                           str(bot.state_dir), *extra], capture_output=True, text=True, cwd=REPO, timeout=60)


def test_the_backtest_of_a_paper_bots_candles_makes_its_decisions(flipped):
    store = flipped.store()
    filled = [o for o in store.orders() if o["status"] == "filled"]
    store.close()

    result = replay(flipped)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.endswith("agrees")]
    later = sum(int(line.split()[0]) for line in lines if "in the candle still forming" in line)
    assert len(filled) >= 3 and len(rows) + later == len(filled) and later <= 1  # every order, side by side
    for order, row in zip(sorted(filled, key=lambda o: o["created"]), rows):
        assert row.split()[2] == order["side"] and row.split()[3] == order["price"]  # the bot's own price
    assert f"{len(rows)} of {len(rows)} decisions agree" in lines
    assert any(line.startswith("the bot's fills paid") and "--spread" in line for line in lines)


def test_a_what_if_strategy_diverges_with_its_cause_and_exit_1(flipped):
    result = replay(flipped, "--strategy", "tests.support.strategies:Accumulate")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIVERGES: different candle" in result.stdout


def test_an_unknown_bot_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "candlebot", "replay", "--name", "ghost", "--state-dir",
                             str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "no bot named ghost" in line


def test_the_report_draws_the_backtest_beside_the_bot(flipped, tmp_path):
    html = tmp_path / "replay.html"

    result = replay(flipped, "--report", str(html))

    assert result.returncode == 0, result.stdout + result.stderr
    page = html.read_text()
    assert "backtest entry price" in page and "replay: bot" in page and page.count("agrees") >= 3
