"""Strategy code cannot break the money rules (issue 18): hostile strategies as live bots against the simulator.

Each bot trades with a key while its strategy mutates what it was given, asks for absurd volumes inside its own
try/except, or exits. After every run the books equal the account and every cap the command line set holds;
every mistake is a strategy error (one line, counted, alerted) and the bot goes on until it is stopped.
"""

from __future__ import annotations

import signal
from collections import Counter
from decimal import Decimal

import pytest

from tests.support.bots import KEY, ONE_SECOND, BotRun, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]
START = Decimal("10000")  # the account's USD
HOSTILE = "tests.support.hostile:"


def live(tmp_path, strategy: str, *extra: str) -> tuple[str, ...]:
    return ("--live", "--key-file", str(write_key_file(tmp_path)), "-p", ONE_SECOND, "-t", "0.2", "--no-statsd",
            "--strategy", HOSTILE + strategy, *extra)


def assert_books_equal_the_account(bot: BotRun, sim, start_cash: Decimal) -> list[dict]:
    """Every execution booked once; the bot's cash moved by exactly what the account moved; open volume == base."""
    store = bot.store()
    books = store.load()
    assert not books.pending
    executed = [o for o in sim.orders() if Decimal(o["vol_exec"]) > 0]
    assert not sim.orders() or max(Counter(o["userref"] for o in sim.orders()).values()) == 1, "an intent was placed twice"
    booked = {o["userref"]: o for o in store.orders() if o["status"] == "filled"}
    assert sorted(booked) == sorted(o["userref"] for o in executed)
    spent = sum(Decimal(o["cost"]) + Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "buy")
    received = sum(Decimal(o["cost"]) - Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "sell")
    assert sim.balances(KEY)["ZUSD"] == START - spent + received
    assert books.cash == start_cash - spent + received >= 0
    assert sim.balances(KEY).get("XXBT", Decimal(0)) == sum((t.volume for t in books.trades if t.is_open), Decimal(0))
    store.close()
    return executed


def most_open_at_once(bot: BotRun) -> int:
    """The most trades the books held open at one time (from each trade's open and close fills)."""
    trades = bot.store().load().trades
    spans = [(t.open_fill.time, t.close_fill.time if t.close_fill else float("inf")) for t in trades]
    return max((sum(1 for o, c in spans if o <= start < c) for start, _ in spans), default=0)


def strategy_errors(bot: BotRun) -> list[str]:
    return [detail for _, kind, _, _, detail in bot.store().events() if kind == "error" and detail.startswith("strategy: ")]


def test_a_strategy_mutating_its_views_cannot_get_past_the_cap_the_cash_or_the_next_start(sim, tmp_path):
    """Before: open_trades.clear() let 3 trades open with num_simultaneous_trades=1; ledger.cash = 9000 was booked."""
    bot = BotRun(tmp_path, sim.url)

    result = bot.run(*live(tmp_path, "Mutating", "--cash", "1000", "--stake", "300", "--stop-after", "6"))

    assert result.returncode == 0, result.stderr + bot.logs()
    executed = assert_books_equal_the_account(bot, sim, Decimal(1000))
    buys = [o for o in executed if o["descr"]["type"] == "buy"]
    assert len(buys) == 1 and most_open_at_once(bot) == 1, bot.logs()  # num_simultaneous_trades=1, whatever it set
    assert all(Decimal(o["cost"]) + Decimal(o["fee"]) <= 300 for o in buys)
    errors = strategy_errors(bot)
    assert len(errors) >= 3 and all("AttributeError" in e and "\n" not in e for e in errors), errors
    assert "strategy error: mutating failed on the candle of" in bot.logs() and "internal error" not in bot.logs()
    assert "1 trades open (num_simultaneous_trades=1)" in bot.logs()

    again = bot.run(*live(tmp_path, "Mutating", "--cash", "1000", "--stake", "300", "--stop-after", "2"))

    assert again.returncode == 0, again.stderr  # the books it saw were never the books: the next start is clean
    assert_books_equal_the_account(bot, sim, Decimal(1000))


