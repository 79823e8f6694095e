"""A live bot trades a pair beyond the six the catalog first held (the new-user review: only XBTUSD, XBTUSDT,
XBTUSDC, XBTEUR, ETHUSD and ETHXBT could run): the simulator makes a market in SOLUSD from the same catalog, the
adapter reads the same facts, and the books follow the pair's own decimals and minimums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from candlebot.exchanges.kraken_pairs import catalog_pair
from tests.support.bots import FLIP, KEY, ONE_SECOND, BotRun, start_simulator, write_key_file

pytestmark = pytest.mark.integration


def test_a_live_bot_trades_solusd_on_its_own_decimals(tmp_path):
    sim = start_simulator(pair="SOLUSD", start_price=Decimal("150"))
    try:
        bot = BotRun(tmp_path, sim.url)
        done = bot.run("-c", "SOLUSD", "--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000",
                       "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "6", "--no-statsd")
        assert done.returncode == 0, done.stderr + bot.logs()
        assert not list((bot.state_dir / "bots").glob("*.crashes"))  # a clean stop leaves no crash mark
        orders = sim.orders()
        assert orders and {o["descr"]["pair"] for o in orders} == {"SOLUSD"}, orders
        sol = catalog_pair("SOLUSD")
        for order in orders:
            assert Decimal(order["vol"]) >= sol.ordermin
            assert Decimal(order["vol"]) == Decimal(order["vol"]).quantize(Decimal(1).scaleb(-sol.lot_decimals))
        filled = [o for o in bot.store().orders() if o["status"] == "filled"]
        assert filled and sim.balances(KEY).get("SOL", Decimal(0)) == sum(
            (t.volume for t in bot.store().load().trades if t.is_open), Decimal(0))
    finally:
        sim.stop()
