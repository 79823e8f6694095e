"""Property-style: random buys and sells with random partial-fill ratios, restarts and lost replies, through the
real trader, store, recovery and Kraken adapter against the simulator. After every step the bot's cash is >= 0;
at the end its open volume equals the account's base balance and its booked fees the simulator's fees."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from candlebot.clock import LiveClock
from candlebot.events import EventBus
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.pricecheck import PriceGuard
from candlebot.live.recovery import Reconciler
from candlebot.live.store import BotStore
from candlebot.trading.trader import Trader
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.exchanges.kraken_sim import DropReply, Faults, ThinBook
from candlebot.exchanges.live import LiveExchange
from tests.kraken.conftest import fast_config
from tests.support.bots import KEY, SECRET, start_simulator
from tests.support.wait import wait_until

XBTUSD = find_pair(offline_pairs(), "XBTUSD")
CASH = Decimal("3000")


@dataclass
class Bot:
    """One life of a bot: everything rebuilt from its state file, as a restart does."""

    kraken: KrakenExchange
    store: BotStore
    ledger: Ledger
    trader: Trader
    reconciler: Reconciler

    def close(self) -> None:
        self.store.close()
        self.kraken.close()


def start_bot(url: str, folder: Path, userrefs: itertools.count) -> Bot:
    clock = LiveClock()
    kraken = KrakenExchange(fast_config(url, lookup_window=0.2), credentials=KrakenCredentials(KEY, SECRET),
                            clock=clock, state_dir=folder)
    store = BotStore(folder / "bot.sqlite", now=clock.now)
    store.bind(pair=XBTUSD.name, start_cash=CASH)
    books = store.load()
    ledger = Ledger(XBTUSD, CASH)
    ledger.restore(books.trades, books.cash)
    exchange = LiveExchange(kraken, XBTUSD, clock)
    bus = EventBus()
    trader = Trader(exchange=exchange, pair=XBTUSD, ledger=ledger, sizing=Sizing(3), fee_rate=XBTUSD.taker_fee, bus=bus,
                    clock=clock, next_userref=lambda: next(userrefs), journal=store, guard=PriceGuard())
    reconciler = Reconciler(trader=trader, exchange=exchange, bus=bus, clock=clock,
                            pending=books.pending, absent_after=0.5)
    return Bot(kraken, store, ledger, trader, reconciler)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_partial_fills_restarts_and_lost_replies_keep_the_books_equal_to_the_account(tmp_path, seed):
    rng = random.Random(seed)
    sim = start_simulator()
    userrefs = itertools.count(rng.randint(1, 10**6) * 1000)
    bot = start_bot(sim.url, tmp_path, userrefs)
    try:
        for step in range(120):
            sim.set_faults(Faults(
                thin_book=ThinBook(fill_ratio=rng.choice((0.01, 0.2, 0.5, 0.77, 1.0))),
                drop_reply=DropReply(mode="502", probability=0.25, methods=("AddOrder",)), seed=step))
            if rng.random() < 0.1:
                bot.close()
                bot = start_bot(sim.url, tmp_path, userrefs)
            if bot.trader.paused:
                bot.reconciler.settle()
            elif rng.random() < 0.5 or not bot.ledger.open_trades:
                bot.trader.buy()
            else:
                bot.trader.close(rng.choice(bot.ledger.open_trades))
            assert bot.ledger.cash >= 0, f"step {step}: cash {bot.ledger.cash}"
        sim.set_faults(Faults())
        wait_until(bot.reconciler.settle, "every intent to settle", timeout=10, interval=0.1)

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
