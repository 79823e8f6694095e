"""Paper and live bots as real processes against the Kraken simulator: books equal the exchange's, to the last decimal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from decimal import Decimal

import pytest

from candlebot.live.store import BotStore
from tests.support.bots import FLIP, KEY, ONE_SECOND, REPO, BotRun, first_time, log_times, stop, write_key_file
from tests.support.wait import wait_until


def _filled(store: BotStore) -> list[dict]:
    return [o for o in store.orders() if o["status"] == "filled"]


@pytest.mark.integration
@pytest.mark.slow
def test_a_live_bots_ledger_equals_the_simulators_account(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    result = bot.run("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "-p", ONE_SECOND, "-t", "0.2",
                     "--strategy", FLIP, "--stop-after", "8")
    assert result.returncode == 0, result.stderr

    store = bot.store()
    books, orders = store.load(), _filled(store)
    exchange_orders = {o["userref"]: o for o in sim.orders()}
    assert len(orders) >= 4, bot.logs()
    assert not books.pending
    assert sorted(exchange_orders) == sorted(o["userref"] for o in orders)  # nothing extra, nothing missing
    for order in orders:
        placed = exchange_orders[order["userref"]]
        assert placed["status"] == "closed"
        assert (order["order_id"], Decimal(order["fill_volume"]), Decimal(order["cost"]), Decimal(order["fee"]), Decimal(order["price"])) == (
            placed["txid"], Decimal(placed["vol_exec"]), Decimal(placed["cost"]), Decimal(placed["fee"]), Decimal(placed["price"]))
    spent = sum(Decimal(o["cost"]) + Decimal(o["fee"]) for o in orders if o["side"] == "buy")
    received = sum(Decimal(o["cost"]) - Decimal(o["fee"]) for o in orders if o["side"] == "sell")
    held = sum((t.volume for t in books.trades if t.is_open), Decimal(0))
    balances = sim.balances(KEY)
    assert balances["ZUSD"] == Decimal("10000") - spent + received
    assert balances.get("XXBT", Decimal(0)) == held
    assert books.cash == Decimal("1000") - spent + received  # the bot's own budget moved by exactly the same amounts
    assert "CLOSED Exit Price:" in bot.logs()


@pytest.mark.integration
@pytest.mark.slow
def test_a_paper_bot_places_nothing_and_books_consistent_fills(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    result = bot.run("--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "6")
    assert result.returncode == 0, result.stderr

    books = bot.store().load()
    assert len(books.trades) >= 2
    assert sim.orders() == []  # paper mode never sends an order
    cash = Decimal("1000")
    for trade in books.trades:
        for fill in [trade.open_fill] + ([trade.close_fill] if trade.close_fill else []):
            assert fill.order_id == f"PAPER-{fill.userref}"
            assert fill.fee == (fill.cost * Decimal("0.0026")).quantize(Decimal("1e-5"), rounding="ROUND_CEILING")
            cash += fill.cost - fill.fee if fill.side.value == "sell" else -(fill.cost + fill.fee)
    assert books.cash == cash


@pytest.mark.integration
@pytest.mark.slow
def test_a_restarted_paper_bot_continues_its_books(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    for _ in range(2):
        assert bot.run("--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "4").returncode == 0
    trades = bot.store().load().trades
    assert [t.trade_id for t in trades] == list(range(1, len(trades) + 1))
    assert len({t.open_fill.userref for t in trades}) == len(trades)


@pytest.mark.integration
@pytest.mark.slow
def test_sigterm_stops_within_five_seconds_with_exit_code_0(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    process = bot.start("-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP)
    wait_until(lambda: "started" in bot.logs(), "the bot to start")
    code, out, err = stop(process)  # a process still running 10 s after SIGTERM is killed: code -9
    assert code == 0, err
    lines = log_times(bot.logs())
    received, stopped = first_time(lines, "SIGTERM received"), first_time(lines, "bot stopped")
    assert received is not None and stopped is not None, bot.logs()
    assert stopped - received < 5  # by the bot's own log: a loaded machine's slow interpreter exit is not counted


@pytest.mark.integration
@pytest.mark.slow
def test_candlebot_ledger_prints_a_bots_persisted_books(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    process = bot.start("--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP)

    def trades() -> int:  # the bot's books as they stand (it writes them as it trades)
        if not bot.store_path.exists():
            return 0
        store = bot.store()
        try:
            return len(store.load().trades)
        finally:
            store.close()

    try:  # a trade closed and the next one opened: not "--stop-after 4", which a loaded machine may spend starting up
        wait_until(lambda: trades() >= 2, "the bot's second trade", timeout=60)
    finally:
        code, _, err = stop(process)
    assert code == 0, err
    books = bot.store().load()
    as_json = subprocess.run([sys.executable, "-m", "candlebot.cli.ledger", "--state-dir", str(bot.state_dir), "--name", bot.name, "--json"],
                             capture_output=True, text=True, cwd=REPO, check=True)
    totals = json.loads(as_json.stdout)
    assert totals["trades"] == len(books.trades) >= 2
    assert Decimal(totals["cash"]) == books.cash and totals["unsettled_orders"] == []
    # net P/L as report and status show it: closed trades' gross less every fee paid (an open trade's entry fee too)
    assert Decimal(totals["net_pnl"]) == (sum((t.close_fill.cost - t.open_fill.cost for t in books.trades if not t.is_open), Decimal(0))
                                          - sum((t.open_fill.fee + (t.close_fill.fee if t.close_fill else 0) for t in books.trades), Decimal(0)))
    as_csv = subprocess.run([sys.executable, "-m", "candlebot.cli.ledger", "--state-dir", str(bot.state_dir), "--name", bot.name, "--csv"],
                            capture_output=True, text=True, cwd=REPO, check=True)
    assert as_csv.stdout.splitlines()[0] == ("open_time,close_time,side,volume,entry_price,exit_price,fees,pnl,"
                                             "open_time_utc,close_time_utc,duration_s,exit_reason")
    assert len(as_csv.stdout.splitlines()) == len(books.trades) + 1
    missing = subprocess.run([sys.executable, "-m", "candlebot.cli.ledger", "--state-dir", str(bot.state_dir), "--name", "nobody"],
                             capture_output=True, text=True, cwd=REPO)
    assert missing.returncode == 2 and missing.stderr.startswith("candlebot-ledger: error: no books for bot 'nobody'")


@pytest.mark.slow
@pytest.mark.integration
def test_the_demo_runs_without_keys_or_internet_and_shows_a_complete_trade():
    # it stops by itself after 48 s; Ctrl-C as soon as its trade has closed (about 40 s in) saves the rest
    process = subprocess.Popen([sys.executable, "-m", "candlebot.cli.demo", "--seconds", "48"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    shown: list[str] = []
    reader = threading.Thread(target=lambda: shown.extend(line for line in process.stdout), daemon=True)  # type: ignore[union-attr]
    reader.start()
    wait_until(lambda: process.poll() is not None or any("CLOSED Exit Price:" in line for line in shown), "a closed trade", 90)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    reader.join(10)  # the reader alone reads stdout, to its end
    out, err = "".join(shown), process.stderr.read()  # type: ignore[union-attr]
    assert process.returncode == 0, err
    assert "Kraken simulator on http://127.0.0.1:" in out
    assert "paper mode" in out and "Open: " in out
    assert "the demo bot's books:" in out and "bot=" in out.splitlines()[-1]
    books = out.split("the demo bot's books:")[1]
    assert "CLOSED Exit Price:" in books and " trades=1 " in books and " open_trades=0 " in books, books  # opened and closed
