"""Bots sharing a key never stall (issue 8): public calls never wait on the key's lock or rate counter, and a
reconciliation lookup that would have to wait is deferred to a later poll while the ticker poll goes on.

The real adapter against the simulator; "another bot" is a second adapter on the same key and state
directory (what a second process shares: the nonce file, its lock and the rate counter), or the nonce
file's lock held as another process holds it while its private call is in flight.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Iterator

import pytest

from candlebot.chart import Chart
from candlebot.clock import Clock, LiveClock, SimClock
from candlebot.trading.engine import Engine
from candlebot.events import EventBus, Heartbeat
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.live.recovery import Reconciler
from candlebot.live.runtime import BotRuntime, RuntimeSettings
from candlebot.live.store import BotStore
from candlebot.strategy.base import StrategyContext
from candlebot.trading.strategydesk import StrategyDesk
from candlebot.trading.trader import Trader
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken.nonce import LeaseDeferred, NonceSequencer
from candlebot.exchanges.kraken.ratelimit import TIERS, CounterState, RateLimiter
from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim.faults import DropReply, Fault, Latency
from candlebot.exchanges.live import LiveExchange
from tests.kraken.conftest import KEY, SECRET, fast_config, start_sim
from tests.support.strategies import Flip
from tests.support.wait import wait_until

POLL_S = 0.2
GOAL_S = 3 * POLL_S + 1  # the longest heartbeat gap issue 8 allows
LOOKUPS = ("OpenOrders", "ClosedOrders", "TradesHistory", "QueryOrders")


class Bot:
    """One live bot's trading loop (trader, reconciler, engine, runtime: no warm-up, no audit, so that only the
    poll and its lookups call Kraken), on an adapter sharing ``state_dir``."""

    def __init__(self, url: str, state_dir: Path, clock: Clock) -> None:
        # generous HTTP timeouts: a call timed out under a loaded machine is retried after a back-off that moves a
        # simulated clock, and the counter would drain before the poll this test measures
        config = fast_config(url, tier="starter", max_sends=1, timeout=10.0, connect_timeout=10.0)
        self.kraken = KrakenExchange(config, credentials=KrakenCredentials(KEY, SECRET), clock=clock, state_dir=state_dir)
        pair = self.kraken.pair_info("XBTUSD")
        self.ledger = Ledger(pair, Decimal("1000"))
        self.store = BotStore(state_dir / "bot.sqlite", now=clock.now)
        self.store.bind(pair=pair.name, start_cash=Decimal("1000"))
        self.events: list[object] = []
        bus = EventBus()
        bus.subscribe(self.events.append)
        refs = count(8_000)
        exchange = LiveExchange(self.kraken, pair, clock)
        self.trader = Trader(exchange=exchange, pair=pair, ledger=self.ledger, sizing=Sizing(1), fee_rate=pair.taker_fee,
                             bus=bus, clock=clock, next_userref=lambda: next(refs), journal=self.store)
        reconciler = Reconciler(trader=self.trader, exchange=exchange, bus=bus,
                                clock=clock, pending=[], absent_after=60.0)
        chart = Chart(pair.altname, 3600)  # no candle closes during a test: only the poll itself is measured
        indicators = BotIndicators(chart)
        desk = StrategyDesk(self.trader)
        strategy = Flip(Flip.Params(), StrategyContext(chart, indicators, desk.view))
        engine = Engine(chart=chart, indicators=indicators, strategy=strategy, desk=desk, ledger=self.ledger, clock=clock,
                        bus=bus)
        self.runtime = BotRuntime(settings=RuntimeSettings("bot", pair.altname, "flip", "live", POLL_S), exchange=exchange,
                                  chart=chart, engine=engine, bus=bus, clock=clock, reconciler=reconciler)

    def heartbeats(self) -> int:
        return sum(isinstance(e, Heartbeat) for e in self.events)

    def close(self) -> None:
        self.kraken.close()
        self.store.close()


@pytest.fixture()
def starter_sim() -> Iterator[object]:
    simulator = start_sim("starter")
    try:
        yield simulator
    finally:
        simulator.stop()


def _lose_a_buy(sim: object, bot: Bot) -> None:
    """A buy is booked on the exchange but its reply and the lookups fail: the bot holds a pending intent."""
    sim.set_faults(Faults(drop_reply=DropReply(mode="502", methods=("AddOrder",)), unavailable=Fault(methods=LOOKUPS)))  # type: ignore[attr-defined]
    assert bot.trader.buy() is None
    sim.set_faults(Faults())  # type: ignore[attr-defined]
    assert len(bot.trader.unsettled) == 1 and len(sim.orders()) == 1  # type: ignore[attr-defined]


def _key_busy(path: Path) -> bool:
    """Whether some other open file (another bot's call in flight) holds the key's lock."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.mark.integration
def test_a_full_rate_counter_defers_the_lookup_and_the_poll_goes_on(starter_sim, tmp_path):
    clock = SimClock(time.time())  # the adapter's waits move this clock: the poll must not move it at all
    bot, other = Bot(starter_sim.url, tmp_path, clock), Bot(starter_sim.url, tmp_path, clock)
    try:
        _lose_a_buy(starter_sim, bot)
        other.kraken.client.sequencer.mark_rate_limited()  # the other bot was just refused: the shared counter is full

        before, beats = clock.now(), bot.heartbeats()
        assert bot.runtime.poll_once() == 0.0
        assert clock.now() - before < GOAL_S, f"the poll waited {clock.now() - before:.1f} s for the rate counter"
        seen = bot.events[-8:]
        assert bot.heartbeats() == beats + 1 and len(bot.trader.unsettled) == 1, seen  # polled; the lookup comes later

        clock.sleep(60.0)  # the counter drains
        bot.runtime.poll_once()
        assert not bot.trader.unsettled and len(bot.ledger.open_trades) == 1, bot.events[-8:]
        assert bot.ledger.open_trades[0].open_fill.order_id == starter_sim.orders()[0]["txid"]
    finally:
        bot.close()
        other.close()


@pytest.mark.integration
def test_the_poll_goes_on_while_another_bot_holds_the_key(starter_sim, tmp_path):
    bot = Bot(starter_sim.url, tmp_path, LiveClock())
    try:
        _lose_a_buy(starter_sim, bot)
        path = bot.kraken.client.sequencer.path
        holder = os.open(path, os.O_RDWR)
        fcntl.flock(holder, fcntl.LOCK_EX)  # another process's private call is in flight
        release = threading.Timer(4.0, fcntl.flock, (holder, fcntl.LOCK_UN))  # so that a stalled poll ends, and fails
        release.start()
        try:
            started, beats = time.monotonic(), bot.heartbeats()
            bot.runtime.poll_once()
            elapsed = time.monotonic() - started
        finally:
            release.cancel()
            fcntl.flock(holder, fcntl.LOCK_UN)
            os.close(holder)
        assert elapsed < GOAL_S, f"the poll waited {elapsed:.1f} s for another bot's call"
        assert bot.heartbeats() == beats + 1 and len(bot.trader.unsettled) == 1

        bot.runtime.poll_once()
        assert not bot.trader.unsettled and len(bot.ledger.open_trades) == 1
    finally:
        bot.close()


@pytest.mark.integration
@pytest.mark.slow
def test_a_public_call_never_waits_for_a_private_call_in_flight(starter_sim, tmp_path):
    bot = Bot(starter_sim.url, tmp_path, LiveClock())
    try:
        starter_sim.set_faults(Faults(latency=Latency(ms=900, methods=("Balance",))))
        reader = threading.Thread(target=bot.kraken.balances)  # e.g. a thread reading the account
        reader.start()
        wait_until(lambda: _key_busy(bot.kraken.client.sequencer.path), "the private call to start", timeout=5, interval=0.01)
        started = time.monotonic()
        ticker = bot.kraken.ticker("XBTUSD")
        elapsed = time.monotonic() - started
        reader.join()
        assert ticker.last > 0
        assert elapsed < 0.5, f"the ticker waited {elapsed:.2f} s behind a private call"
    finally:
        bot.close()


def test_deferrable_leases_never_wait_and_leave_the_reserve_to_orders(tmp_path):
    clock = SimClock(1_700_000_000.0)
    limiter = RateLimiter(TIERS["starter"])  # ceiling 14
    sequencer = NonceSequencer("abc", state_dir=tmp_path, clock=clock, limiter=limiter)
    assert limiter.admit(CounterState(5.0, clock.now()), 2, clock.now(), reserve=8)[0] is None  # 7 > 14 - 8
    assert limiter.admit(CounterState(4.0, clock.now()), 2, clock.now(), reserve=8)[0] is not None

    for _ in range(6):
        with sequencer.try_lease(1, reserve=8):
            pass
    with pytest.raises(LeaseDeferred) as deferred:
        with sequencer.try_lease(1, reserve=8):
            pass
    assert deferred.value.wait == pytest.approx(1 / 0.33)
    assert clock.now() == 1_700_000_000.0  # nothing slept
    with sequencer.lease(1) as lease:  # an order still has its reserve, at once
        assert lease.next_nonce() > 0
    assert clock.now() == 1_700_000_000.0

    other = NonceSequencer("abc", state_dir=tmp_path, clock=clock, limiter=limiter)
    clock.sleep(60)
    with other.lease(1):  # another bot's call in flight holds the key
        with pytest.raises(LeaseDeferred, match="another call holds the key"):
            with sequencer.try_lease(1, reserve=8):
                pass
    with sequencer.try_lease(1, reserve=8) as lease:
        assert lease.next_nonce() > 0
