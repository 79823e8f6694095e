"""A failed order shows in ``candlebot status`` and in the bot's stop line (a new user's report): with every AddOrder
answered ``EService:Busy`` a buy failed after its retries, yet status said ``last_error: null`` and the stop line
"0 trades opened ... 0 errors in the strategy"; only the HTML report said "1 failed"."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from candlebot.exchanges.kraken_sim import Faults, ServiceError
from tests.support.bots import FLIP, ONE_SECOND, REPO, BotRun, log_times, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_failed_order_is_the_bots_last_error_in_status_and_counted_in_its_stop_line(sim, tmp_path):
    sim.set_faults(Faults(busy=ServiceError(methods=("AddOrder",))))  # every AddOrder refused, before processing
    bot = BotRun(tmp_path, sim.url)
    process = bot.start("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "-p", ONE_SECOND,
                        "-t", "0.2", "--strategy", FLIP, "--no-statsd")
    try:
        def failed() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the bot exited ({process.returncode}): {process.stderr.read()}")
            return " order of " in bot.logs() and "failed: " in bot.logs()

        wait_until(failed, "the bot's first failed order", timeout=90)
    finally:
        code, _, err = stop(process)
    assert code == 0, err

    status = subprocess.run([sys.executable, "-m", "candlebot", "status", "--state-dir", str(bot.state_dir), "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    [row] = json.loads(status.stdout)
    failed_lines = [line for line in bot.logs().splitlines() if " order of " in line and ") failed: " in line]
    reasons = [line.split(") failed: ", 1)[1] for line in failed_lines]
    userref = re.search(r"\(userref (\d+)\) failed: ", failed_lines[-1]).group(1)
    error, _, message = reasons[-1].partition(": ")
    # the adapter cannot tell a busy refusal from an order that went through: an unknown outcome, never "failed"
    assert error == "OrderOutcomeUnknown", reasons
    assert row["last_error"] == f"buy order outcome unknown, being looked up: {message} (userref {userref})", row
    logged = [when for when, line in log_times(bot.logs()) if ") failed: " in line]
    assert abs(row["last_error_time"] - logged[-1]) < 1.0, (row, logged)  # when it failed

    table = subprocess.run([sys.executable, "-m", "candlebot", "status", "--state-dir", str(bot.state_dir)],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
    assert table.returncode == 0 and "buy order outcome unknown" in table.stdout, table.stdout + table.stderr

    [stopped] = [line for line in bot.logs().splitlines() if "bot stopped: " in line]
    failures = len(reasons)
    assert f", {failures} order{'s' if failures > 1 else ''} failed, " in stopped, stopped
