"""``--validate`` takes its start cash from the account unless ``--cash`` is given (issue 18): it has a key. Before,
it recorded 10000 whatever the account held, and with 500 USD there Kraken refused every order ("Insufficient
funds").

The account never holds what paper fills bought; Kraken's ``validate`` checks an order's inputs, not the funds, so the
bot's sells validate too and its trades close."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.bots import FLIP, ONE_SECOND, BotRun, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

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


def test_a_validate_bot_closes_its_trades_on_an_account_holding_no_coins(tmp_path):
    """Before, the simulator refused to validate a sell the account could not pay, so a validate bot bought and then
    never sold: its trade stayed open for good."""
    sim = start_simulator(balances={"ZUSD": Decimal("500")})
    try:
        bot = BotRun(tmp_path, sim.url)
        process = bot.start("--validate", "--key-file", str(write_key_file(tmp_path)), "-p", ONE_SECOND, "-t", "0.2",
                            "--strategy", FLIP, "--no-statsd")

        def sold() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the bot exited ({process.returncode}): {process.stderr.read()}")
            return bot.store_path.exists() and any(o["side"] == "sell" and o["status"] == "filled"
                                                   for o in bot.store().orders())

        wait_until(sold, "the validate bot's first filled sell", timeout=90)
        code, _, err = stop(process)
    finally:
        sim.stop()

    assert code == 0, err
    assert "Insufficient funds" not in bot.logs()
    assert sim.balances(next(iter(sim.config.api_keys))) == {"ZUSD": Decimal("500")}  # nothing was ever placed
