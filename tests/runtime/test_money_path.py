"""The money path under ordinary market conditions, with real bot processes against the simulator (issue 8):
an all-in bot trades, partial fills split trades and survive restarts, bad ticks never become orders, and an
all-in bot killed with SIGKILL never doubles or loses an order."""

from __future__ import annotations

import random
import time
from collections import Counter
from decimal import Decimal

import pytest

from candlebot.exchanges.kraken_sim import BadTicker, DropReply, Faults, ThinBook
from tests.support.bots import FLIP, KEY, ONE_SECOND, BotRun, executed_orders, wait_for_next_order, write_key_file

pytestmark = [pytest.mark.slow, pytest.mark.integration]
START = Decimal("10000")


def live(tmp_path, *extra: str) -> tuple[str, ...]:
    return ("--live", "--key-file", str(write_key_file(tmp_path)), "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, *extra)


def assert_books_equal_the_account(bot: BotRun, sim, start_cash: Decimal) -> list[dict]:
    """Every execution booked once; cash moved by exactly what the account moved; open volume == base balance."""
    store = bot.store()
    books = store.load()
    assert not books.pending
    executed = [o for o in sim.orders() if Decimal(o["vol_exec"]) > 0]
    assert max(Counter(o["userref"] for o in sim.orders()).values()) == 1, "an intent was placed twice"
    booked = {o["userref"]: o for o in store.orders() if o["status"] == "filled"}
    assert sorted(booked) == sorted(o["userref"] for o in executed)
    for order in executed:
        mine = booked[order["userref"]]
        assert (mine["order_id"], Decimal(mine["fill_volume"]), Decimal(mine["cost"]), Decimal(mine["fee"])) == (
            order["txid"], Decimal(order["vol_exec"]), Decimal(order["cost"]), Decimal(order["fee"]))
    spent = sum(Decimal(o["cost"]) + Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "buy")
    received = sum(Decimal(o["cost"]) - Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "sell")
    balances = sim.balances(KEY)
    assert balances["ZUSD"] == START - spent + received
    assert books.cash == start_cash - spent + received >= 0
    assert balances.get("XXBT", Decimal(0)) == sum((t.volume for t in books.trades if t.is_open), Decimal(0))
    assert sum((t.fees for t in books.trades), Decimal(0)) == sum(Decimal(o["fee"]) for o in executed)
    return executed


def running_cash(bot: BotRun, start_cash: Decimal) -> list[Decimal]:
    """The bot's cash after each booked fill, in booking order."""
    cash, path = start_cash, []
    for order in bot.store().orders():
        if order["status"] == "filled":
            sign = -1 if order["side"] == "buy" else 1
            cash += sign * Decimal(order["cost"]) - Decimal(order["fee"])
            path.append(cash)
    return path


def test_an_all_in_live_bot_buys_and_never_overspends(sim, tmp_path):
    """No --cash: the bot's cash is the whole quote balance. Sized at the best ask it was refused every time."""
    bot = BotRun(tmp_path, sim.url)

    result = bot.run(*live(tmp_path, "--stop-after", "8"))

    assert result.returncode == 0, result.stderr
    executed = assert_books_equal_the_account(bot, sim, START)
    assert sum(o["descr"]["type"] == "buy" for o in executed) >= 2, bot.logs()
    assert "Insufficient funds" not in bot.logs() and sim.counters()["errors"] == 0
    assert all(cash >= 0 for cash in running_cash(bot, START))
    for order in sim.orders():  # every order was a protected one
        assert order["descr"]["ordertype"] == "limit" and order["timeinforce"] == "IOC"


def test_partly_filled_sells_split_trades_and_a_restart_recovers_them(sim, tmp_path):
    """thin_book at 0.5: every order executes half. The sold half is booked, the rest stays open; no crash loop."""
    sim.set_faults(Faults(thin_book=ThinBook(fill_ratio=0.5)))
    bot = BotRun(tmp_path, sim.url)

    first = bot.run(*live(tmp_path, "--cash", "1000", "--stop-after", "7"))
    second = bot.run(*live(tmp_path, "--stop-after", "4"))

    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert "ValueError" not in result.stderr + bot.logs()
    executed = assert_books_equal_the_account(bot, sim, Decimal("1000"))
    sells = [o for o in executed if o["descr"]["type"] == "sell"]
    assert sells and all(o["status"] == "canceled" for o in sells)  # partial, as the fault makes them
    trades = bot.store().load().trades
    closed = [t for t in trades if not t.is_open]
    assert closed and all(t.close_fill.volume == t.volume for t in closed)
    opened_by = Counter(t.open_fill.order_id for t in trades)
    assert max(opened_by.values()) >= 2, "a partial sell splits one buy into a closed part and a remainder"
    assert all(cash >= 0 for cash in running_cash(bot, Decimal("1000")))


@pytest.mark.parametrize("fault, seen", [
    (BadTicker(field="ask", value="1.0"), "price rejected (ticker): crossed ticker"),           # the reproduction
    (BadTicker(field="ask", value="1.0", methods=("Depth",)), "price rejected (book): buy not sent: crossed book"),
    (BadTicker(field="last", value="25000"), "is more than 5% from the last trade 25000"),
    (BadTicker(field="bid", value="0", methods=("Depth",)), "price rejected (book): buy not sent: impossible book"),
])
def test_a_bad_tick_never_becomes_an_order(sim, tmp_path, fault, seen):
    sim.set_faults(Faults(bad_ticker=fault))
    bot = BotRun(tmp_path, sim.url)

    result = bot.run(*live(tmp_path, "--cash", "1000", "--stop-after", "5"))

    assert result.returncode == 0, result.stderr
    assert sim.orders() == [] and sim.counters()["errors"] == 0, "an order reached the exchange"
    assert seen in bot.logs()


def test_kill_minus_nine_with_an_all_in_bot_never_doubles_or_loses_an_order(sim, tmp_path):
    rng = random.Random(8)
    bot = BotRun(tmp_path, sim.url)
    args = live(tmp_path, "--reconcile-window", "2", "--crash-limit", "0")  # 12 kills on purpose: no crash bound
    for cycle in range(12):
        sim.set_faults(Faults(drop_reply=DropReply(mode=("hang", "502")[cycle % 2], hang_s=3.0, probability=0.5,
                                                   methods=("AddOrder",)),
                              thin_book=ThinBook(fill_ratio=rng.choice((0.3, 0.5, 1.0)), probability=0.5), seed=cycle))
        process = bot.start(*args)
        wait_for_next_order(sim, process, executed_orders(sim))  # this run got as far as a fill
        time.sleep(rng.uniform(0.0, 0.4))  # the scenario: a kill at a random moment after it, often mid-order
        process.kill()
        process.wait(timeout=10)
    sim.set_faults(Faults())
    final = bot.run(*args, "--stop-after", "5")

    assert final.returncode == 0, final.stderr
    executed = assert_books_equal_the_account(bot, sim, START)
    assert len(executed) >= 12, "every cycle waited for a fill of its own"
    assert "Insufficient funds" not in bot.logs()


def test_a_live_fee_below_krakens_is_refused_before_any_order(tmp_path, sim):
    """Sized with --fee 0 at --max-slippage 0, a live buy of the whole --cash cost 500 + a fee of 1.30: cash -1.30, a
    BooksInvariantError traceback after the fill, and the same at every restart (recovery books it again)."""
    bot = BotRun(tmp_path, sim.url)
    result = bot.run(*live(tmp_path, "--cash", "500", "--fee", "0", "--max-slippage", "0", "--stop-after", "6"), timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "candlebot: error: --fee 0 is below Kraken's taker fee for XBTUSD (0.26%): "
        "live orders sized with it could cost more than the bot's budget"]
    assert sim.orders() == []