def test_a_volume_the_strategy_chooses_never_costs_more_than_the_stake(sim, tmp_path):
    """Before: buy(volume) was checked against the cash only, so --stake 300 bought 900 USD."""
    bot = BotRun(tmp_path, sim.url)

    result = bot.run(*live(tmp_path, "Greedy", "--cash", "2000", "--stake", "300", "--param", "num_simultaneous_trades=3",
                           "--stop-after", "6"))

    assert result.returncode == 0, result.stderr + bot.logs()
    executed = assert_books_equal_the_account(bot, sim, Decimal(2000))
    buys = [o for o in executed if o["descr"]["type"] == "buy"]
    assert buys and all(Decimal(o["cost"]) + Decimal(o["fee"]) <= 300 for o in buys), bot.logs()
    assert most_open_at_once(bot) <= 3
    assert "the stake is 300" in bot.logs()


def test_absurd_volumes_caught_by_the_strategy_are_strategy_errors_and_the_bot_goes_on(sim, tmp_path):
    """Before: buy(Decimal("1e30")) inside the strategy's try/except stopped the bot with
    "internal error (a bug in candlebot): InvalidOperation", on every start."""
    bot = BotRun(tmp_path, sim.url)

    result = bot.run(*live(tmp_path, "Absurd", "--cash", "1000", "--stop-after", "6"))

    assert result.returncode == 0 and "internal error" not in result.stderr + bot.logs(), result.stderr + bot.logs()
    executed = assert_books_equal_the_account(bot, sim, Decimal(1000))
    assert sum(o["descr"]["type"] == "buy" for o in executed) >= 1, bot.logs()  # it went on trading
    errors = strategy_errors(bot)
    assert len(errors) >= 2 and all("OrderArgumentError" in e and "nothing sent" in e for e in errors), errors
    assert all(Decimal(o["vol"]) < 1 for o in sim.orders())  # no absurd order reached the exchange
    assert bot.logs().count("strategy error: absurd failed") >= 2 and "Traceback" not in result.stderr


def test_sys_exit_and_keyboard_interrupt_in_a_strategy_are_strategy_errors_and_sigint_still_stops_the_bot(sim, tmp_path):
    """Before: sys.exit(0) in strategy code made the bot exit 0 with an ordinary "bot stopped"."""
    bot = BotRun(tmp_path, sim.url)
    process = bot.start(*live(tmp_path, "Exiting", "--cash", "1000"))
    try:
        def raised_both() -> bool:
            assert process.poll() is None, f"the bot stopped: {process.poll()}\n{bot.logs()}"
            return bot.store_path.exists() and {"SystemExit", "KeyboardInterrupt"} <= _raised(bot)

        wait_until(raised_both, "SystemExit and KeyboardInterrupt raised by the strategy", timeout=60, interval=0.2)
        process.send_signal(signal.SIGINT)  # a person's Ctrl-C still stops it
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "SIGINT received" in bot.logs() and "Traceback" not in err
    assert "strategy error: exiting failed on the candle of" in bot.logs() and "SystemExit: 0" in bot.logs()
    assert_books_equal_the_account(bot, sim, Decimal(1000))


def _raised(bot: BotRun) -> set[str]:
    try:
        errors = strategy_errors(bot)
    except Exception:  # noqa: BLE001 - the bot is still creating its file
        return set()
    return {name for name in ("SystemExit", "KeyboardInterrupt") if any(f": {name}" in e for e in errors)}


def test_a_bot_without_a_key_cannot_be_fooled_either(sim, tmp_path):
    """Paper: the same caps, from the trader's own books (no account to compare with)."""
    bot = BotRun(tmp_path, sim.url)

    result = bot.run("-p", ONE_SECOND, "-t", "0.2", "--no-statsd", "--strategy", HOSTILE + "Mutating", "--cash", "1000",
                     "--stake", "300", "--stop-after", "5")

    assert result.returncode == 0, result.stderr
    books = bot.store().load()
    assert len(books.trades) == 1 and books.cash >= 700 and most_open_at_once(bot) == 1
