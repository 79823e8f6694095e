"""Bots on one key learn their fills from one shared QueryOrders: the REST budget is shared fairly, never waited for.

Two adapters (two bots) on one key and state directory, against a starter
simulator on one simulated clock. While the REST counter is full their orders
still go out (AddOrder is on the trading counter) and come back as
``OrderFillPending``; once the budget is back, ONE read serves both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import pytest

from candlebot.clock import SimClock
from candlebot.errors import OrderFillPending, OrderOutcomeUnknown
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.venue import OrderRequest, Side
from tests.kraken.conftest import adapter_on

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> SimClock:
    import time

    return SimClock(time.time())


@pytest.fixture
def starter_sim(make_sim: Callable[..., Any], clock: SimClock) -> Any:
    return make_sim("starter", clock, balances={"ZUSD": Decimal("100000")}, seed=5)


def bot(sim: Any, clock: SimClock, tmp_path) -> KrakenExchange:  # type: ignore[no-untyped-def]
    return adapter_on(sim.url, tmp_path, clock, tier="starter", share_fill_reads=True, max_sends=1)


def test_one_read_serves_every_bot_waiting_for_a_fill(starter_sim: Any, clock: SimClock, tmp_path) -> None:
    first, second = bot(starter_sim, clock, tmp_path), bot(starter_sim, clock, tmp_path)
    try:
        first.client.sequencer.mark_rate_limited()  # other bots spent the key's REST budget
        for userref, exchange in ((11, first), (12, second)):
            with pytest.raises(OrderFillPending):  # placed all the same: AddOrder is not on the REST counter
                exchange.place_market_order(OrderRequest("XXBTZUSD", Side.BUY, Decimal("0.001"), userref))
        assert len(starter_sim.orders()) == 2 and starter_sim.counters()["rate_limited"] == 0
        before = starter_sim.counters()["private"]
        with pytest.raises(OrderOutcomeUnknown):
            first.find_order("XXBTZUSD", 11)  # the budget is still gone: nothing is sent, nothing waits
        assert starter_sim.counters()["private"] == before

        clock.at += 60.0  # the counter drains
        fills = [first.find_order("XXBTZUSD", 11), second.find_order("XXBTZUSD", 12)]

        assert starter_sim.counters()["private"] == before + 1  # one QueryOrders served both bots
        assert [f.volume for f in fills] == [Decimal("0.001")] * 2
        assert {f.order_id for f in fills} == {o["txid"] for o in starter_sim.orders()}
        assert not list((tmp_path / "kraken").glob("*.fills/*"))  # the board is empty again
    finally:
        first.close()
        second.close()
