"""Property-style: random buys and sells with random partial-fill ratios, restarts and lost replies, through a live
bot built by the assembly (trader, store, recovery, Kraken adapter) against the simulator. After every step the bot's cash is >= 0;
at the end its open volume equals the account's base balance and its booked fees the simulator's fees."""

from __future__ import annotations

import random
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from candlebot.assembly import BotProcess, BotSettings, build_bot, resolve_strategy
from candlebot.clock import LiveClock
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.exchanges.kraken_sim import DropReply, Faults, ThinBook
from candlebot.identity import BotIdentity
from tests.kraken.conftest import fast_config
from tests.support.audit import audit_now
from tests.support.bots import KEY, start_simulator, write_key_file
from tests.support.wait import wait_until

XBTUSD = find_pair(offline_pairs(), "XBTUSD")
CASH = Decimal("3000")


def start_bot(url: str, folder: Path) -> BotProcess:
    """One life of a live bot, built as users run it: everything rebuilt from its state file, as a restart does."""
    strategy = resolve_strategy("sma_cross")
    settings = BotSettings(pair="XBTUSD", period=60, poll_s=1.0, strategy=strategy,
                           params=strategy.Params(num_simultaneous_trades=3), identity=BotIdentity.from_name("money"),
                           venue=fast_config(url, lookup_window=0.2), state_dir=folder / "state", mode="live",
                           log_dir=folder / "logs", quiet=True, key_file=str(write_key_file(folder)), cash=CASH,
                           reconcile_window=0.5, lookup_every=0.0)
    return build_bot(settings, LiveClock(), threading.Event())


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_partial_fills_restarts_and_lost_replies_keep_the_books_equal_to_the_account(tmp_path, seed):
    rng = random.Random(seed)
    sim = start_simulator()
    bot = start_bot(sim.url, tmp_path)
    try:
        for step in range(120):
            sim.set_faults(Faults(
                thin_book=ThinBook(fill_ratio=rng.choice((0.01, 0.2, 0.5, 0.77, 1.0))),
                drop_reply=DropReply(mode="502", probability=0.25, methods=("AddOrder",)), seed=step))
            if rng.random() < 0.1:
                bot.close()
                bot = start_bot(sim.url, tmp_path)
            audit_now(bot)  # as each poll does: no order before the start-up audit (one waits while an outcome is unknown)
            if bot.trader.paused:
                bot.runtime.reconciler.settle()
            elif rng.random() < 0.5 or not bot.ledger.open_trades:
                bot.trader.buy()
            else:
                bot.trader.close(rng.choice(bot.ledger.open_trades))
            assert bot.ledger.cash >= 0, f"step {step}: cash {bot.ledger.cash}"
        sim.set_faults(Faults())
        wait_until(bot.runtime.reconciler.settle, "every intent to settle", timeout=10, interval=0.1)

        orders = sim.orders()
        executed = [o for o in orders if Decimal(o["vol_exec"]) > 0]
        assert sum(Decimal(o["vol_exec"]) < Decimal(o["vol"]) for o in executed) >= 5, "partial fills were exercised"
        assert len({o["userref"] for o in orders}) == len(orders), "an intent was placed twice"
        balances = sim.balances(KEY)
        assert bot.ledger.position == balances.get("XXBT", Decimal(0))
        assert bot.ledger.fees == sum(Decimal(o["fee"]) for o in orders)
        spent = sum(Decimal(o["cost"]) + Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "buy")
        received = sum(Decimal(o["cost"]) - Decimal(o["fee"]) for o in executed if o["descr"]["type"] == "sell")
        assert bot.ledger.cash == CASH - spent + received >= 0
        reloaded = bot.store.load()
        assert reloaded.cash == bot.ledger.cash and reloaded.trades == bot.ledger.trades
    finally:
        bot.close()
        sim.stop()
