"""--fee against the account's fee: a floor for sizing, refused below what Kraken charges a live account."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from candlebot.clock import SimClock
from candlebot.errors import ConfigError, TemporaryExchangeError
from candlebot.exchanges.kraken.errors import RateBudgetDeferred
from candlebot.exchanges.kraken.replies import AccountFees
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.live.fees import AccountFee

PAIR = find_pair(offline_pairs(), "XBTUSD")
LOG = logging.getLogger("test.fee.rules")


def fee(account: str | None, flag: str | None = None) -> AccountFee:
    def read(deferrable: bool) -> AccountFees:
        if account is None:
            raise TemporaryExchangeError("Kraken TradeVolume: EService:Unavailable")
        return AccountFees(Decimal(account), Decimal("0.001"), Decimal("60000"))

    return AccountFee(read, PAIR, flag=None if flag is None else Decimal(flag), flag_text=flag, log=LOG)


@pytest.mark.parametrize("account, flag, live, rate, source", [
    ("0.0024", None, True, "0.0024", "account"),       # the account's own tier
    ("0.0024", "0.0024", True, "0.0024", "account"),   # refused before: below the published 0.26%
    ("0.0024", "0.003", True, "0.003", "flag"),        # --fee above: a floor
    ("0.0024", "0.001", False, "0.0024", "account"),   # validate: a lower --fee never undercuts the real fee
    (None, None, True, "0.0026", "published"),         # unreadable: the published taker fee
])
def test_sizing_rate(account, flag, live, rate, source) -> None:
    reading = fee(account, flag).start(live=live)
    assert reading.rate == Decimal(rate) and reading.source == source


@pytest.mark.parametrize("account, flag", [("0.0024", "0.002"), (None, "0.0025")])
def test_a_live_fee_below_what_kraken_charges_is_refused(account, flag) -> None:
    with pytest.raises(ConfigError, match=f"--fee {flag} is below Kraken's taker fee for XBTUSD"):
        fee(account, flag).start(live=True)


def test_an_unreadable_fee_is_a_warning(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="test.fee.rules"):
        fee(None).start(live=True)
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert "published taker fee 0.26%" in caplog.records[0].getMessage()


def test_a_start_whose_read_the_key_defers_sizes_with_the_published_fee_until_a_poll_reads_it() -> None:
    """A fleet starting on one key: the start never waits for the key's budget for its fee (issue 17)."""
    calls: list[bool] = []

    def read(deferrable: bool) -> AccountFees:
        calls.append(deferrable)
        if len(calls) == 1:
            raise RateBudgetDeferred("the rate counter has no room for 1 unit(s) beside the orders' reserve")
        return AccountFees(Decimal("0.0024"), Decimal("0.001"), Decimal("60000"))

    fee = AccountFee(read, PAIR, log=LOG)
    rates: list[Decimal] = []
    fee.bind(rates.append)
    assert fee.start(live=True).source == "published" and fee.rate == Decimal("0.0026")
    fee.poll()
    assert calls == [True, True] and fee.rate == Decimal("0.0024") and rates == [Decimal("0.0024")]


def test_one_tradevolume_read_serves_every_bot_of_the_key_on_the_pair(tmp_path) -> None:
    """Issue 17: a bot spends no private call it does not need; the fee tier is the account's, not the bot's."""
    from candlebot.live.feeshare import SharedFee

    clock = SimClock(1000.0)
    calls: list[str] = []

    def read(bot: str):
        def call(deferrable: bool) -> AccountFees:
            calls.append(bot)
            return AccountFees(Decimal("0.0024"), Decimal("0.001"), Decimal("60000"))
        return call

    bots = [AccountFee(SharedFee(tmp_path, "k1", PAIR.name, read(name), clock.monotonic), PAIR, log=LOG)
            for name in ("alpha", "beta", "gamma")]
    assert [bot.start(live=True).rate for bot in bots] == [Decimal("0.0024")] * 3 and calls == ["alpha"]
    clock.at += 3601  # an hour on: read again, once
    assert SharedFee(tmp_path, "k1", PAIR.name, read("beta"), clock.monotonic)(True).taker == Decimal("0.0024")
    assert SharedFee(tmp_path, "k1", PAIR.name, read("gamma"), clock.monotonic)(True) and calls == ["alpha", "beta"]
    assert SharedFee(tmp_path, "k2", PAIR.name, read("other key"), clock.monotonic)(True) and calls[-1] == "other key"
