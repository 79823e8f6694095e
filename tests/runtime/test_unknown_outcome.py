"""An order whose outcome is unknown mid-run pauses the trader until it is looked up and booked:
the strategy cannot send it again, and its fill is never lost (real adapter against the simulator)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from candlebot.assembly import BotSettings, build_bot, resolve_strategy
from candlebot.clock import LiveClock
from candlebot.events import OrderFailed, OrderSkipped
from candlebot.identity import BotIdentity
from candlebot.exchanges.kraken.config import KrakenConfig, RetryPolicy
from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim.faults import DropReply, Fault
from tests.support.audit import audit_now
from tests.support.bots import start_simulator, write_key_file
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration

LOOKUPS = ("OpenOrders", "ClosedOrders", "TradesHistory", "QueryOrders")


@pytest.fixture()
def desk(tmp_path):
    sim = start_simulator()
    config = KrakenConfig(url=sim.url, tier="none", timeout=1.0, connect_timeout=1.0, lookup_window=0.3, lookup_interval=0.05,
                          retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    strategy = resolve_strategy("sma_cross")
    settings = BotSettings(pair="XBTUSD", period=60, poll_s=1.0, strategy=strategy, params=strategy.Params(),
                           identity=BotIdentity.from_name("unknown-outcome"), venue=config, state_dir=tmp_path / "state",
                           mode="live", log_dir=tmp_path / "logs", quiet=True, key_file=str(write_key_file(tmp_path)),
                           cash=Decimal("1000"), reconcile_window=5.0, lookup_every=0.0)
    bot = build_bot(settings, LiveClock(), threading.Event())
    assert audit_now(bot) == 1  # the start-up audit: no order goes before it compares
    events: list = []
    bot.runtime.bus.subscribe(events.append)
    yield sim, bot.trader, bot.runtime.reconciler, bot.ledger, bot.store, events
    bot.close()
    sim.stop()


def _lose_replies(sim) -> None:
    """AddOrder is booked but its reply lost, and every lookup fails: the adapter cannot tell."""
    sim.set_faults(Faults(drop_reply=DropReply(mode="502", methods=("AddOrder",)), unavailable=Fault(methods=LOOKUPS)))


@pytest.mark.slow
def test_a_lost_buy_pauses_the_trader_until_its_fill_is_booked(desk):
    sim, trader, reconciler, ledger, store, events = desk
    _lose_replies(sim)

    assert trader.buy() is None
    assert isinstance(events[-1], OrderFailed) and events[-1].error == "OrderOutcomeUnknown"
    assert trader.paused and len(trader.unsettled) == 1
    assert trader.buy() is None  # the strategy decides again: nothing is sent
    assert isinstance(events[-1], OrderSkipped) and "waiting for the outcome" in events[-1].reason
    assert len(sim.orders()) == 1

    assert not reconciler.settle()  # lookups still failing: still pending, still paused
    sim.set_faults(Faults())
    assert reconciler.settle()

    placed = sim.orders()[0]
    assert trader.paused is None and len(ledger.open_trades) == 1
    fill = ledger.open_trades[0].open_fill
    assert (fill.order_id, fill.volume, fill.cost, fill.fee) == (placed["txid"], Decimal(placed["vol_exec"]), Decimal(placed["cost"]), Decimal(placed["fee"]))
    assert store.load().pending == [] and store.load().trades[0].open_fill == fill
    assert ledger.cash == Decimal("1000") - fill.cost - fill.fee


@pytest.mark.slow
def test_a_lost_sell_is_not_sent_again(desk):
    sim, trader, reconciler, ledger, store, events = desk
    trade = trader.buy()
    assert trade is not None
    _lose_replies(sim)
    assert trader.close(trade) is None
    assert trader.close(trade) is None  # e.g. a stop-loss in the same tick: skipped, not sent
    assert [o["descr"]["type"] for o in sim.orders()] == ["buy", "sell"]
    sim.set_faults(Faults())
    assert reconciler.settle()
    assert not ledger.open_trades and len(ledger.closed_trades) == 1
    closed = ledger.closed_trades[0]
    assert closed.close_fill.order_id == sim.orders()[1]["txid"]
    assert store.load().trades[0].close_fill == closed.close_fill


@pytest.mark.slow
def test_an_order_that_never_appears_is_given_up_after_the_window(desk):
    sim, trader, reconciler, ledger, store, events = desk
    # EService:Unavailable on AddOrder may or may not have placed it (here: not); the lookups are down too
    sim.set_faults(Faults(unavailable=Fault(methods=("AddOrder", *LOOKUPS))))
    assert trader.buy() is None
    assert len(trader.unsettled) == 1 and [o["status"] for o in store.orders()] == ["intent"]
    sim.set_faults(Faults())
    assert not reconciler.settle()  # absent, but its intent is younger than the window: it may still appear
    reconciler.absent_after = 0.2  # the reconciler reads the real clock: it gives the order up once the window passes
    wait_until(reconciler.settle, "the order given up once the window has passed", timeout=30, interval=0.05)
    assert sim.orders() == [] and not ledger.open_trades and trader.paused is None
    assert [o["status"] for o in store.orders()] == ["failed"]
