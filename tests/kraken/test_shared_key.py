"""Bots sharing a key never stall (issue 8): public calls never wait on the key's lock or rate counter, and a
reconciliation lookup that would have to wait is deferred to a later poll while the ticker poll goes on.

Live bots built by the assembly, the real adapter against the simulator; "another bot" is a second bot on the same
key and state directory (what a second process shares: the nonce file, its lock and the rate counter), or the nonce
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

import pytest

from candlebot.assembly import BotSettings, build_bot
from candlebot.clock import Clock, LiveClock, SimClock
from candlebot.events import Heartbeat
from candlebot.exchanges.kraken import KrakenExchange
from candlebot.identity import BotIdentity
from candlebot.exchanges.kraken.nonce import LeaseDeferred, NonceSequencer
from candlebot.exchanges.kraken.ratelimit import TIERS, CounterState, RateLimiter
from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim.faults import DropReply, Fault, Latency
from candlebot.assembly.venues import kraken_venue
from tests.kraken.conftest import KEY, SECRET, fast_config
from tests.support.audit import audit_now
from tests.support.strategies import Flip
from tests.support.wait import wait_until

POLL_S = 0.2
GOAL_S = 3 * POLL_S + 1  # the longest heartbeat gap issue 8 allows
LOOKUPS = ("OpenOrders", "ClosedOrders", "TradesHistory", "QueryOrders")
STALL_S = 30.0  # how long "another bot" holds the key when a poll waits for it: only a failing test waits this long


class Bot:
    """One live bot built by the assembly, its adapter sharing ``state_dir`` and ``clock`` (injected through the
    venue factory); the test drives its poll (``runtime.poll_once``). Its start-up audit is done at once (no order
    goes before it) and no later one falls due, so that only the start-up, the poll and its lookups call Kraken."""

    names = count(1)

    def __init__(self, url: str, state_dir: Path, clock: Clock) -> None:
        # generous HTTP timeouts: a call timed out under a loaded machine is retried after a back-off that moves a
        # simulated clock, and the counter would drain before the poll this test measures
        config = fast_config(url, tier="starter", timeout=10.0, connect_timeout=10.0)
        adapters: list[KrakenExchange] = []

        def venue(config, credentials, state_dir):  # the first is the bot's own adapter, the second its audit's
            adapters.append(kraken_venue(config, credentials, state_dir, clock=clock))
            return adapters[-1]

        key_file = state_dir / "kraken.key"
        key_file.write_text(f"{KEY}\n{SECRET}\n")
        key_file.chmod(0o600)
        settings = BotSettings(pair="XBTUSD", period=3600, poll_s=POLL_S, strategy=Flip, params=Flip.Params(),
                               identity=BotIdentity.from_name(f"shared-{next(self.names)}"), venue=config,
                               state_dir=state_dir, mode="live", log_dir=state_dir / "logs", quiet=True,
                               key_file=str(key_file), cash=Decimal("1000"), reconcile_window=60.0, lookup_every=0.0)
        self.process = build_bot(settings, clock, threading.Event(), venue=venue)
        self.kraken = adapters[0]
        self.trader, self.ledger, self.runtime = self.process.trader, self.process.ledger, self.process.runtime
        assert audit_now(self.process) == 1, "the start-up audit did not compare"
        self.events: list[object] = []
        self.runtime.bus.subscribe(self.events.append)

    def heartbeats(self) -> int:
        return sum(isinstance(e, Heartbeat) for e in self.events)

    def close(self) -> None:
        self.process.close()


def _mid_hour(now: float) -> float:
    """``now``, or earlier in its hour: the test moves its clock a minute and more, and an hour's candle closing
    meanwhile makes Flip sell the trade the test waits for (it failed when run in an hour's last minute)."""
    return now - max(0.0, now % 3600 - 1800)


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
    clock = SimClock(_mid_hour(time.time()))  # the adapter's waits move this clock: the poll must not move it at all
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
        released = threading.Event()

        def release() -> None:  # so that a stalled poll ends, and fails; far later than a loaded machine's poll
            released.set()
            fcntl.flock(holder, fcntl.LOCK_UN)

        timer = threading.Timer(STALL_S, release)
        timer.start()
        try:
            beats = bot.heartbeats()
            bot.runtime.poll_once()
            waited = released.is_set()  # the poll returned only once the other bot let go of the key
        finally:
            timer.cancel()
            timer.join()
            fcntl.flock(holder, fcntl.LOCK_UN)
            os.close(holder)
        assert not waited, "the poll waited for another bot's call"
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
        # the account read is held on the simulator before it is processed, far longer than a loaded machine's ticker
        starter_sim.set_faults(Faults(latency=Latency(ms=5000, methods=("Balance",))))
        balance_reads = starter_sim.counters().get("private.Balance", 0)
        reader = threading.Thread(target=bot.kraken.balances)  # e.g. a thread reading the account
        reader.start()
        wait_until(lambda: _key_busy(bot.kraken.client.sequencer.path), "the private call to start", timeout=30, interval=0.01)
        ticker = bot.kraken.ticker("XBTUSD")
        behind = starter_sim.counters().get("private.Balance", 0) > balance_reads  # the private call was answered first
        reader.join()
        assert ticker.last > 0
        assert not behind, "the ticker waited behind a private call"
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
