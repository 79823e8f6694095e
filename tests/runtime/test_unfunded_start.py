"""A --validate or --live bot on an account holding none of the quote says so once at start (a new user's report):
it started with cash 0 and no warning, and its first signal only logged "buy order skipped: volume 0 below ordermin"."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.sinks.servers import SlackServer
from tests.support.bots import FLIP, ONE_SECOND, REPO, BotRun, start_simulator, write_key_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WEBHOOK_PATH = "T00000000/B00000000/XXXXfundshookXXXX"
WARNING = "the account holds 0 USD, so no buy can be made: "
AGAIN = ", then start it again (books that never traded take the new cash)"


@pytest.mark.parametrize("mode, fix", [
    ("--validate", "give it a paper budget with --cash AMOUNT or fund the account with USD" + AGAIN),
    ("--live", "fund the account with USD" + AGAIN),
])
def test_a_bot_on_an_account_without_quote_warns_once_at_start(tmp_path, monkeypatch, mode, fix):
    sim = start_simulator(balances={"ZUSD": Decimal("0")})
    slack = SlackServer()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.webhook_url(WEBHOOK_PATH))
    try:
        bot = BotRun(tmp_path, sim.url)
        result = bot.run(mode, "--key-file", str(write_key_file(tmp_path)), "-p", ONE_SECOND, "-t", "0.2",
                         "--strategy", FLIP, "--no-statsd", "--stop-after", "4")
        assert result.returncode == 0, result.stderr
        assert slack.wait_for(1)
        alerts = [r.text() for r in slack.requests if WARNING in r.text()]
    finally:
        slack.close()
        sim.stop()

    lines = [line for line in bot.logs().splitlines() if WARNING in line]
    assert len(lines) == 1 and lines[0].endswith(":WARNING: funds: " + WARNING + fix), bot.logs()
    assert alerts and all(WARNING + fix in text for text in alerts), [r.text() for r in slack.requests]
    status = subprocess.run([sys.executable, "-m", "candlebot", "status", "--state-dir", str(bot.state_dir), "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    [row] = json.loads(status.stdout)
    assert row["last_error"] == f"funds: {WARNING}{fix}", row


@pytest.mark.parametrize("balance, flags", [
    ("500", ()),                    # a funded account
    ("0", ("--cash", "200")),       # an empty one, but validate trades a paper budget
], ids=["funded", "validate-with-cash"])
def test_a_bot_with_a_budget_says_nothing_of_it(tmp_path, balance, flags):
    sim = start_simulator(balances={"ZUSD": Decimal(balance)})
    try:
        bot = BotRun(tmp_path, sim.url)
        result = bot.run("--validate", "--key-file", str(write_key_file(tmp_path)), *flags, "-p", ONE_SECOND, "-t",
                         "0.2", "--strategy", FLIP, "--no-statsd", "--no-slack", "--stop-after", "2")
    finally:
        sim.stop()

    assert result.returncode == 0, result.stderr
    assert "bot started" in bot.logs() and "so no buy can be made" not in bot.logs()


def test_a_bot_started_unfunded_trades_the_cash_of_its_next_start_once_funded(tmp_path):
    """The warning's advice works (review): the first start's books held 0 USD for good, so a bot restarted on the
    funded account still had no budget, and the warning, seeing a funded account, said nothing."""
    key = str(write_key_file(tmp_path))
    unfunded = start_simulator(balances={"ZUSD": Decimal("0")})
    try:
        bot = BotRun(tmp_path, unfunded.url)
        first = bot.run("--live", "--key-file", key, "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--no-statsd",
                        "--no-slack", "--stop-after", "2")
    finally:
        unfunded.stop()
    assert first.returncode == 0 and WARNING in bot.logs(), first.stderr
    assert Decimal(bot.store().meta("start_cash")) == 0

    funded = start_simulator(balances={"ZUSD": Decimal("500")})
    try:
        again = BotRun(tmp_path, funded.url)
        second = again.run("--live", "--key-file", key, "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP,
                           "--no-statsd", "--no-slack", "--stop-after", "4")
    finally:
        funded.stop()
    assert second.returncode == 0, second.stderr
    store = again.store()
    assert Decimal(store.meta("start_cash")) == Decimal("500")
    assert any(o["side"] == "buy" and o["status"] == "filled" for o in store.orders()), again.logs()
    assert again.logs().count(WARNING) == 1  # the first start's only
