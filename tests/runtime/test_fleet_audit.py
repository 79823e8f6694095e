"""The fleet-wide audit (issue 17): bots on one key are audited together, a shortage holds every one of them (no
order at all, closes included), a lost order found late is booked as recovered, and orders are compared by
Kraken's clock. Real bot processes, one simulator, one key, one state dir."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from candlebot.exchanges.kraken_sim import DropReply, Faults, KrakenSimulator, LateListing, SimConfig
from tests.sinks.servers import UdpCollector
from tests.support.bots import FLIP, KEY, ONE_SECOND, SECRET, BotRun, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ACCUMULATE = "tests.support.strategies:Accumulate"
SIX_SECONDS = "0.1"  # -p in minutes: room to arm the fault between alpha's buy and its sell


@dataclass
class FleetBot(BotRun):
    """A bot with its own log folder in the fleet's shared state dir (bots on one key share it)."""

    shared: Path = Path()

    @property
    def state_dir(self) -> Path:
        return self.shared


def open_volume(bot: BotRun) -> Decimal:
    store = bot.store()
    try:
        return sum((t.volume for t in store.load().trades if t.is_open), Decimal(0))
    finally:
        store.close()


def in_flight(bot: BotRun, sim: KrakenSimulator) -> Decimal:
    """What the orders a stopped bot left without an outcome executed on the exchange (buys +, sells -)."""
    store = bot.store()
    try:
        pending = store.load().pending
    finally:
        store.close()
    moved = Decimal(0)
    for intent in pending:
        for order in sim.orders(userref=intent.order.userref):
            executed = Decimal(str(order["vol_exec"]))
            moved += executed if order["descr"]["type"] == "buy" else -executed
    return moved


def test_a_lost_sell_found_late_never_sells_another_bots_coins(tmp_path):
    """A's sell reply is lost and Kraken lists the order only after A's reconcile window: the account is short of
    A's books while B's coins would cover them. Every bot holds; A sends no second sell; the late order is booked as
    recovered and alerted; the hold lifts; the fleet's books equal the account."""
    sim = start_simulator()
    key_file = write_key_file(tmp_path)
    shared = tmp_path / "state"
    a = FleetBot(tmp_path / "a", sim.url, name="alpha", shared=shared)
    b = FleetBot(tmp_path / "b", sim.url, name="beta", shared=shared)
    common = ("--live", "--key-file", str(key_file), "-t", "0.2", "--audit-interval", "1", "--cash", "1000")
    b_process = b.start(*common, "--stake", "100", "-p", ONE_SECOND, "--strategy", ACCUMULATE,
                        "--param", "num_simultaneous_trades=1")
    a_process = None
    try:
        wait_until(lambda: open_volume(b) > 0, "beta's buy", timeout=60)
        a_process = a.start(*common, "--stake", "40", "-p", SIX_SECONDS, "--strategy", FLIP, "--reconcile-window", "2")
        wait_until(lambda: open_volume(a) > 0, "alpha's first buy", timeout=60)
        # alpha's next order is its sell (beta is at its cap): booked by Kraken, its reply lost, listed only late
        sim.set_faults(Faults(drop_reply=DropReply(mode="502", methods=("AddOrder",), count=1),
                              late_listing=LateListing(delay_s=15.0, methods=("AddOrder",), count=1)))

        def sells() -> list[dict]:
            return [o for o in sim.orders() if o["descr"]["type"] == "sell" and Decimal(str(o["vol_exec"])) > 0]

        wait_until(lambda: len(sells()) == 1, "alpha's sell to reach Kraken", timeout=60)
        wait_until(lambda: "was declared never placed" in a.logs() or "was never placed" in a.logs(),
                   "the reconcile window to end", timeout=60)
        wait_until(lambda: "another bot on this key found the account short" in b.logs()
                   or "the books of the bots on this key hold" in b.logs(), "beta to hold as well", timeout=60)
        wait_until(lambda: "booked as recovered" in a.logs(), "the late order to be found", timeout=90)
        assert "(sell " in a.logs().split("booked as never placed")[0].rsplit("order userref", 1)[1]  # the sell was lost
        assert len(sells()) == 1, "a second sell was sent while the first was missing"
        wait_until(lambda: "hold lifted, trading resumes" in b.logs(), "beta's hold to lift", timeout=60)
    finally:
        results = [stop(p) for p in (a_process, b_process) if p is not None]
        sim.stop()
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert sim.balances(KEY)["XXBT"] == open_volume(a) + open_volume(b) + in_flight(a, sim) + in_flight(b, sim)


class Behind:
    """Kraken's clock two hours behind this machine's (a local clock set wrong, a VM resumed)."""

    def now(self) -> float:
        return time.time() - 7200

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))


def test_no_false_hold_when_the_local_clock_differs_from_krakens(tmp_path):
    """Issue 17's false holds: "booked as filled but the exchange does not list it" for orders nobody touched,
    because the audit asked for closed orders since a local time."""
    sim = KrakenSimulator(SimConfig(api_keys={KEY: SECRET}, balances={"ZUSD": Decimal("10000")}, tier="none"),
                          clock=Behind()).start()
    statsd = UdpCollector()
    bot = BotRun(tmp_path, sim.url)
    process = bot.start("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "-p", ONE_SECOND,
                        "-t", "0.2", "--strategy", FLIP, "--audit-interval", "1",
                        "--statsd-host", "127.0.0.1", "--statsd-port", str(statsd.port))
    try:
        def audits() -> int:
            return sum(d.name == "candlebot.audit.problems" for d in statsd.datagrams())

        wait_until(lambda: len(sim.orders()) >= 4 or "on hold" in bot.logs(), "a few orders", timeout=60)
        seen = audits()
        wait_until(lambda: audits() >= seen + 4, "audits after them", timeout=60)
    finally:
        code, _, err = stop(process)
        statsd.close()
        sim.stop()
    assert code == 0, err
    assert "does not list it" not in bot.logs() and "on hold" not in bot.logs()
    assert not any(d.name == "candlebot.audit.hold" and d.value == 1 for d in statsd.datagrams())
