"""Live and validate bots size orders with the account's own fee (Kraken's TradeVolume), read at start and daily."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from candlebot.clock import LiveClock
from candlebot.exchanges.kraken import load_credentials
from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.exchanges.kraken_sim import Fault, Faults
from candlebot.live.fees import AccountFee
from candlebot.venue import OrderRequest, Side
from candlebot.assembly.venues import kraken_venue
from tests.support.bots import FLIP, ONE_SECOND, BotRun, start_simulator, write_key_file
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


class Sleeps(LiveClock):
    """The live clock, noting every sleep: a read that waits for the key's rate budget sleeps on it."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        super().sleep(seconds)


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_the_account_fee_is_read_at_start_and_again_a_day_later_without_waiting(tmp_path, caplog) -> None:
    sim = start_simulator(balances={"ZUSD": Decimal("200000")})
    try:
        kraken = kraken_venue(KrakenConfig(url=sim.url, tier="none"), credentials=load_credentials(
            write_key_file(tmp_path)), state_dir=tmp_path / "state")
        ticks = Ticks()
        log = logging.getLogger("test.fee")
        fee = AccountFee(lambda deferrable: kraken.account_fees("XBTUSD", deferrable=deferrable),
                         kraken.pair_info("XBTUSD"), log=log, monotonic=ticks)
        learned: list[Decimal] = []
        fee.bind(learned.append)
        with caplog.at_level(logging.INFO, logger="test.fee"):
            assert fee.start(live=True).rate == Decimal("0.0026")
        assert "taker fee 0.26% (this account's tier, from Kraken's TradeVolume)" in caplog.text

        # 60000 USD traded: the account reaches the 50000 tier (0.24%)
        assert kraken.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("2"), userref=7)).volume == 2
        calls = sim.counters()["private"]
        fee.poll()                                   # within the day: no call at all
        assert sim.counters()["private"] == calls and learned == []
        ticks.at += 86400
        fee.poll()
        assert fee.rate == Decimal("0.0024") and learned == [Decimal("0.0024")]
        kraken.close()
    finally:
        sim.stop()


@pytest.mark.slow
def test_a_live_bot_shows_its_fee_and_may_size_with_its_own_lower_tier(tmp_path) -> None:
    """A 0.24% account: --fee 0.24% is not below what Kraken charges it (refused before, as below 0.26%)."""
    sim = start_simulator(volume_30d=Decimal("60000"))
    try:
        bot = BotRun(tmp_path, sim.url)
        result = bot.run("--live", "--key-file", str(write_key_file(tmp_path)), "-p", ONE_SECOND, "-t", "0.2",
                         "--strategy", FLIP, "--cash", "500", "--fee", "0.24%", "--stop-after", "8", timeout=90)
        assert result.returncode == 0, result.stderr
        assert "taker fee 0.24% (this account's tier, from Kraken's TradeVolume)" in bot.logs()
        filled = [o for o in sim.orders() if Decimal(o["vol_exec"]) > 0]
        assert filled and all(Decimal(o["fee"]) == (Decimal(o["cost"]) * Decimal("0.0024")).quantize(
            Decimal("1e-5"), rounding="ROUND_CEILING") for o in filled)
    finally:
        sim.stop()


@pytest.mark.slow
def test_a_validate_bot_falls_back_to_the_published_fee_with_a_warning(tmp_path) -> None:
    sim = start_simulator(volume_30d=Decimal("60000"),
                          faults=Faults(unavailable=Fault(count=1000, methods=("TradeVolume",))))
    try:
        bot = BotRun(tmp_path, sim.url)
        result = bot.run("--validate", "--key-file", str(write_key_file(tmp_path)), "-p", ONE_SECOND, "-t", "0.2",
                         "--strategy", FLIP, "--stop-after", "10", timeout=120)
        assert result.returncode == 0, result.stderr
        logs = bot.logs()
        assert "cannot read this account's fee from Kraken's TradeVolume" in logs
        assert "taker fee 0.26% (the pair's published taker fee)" in logs
    finally:
        sim.stop()


@pytest.mark.slow
def test_the_daily_read_never_waits_for_the_rate_budget(tmp_path) -> None:
    """With the key's counter full, the daily read is deferred to a later poll: nothing sent, no wait."""
    sim = start_simulator()
    try:
        clock = Sleeps()
        kraken = kraken_venue(KrakenConfig(url=sim.url, tier="pro"), credentials=load_credentials(
            write_key_file(tmp_path)), state_dir=tmp_path / "state", clock=clock)
        ticks = Ticks()
        fee = AccountFee(lambda deferrable: kraken.account_fees("XBTUSD", deferrable=deferrable),
                         kraken.pair_info("XBTUSD"), log=logging.getLogger("test.fee"), monotonic=ticks)
        fee.start(live=True)
        ticks.at += 86400
        assert kraken.client.sequencer is not None
        kraken.client.sequencer.mark_rate_limited()   # another bot on the key was just refused: the counter is full
        calls, slept = sim.counters()["private"], len(clock.slept)
        fee.poll()
        assert clock.slept[slept:] == [], "the daily read waited for the rate budget"
        assert sim.counters()["private"] == calls
        wait_until(lambda: fee.poll() or sim.counters()["private"] > calls, "the deferred read at a later poll", 60)
        assert fee.rate == Decimal("0.0026")
        kraken.close()
    finally:
        sim.stop()
