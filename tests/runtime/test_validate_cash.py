"""``--validate`` takes its start cash from the account unless ``--cash`` is given (issue 18): it has a key. Before,
it recorded 10000 whatever the account held, and with 500 USD there Kraken refused every order ("Insufficient
funds").

(Sells are left out: the account never holds what paper fills bought, so Kraken refuses to validate them.)"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.bots import FLIP, ONE_SECOND, BotRun, start_simulator, write_key_file

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.mark.parametrize("cash, start_cash", [((), Decimal("500")), (("--cash", "200"), Decimal("200"))])
def test_a_validate_bot_starts_with_the_accounts_quote_unless_told_otherwise(tmp_path, cash, start_cash):
    sim = start_simulator(balances={"ZUSD": Decimal("500")})
    try:
        bot = BotRun(tmp_path, sim.url)
        result = bot.run("--validate", "--key-file", str(write_key_file(tmp_path)), *cash, "-p", ONE_SECOND, "-t", "0.2",
                         "--strategy", FLIP, "--no-statsd", "--stop-after", "5")
    finally:
        sim.stop()

    assert result.returncode == 0, result.stderr
    store = bot.store()
    assert Decimal(store.meta("start_cash")) == start_cash
    orders = store.orders()
    refused = [line for line in bot.logs().splitlines() if "buy order" in line and "Insufficient funds" in line]
    assert not refused, bot.logs()
    assert sum(o["status"] == "filled" and o["side"] == "buy" for o in orders) >= 1, bot.logs()
    buys = [o for o in orders if o["status"] == "filled" and o["side"] == "buy"]
    assert all(Decimal(o["cost"]) + Decimal(o["fee"]) <= start_cash for o in buys)
