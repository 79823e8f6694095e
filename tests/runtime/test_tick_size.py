"""Every price sent is on the pair's tick_size (issue 18): a live bot against a simulated pair whose tick (0.5) is
coarser than 10^-pair_decimals (0.1). Before, the protection price was rounded to the decimals only, and Kraken
refused every order with ``EOrder:Invalid price``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from candlebot.assembly import offline_pair
from tests.support.bots import FLIP, ONE_SECOND, BotRun, start_simulator, write_key_file

pytestmark = [pytest.mark.slow, pytest.mark.integration]
TICK = Decimal("0.5")


def test_a_bot_sends_every_price_on_the_tick_rounded_in_the_safe_direction(tmp_path):
    sim = start_simulator(tick_size=TICK)
    try:
        bot = BotRun(tmp_path, sim.url)
        result = bot.run("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "-p", ONE_SECOND,
                         "-t", "0.2", "--strategy", FLIP, "--no-statsd", "--stop-after", "6")
        orders = sim.orders()
    finally:
        sim.stop()

    assert result.returncode == 0, result.stderr
    assert "Invalid price" not in bot.logs(), bot.logs()
    sent = bot.store().orders()
    assert sum(o["status"] == "filled" for o in sent) >= 3 and all(o["status"] == "filled" for o in sent), bot.logs()
    for order in orders:
        price = Decimal(order["descr"]["price"])
        assert price % TICK == 0, f"{price} is off the tick"
    for mine in sent:  # the protection price: buys never above what was allowed, sells never below
        limit, paid = Decimal(mine["limit_price"]), Decimal(mine["price"])
        assert limit % TICK == 0
        assert (paid <= limit) if mine["side"] == "buy" else (paid >= limit)


def test_a_simulator_with_its_own_tick_leaves_the_bundled_pairs_alone():
    """The bundled AssetPairs snapshot is shared by the process (backtests read it): the simulator copies it."""
    sim = start_simulator(tick_size=TICK)
    sim.stop()

    assert offline_pair("XBTUSD").tick_size == Decimal("0.1")
