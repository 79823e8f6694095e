"""The simulator's two rate counters, through plain krakenex: REST per key, trading per key and pair.

Kraken's REST counter (starter: 15, decaying 0.33/s) does not count AddOrder
and CancelOrder; those count on the matching engine's per-pair trading counter
(starter: 60, decaying 1/s; +1 per order, a cancel up to +8 the younger the
order), which answers ``EOrder:Rate limit exceeded``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

import pytest

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_sim import KrakenSimulator

from .conftest import TIMEOUT, plain_client

pytestmark = pytest.mark.integration

SMALL_BUY = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.0001"}


def errors(api, method: str, data: dict | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    return api.query_private(method, {k: str(v) for k, v in (data or {}).items()}, timeout=TIMEOUT)["error"]


@pytest.fixture
def starter(make_sim: Callable[..., KrakenSimulator]) -> KrakenSimulator:
    return make_sim(tier="starter", balances={"ZUSD": Decimal("100000")})


def test_orders_never_touch_the_rest_counter(starter: KrakenSimulator) -> None:
    api = plain_client(starter.url)

    refused = [e for _ in range(40) for e in errors(api, "AddOrder", SMALL_BUY)]
    balance = errors(api, "Balance")

    assert refused == [], "40 orders fit in the starter trading counter (60); the REST counter (15) is not theirs"
    assert balance == []
    assert starter.counters()["rate_limited"] == 0 and starter.counters()["orders_placed"] == 40


def test_the_trading_counter_refuses_with_eorder_and_decays(starter: KrakenSimulator, clock: SimClock) -> None:
    api = plain_client(starter.url)
    for _ in range(60):
        assert errors(api, "AddOrder", SMALL_BUY) == []

    assert errors(api, "AddOrder", SMALL_BUY) == ["EOrder:Rate limit exceeded"]
    assert errors(api, "Balance") == []  # the REST counter is another counter
    clock.at += 1.0  # decays 1 unit a second at starter
    assert errors(api, "AddOrder", SMALL_BUY) == []
    assert starter.counters()["order_rate_limited"] == 1 and starter.counters()["rate_limited"] == 0


def test_reads_still_fill_the_rest_counter(starter: KrakenSimulator) -> None:
    api = plain_client(starter.url)

    replies = [errors(api, "Balance") for _ in range(16)]

    assert replies[:15] == [[]] * 15 and replies[15] == ["EAPI:Rate limit exceeded"]


def test_canceling_a_young_order_costs_more_than_an_old_one(starter: KrakenSimulator, clock: SimClock) -> None:
    api = plain_client(starter.url)
    resting = {**SMALL_BUY, "ordertype": "limit", "price": "1000.0", "volume": "0.001"}  # far below the market: it rests
    old = api.query_private("AddOrder", resting, timeout=TIMEOUT)["result"]["txid"][0]
    clock.at += 400.0  # the counter is empty again, and the order is past every cancel penalty
    young = api.query_private("AddOrder", resting, timeout=TIMEOUT)["result"]["txid"][0]  # level 1
    assert errors(api, "CancelOrder", {"txid": old}) == []  # +0
    for _ in range(51):  # level 52
        assert errors(api, "AddOrder", SMALL_BUY) == []

    assert errors(api, "CancelOrder", {"txid": young}) == []  # +8 (under 5 s old): level 60
    assert errors(api, "AddOrder", SMALL_BUY) == ["EOrder:Rate limit exceeded"]
