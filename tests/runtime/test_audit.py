"""A live bot audits its books against the simulator's account and sends no order when they claim more than the
account holds, says so once (log, Slack, StatsD), and trades again once the account covers the books."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from candlebot.venue import OrderRequest, Side
from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.exchanges.kraken.keys import load_credentials
from candlebot.assembly.venues import kraken_venue
from tests.sinks.servers import SlackServer, UdpCollector
from tests.support.bots import KEY, ONE_SECOND, BotRun, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ACCUMULATE = "tests.support.strategies:Accumulate"
WEBHOOK_PATH = "T00000000/B00000000/XXXXaudithookXXXX"


def test_books_that_claim_more_than_the_account_hold_the_bot_until_the_coins_are_back(tmp_path, monkeypatch):
    sim = start_simulator()
    slack, statsd = SlackServer(), UdpCollector()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.webhook_url(WEBHOOK_PATH))
    bot = BotRun(tmp_path, sim.url)
    key_file = write_key_file(tmp_path)
    process = bot.start("--live", "--key-file", str(key_file), "--cash", "1000", "--stake", "40", "-p", ONE_SECOND, "-t", "0.2",
                        "--strategy", ACCUMULATE, "--param", "num_simultaneous_trades=100", "--audit-interval", "1",
                        "--statsd-host", "127.0.0.1", "--statsd-port", str(statsd.port))
    # a person trading on the same account, through the same nonce file
    person = kraken_venue(KrakenConfig(url=sim.url, tier="none"), credentials=load_credentials(key_file), state_dir=bot.state_dir)
    try:
        def bot_buys() -> int:
            return sum(1 for o in sim.orders() if o["descr"]["type"] == "buy" and o["userref"] < 2_000_000_000)

        wait_until(lambda: "audit: the books agree with the account" in bot.logs() and bot_buys() >= 2, "a first audit and buys")
        assert "audit: the books hold" not in bot.logs()

        # Act: someone sells some of the bot's coins by hand
        sold = person.place_market_order(OrderRequest("XXBTZUSD", Side.SELL, Decimal("0.001"), 2_000_000_001))
        assert sold.volume == Decimal("0.001")

        # Assert: held, reported on every channel, no new buy
        wait_until(lambda: "audit: the books hold" in bot.logs(), "the audit to find it")
        wait_until(lambda: bot.logs().count("buy order skipped: on hold since an audit found") >= 3, "refused buys")
        held_at = bot_buys()
        wait_until(lambda: bot.logs().count("buy order skipped: on hold since an audit found") >= 6, "more refused buys")
        assert bot_buys() == held_at
        assert "put the coins back on the account" in bot.logs() and "candlebot-ledger --name BOT --write-off TRADE_ID" in bot.logs()
        assert slack.wait_for(1)
        assert any(r.text().startswith("Books disagree with the account: 1 problem(s)\nthe books hold") for r in slack.requests)
        wait_until(lambda: any(d.name == "candlebot.audit.hold" and d.value == 1 for d in statsd.datagrams()), "the hold metric")
        assert bot.logs().count("audit: the books hold") == 1  # said once, not at every audit
        assert sum("Books disagree" in r.text() for r in slack.requests) == 1
        status = subprocess.run([sys.executable, "-m", "candlebot", "status", "--state-dir", str(bot.state_dir), "--json"],
                                capture_output=True, text=True, timeout=30)
        assert "the books hold" in status.stdout, status.stderr
        assert process.poll() is None

        # Act: the person buys the coins back
        person.place_market_order(OrderRequest("XXBTZUSD", Side.BUY, Decimal("0.001"), 2_000_000_002))

        # Assert: the next audit lifts the hold, the bot trades again and says why
        wait_until(lambda: "hold lifted, trading resumes" in bot.logs(), "the audit to lift the hold")
        wait_until(lambda: bot_buys() > held_at, "a new buy")
        wait_until(lambda: any("Books agree with the account again" in r.text() for r in slack.requests), "the all-clear")
        wait_until(lambda: any(d.name == "candlebot.audit.hold" and d.value == 0 for d in statsd.datagrams()[-40:]), "the metric to drop")
    finally:
        code, _, err = stop(process)
        person.close()
        slack.close()
        statsd.close()
        sim.stop()
    assert code == 0, err
    books = bot.store().load()
    held = sum((t.volume for t in books.trades if t.is_open), Decimal(0))
    assert sim.balances(KEY)["XXBT"] == held  # the books agree with the account again


def test_a_trade_whose_coins_are_gone_is_written_off_with_one_command_and_the_hold_lifts(tmp_path):
    sim = start_simulator()
    bot = BotRun(tmp_path, sim.url)
    key_file = write_key_file(tmp_path)
    argv = ("--live", "--key-file", str(key_file), "--cash", "1000", "--stake", "40", "-p", ONE_SECOND, "-t", "0.2",
            "--strategy", ACCUMULATE, "--param", "num_simultaneous_trades=2", "--audit-interval", "1")
    process = bot.start(*argv)
    person = kraken_venue(KrakenConfig(url=sim.url, tier="none"), credentials=load_credentials(key_file), state_dir=bot.state_dir)
    ledger = [sys.executable, "-m", "candlebot.cli.ledger", "--state-dir", str(bot.state_dir), "--name", bot.name]
    try:
        wait_until(lambda: len(bot.store().load().trades) == 2, "two trades")
        gone = bot.store().load().trades[0]
        person.place_market_order(OrderRequest("XXBTZUSD", Side.SELL, gone.volume, 2_000_000_001))  # sold by hand
        wait_until(lambda: "audit: the books hold" in bot.logs(), "the hold")

        running = subprocess.run([*ledger, "--write-off", str(gone.trade_id)], capture_output=True, text=True, timeout=30)
        assert running.returncode == 2 and f"PID {process.pid}" in running.stderr, running.stderr  # stop the bot first
        code, _, err = stop(process)
        assert code == 0, err

        written = subprocess.run([*ledger, "--write-off", str(gone.trade_id)], capture_output=True, text=True, timeout=30)
        assert written.returncode == 0 and f"trade {gone.trade_id}" in written.stderr, written.stderr
        assert [t.trade_id for t in bot.store().load().trades] == [gone.trade_id + 1]

        process = bot.start(*argv)  # the books fit the account again: no hold, and the bot trades
        wait_until(lambda: len(bot.store().load().trades) == 2, "a new buy")
        assert "hold lifted" in bot.logs()
    finally:
        code, _, err = stop(process)
        person.close()
        sim.stop()
    assert code == 0, err
    assert sim.balances(KEY)["XXBT"] == sum((t.volume for t in bot.store().load().trades if t.is_open), Decimal(0))


def test_a_rotated_key_of_the_same_account_takes_the_books_over_with_one_command(tmp_path):
    sim = start_simulator()
    bot = BotRun(tmp_path, sim.url)
    key_file = write_key_file(tmp_path)
    argv = ("--live", "--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", ACCUMULATE, "--stop-after", "3")
    try:
        assert bot.run(*argv, "--key-file", str(key_file)).returncode == 0
        rotated = tmp_path / "rotated.key"
        rotated.write_text(f"ROTATED-{KEY}\n{key_file.read_text().splitlines()[1]}\n")
        rotated.chmod(0o600)
        refused = bot.run(*argv, "--key-file", str(rotated))
        assert refused.returncode == 2 and "books never move between accounts" in refused.stderr, refused.stderr
        ledger = [sys.executable, "-m", "candlebot.cli.ledger", "--state-dir", str(bot.state_dir), "--name", bot.name]
        adopted = subprocess.run([*ledger, "--new-key-file", str(rotated)], capture_output=True, text=True, timeout=30)
        assert adopted.returncode == 0 and "fingerprint" in adopted.stderr and "ROTATED" not in adopted.stderr
        assert bot.store().meta("account") not in (None, "paper") and "ROTATED" not in bot.store().meta("account")
    finally:
        sim.stop()
