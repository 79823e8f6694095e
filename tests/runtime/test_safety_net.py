"""The engine's safety net wraps the strategy's code only (issue 9): real bots against the simulator.

A state file that stops taking writes stops the bot even when the strategy's code catches the error (it made
a bot look alive before), and books broken during start-up recovery stop it with one line and exit code 2
(a traceback and a crash loop before)."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from candlebot.exchanges.kraken import KrakenConfig, KrakenCredentials
from candlebot.live.store import BotStore
from candlebot.venue import OrderRequest, Side
from candlebot.assembly.venues import kraken_venue
from tests.support.bots import KEY, ONE_SECOND, SECRET, BotRun, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]
CAREFUL = "tests.support.strategies:Careful"


def _orders(path: Path) -> int:
    """How many orders the running bot has journaled (read without writing to its file)."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM orders").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def test_a_state_file_locked_away_stops_the_bot_even_when_the_strategy_catches_the_error(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    process = bot.start("--paper", "--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", CAREFUL, "--no-statsd")
    try:
        def trading() -> bool:  # its journal is open and in use
            assert process.poll() is None, "the bot exited before it traded"
            return _orders(bot.store_path) >= 2

        wait_until(trading, "the bot's first orders", timeout=60)
        other = sqlite3.connect(bot.store_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process holds the file longer than the bot waits (5 s)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("a bot that cannot write its state must stop, not look alive")
        finally:
            other.close()
        assert process.returncode == 2, err
        assert err.count("\n") == 1 and err.startswith(f"candlebot: error: cannot write state file {bot.store_path}")
        lines = bot.logs().strip().splitlines()
        assert ":CRITICAL: stopped: cannot write state file" in lines[-1] and "database is locked" in lines[-1]
        assert "strategy error" not in bot.logs() and "state error: cannot write state file" in bot.logs()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_books_broken_during_start_up_recovery_stop_the_bot_with_one_line_and_exit_2(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    kraken = kraken_venue(KrakenConfig(url=sim.url, tier="none", timeout=5), credentials=KrakenCredentials(KEY, SECRET),
                            state_dir=bot.state_dir)  # the bot's nonce file: its own calls come after these
    pair = kraken.pair_info("XBTUSD")
    order = OrderRequest(pair.name, Side.BUY, Decimal("0.1"), 2**31 - 9)
    store = BotStore(bot.store_path, now=time.time)
    store.bind(pair=pair.name, start_cash=Decimal("100"))
    store.intent(order, None)  # an intent without outcome whose fill costs far more than the books' cash
    store.close()
    fill = kraken.place_market_order(order)
    kraken.close()
    assert fill.cost > 100

    run = bot.run("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "100", "-p", ONE_SECOND, "-t", "0.2",
                  "--strategy", CAREFUL, "--no-statsd", "--stop-after", "30")

    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("candlebot: error: booking buy 0.1") and \
        "would leave cash at -" in run.stderr and "Traceback" not in run.stderr
    assert ":CRITICAL: stopped: the books broke an invariant: booking buy 0.1" in bot.logs().strip().splitlines()[-1]
    assert ":ERROR: books error: booking buy 0.1" in bot.logs()  # the alert: every sink hears it
    assert [o["status"] for o in bot.store().orders()] == ["intent"]  # nothing booked: the next start tries again

