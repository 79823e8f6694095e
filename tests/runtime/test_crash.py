"""Crash-only: a live bot killed with SIGKILL at random moments, dropped replies included, never doubles
an order and never loses a fill."""

from __future__ import annotations

import pytest

import random
import time
from collections import Counter
from decimal import Decimal

from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim.faults import DropReply
from tests.support.bots import FLIP, KEY, ONE_SECOND, BotRun, executed_orders, start_simulator, wait_for_next_order, write_key_file

pytestmark = pytest.mark.integration

CYCLES = 52


@pytest.mark.slow
def test_kill_minus_nine_at_random_moments_never_doubles_or_loses_an_order(tmp_path):
    sim = start_simulator()
    rng = random.Random(20261121)
    try:
        bot = BotRun(tmp_path, sim.url)
        live = ("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "2000", "-p", ONE_SECOND, "-t", "0.2",
                "--strategy", FLIP, "--reconcile-window", "2", "--crash-limit", "0")  # 52 kills on purpose: no bound
        for cycle in range(CYCLES):
            # half the cycles lose AddOrder replies after the order is booked: as a 502, or a hang past the 2 s timeout
            mode = ("hang", "502", None)[cycle % 3]
            sim.set_faults(Faults(drop_reply=DropReply(mode=mode, hang_s=3.0, probability=0.5, methods=("AddOrder",)), seed=cycle)
                           if mode else Faults())
            process = bot.start(*live)
            if cycle % 4 == 3:  # sometimes during start-up and recovery
                time.sleep(rng.uniform(0.0, 1.5))  # the scenario: a kill at a random moment, not a wait for an outcome
            else:  # often mid-order: once this run's next order filled on the exchange, at a random moment after it
                wait_for_next_order(sim, process, executed_orders(sim))
                time.sleep(rng.uniform(0.0, 0.4))  # the scenario, as above
            process.kill()
            process.wait(timeout=10)
        sim.set_faults(Faults())
        final = bot.run(*live, "--stop-after", "5")
        assert final.returncode == 0, final.stderr

        orders = sim.orders()
        per_ref = Counter(o["userref"] for o in orders)
        assert per_ref and max(per_ref.values()) == 1, "an intent was placed twice"
        store = bot.store()
        books = store.load()
        assert not books.pending, f"unsettled after the final run: {books.pending}"
        booked = {o["userref"]: o for o in store.orders() if o["status"] == "filled"}
        executed = [o for o in orders if Decimal(o["vol_exec"]) > 0]
        missing = [o["userref"] for o in executed if o["userref"] not in booked]
        assert not missing, f"fills on the exchange missing from the ledger: {missing}"
        assert len(booked) == len(executed)
        for order in executed:
            assert booked[order["userref"]]["order_id"] == order["txid"]
        assert len(executed) >= CYCLES - CYCLES // 4, "every cycle that waited for a fill saw one"
        spent = sum(Decimal(o["cost"]) + Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "buy")
        received = sum(Decimal(o["cost"]) - Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "sell")
        assert sim.balances(KEY)["ZUSD"] == Decimal("10000") - spent + received
        assert books.cash == Decimal("2000") - spent + received
        held = sum((t.volume for t in books.trades if t.is_open), Decimal(0))
        assert sim.balances(KEY).get("XXBT", Decimal(0)) == held
    finally:
        sim.stop()
