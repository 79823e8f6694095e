"""The adapter's protected market orders (IOC limit at the protection price) against the simulator:
all, part or nothing executes, and what executed is read to the last decimal, also after a lost reply."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import pytest

from candlebot.venue import OrderRequest, Side
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken_sim import DropReply, Faults, ThinBook
from tests.kraken.test_sim_flow import assert_fill_matches

pytestmark = pytest.mark.integration

MakeExchange = Callable[..., KrakenExchange]


def test_an_order_goes_out_as_ioc_limit_at_its_protection_price(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    best = exchange.order_book("XBTUSD", 1).asks[0].price
    limit = best * Decimal("1.005") + Decimal("0.04")  # off the tick: sent rounded down for a buy

    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=41, limit=limit))

    (order,) = sim.orders(userref=41)
    assert order["descr"]["ordertype"] == "limit" and order["timeinforce"] == "IOC"
    assert Decimal(order["descr"]["price"]) == limit.quantize(Decimal("0.1"), rounding="ROUND_FLOOR")
    assert order["status"] == "closed"
    assert_fill_matches(fill, order)
    assert fill.price <= limit


def test_a_partly_executed_ioc_order_is_a_partial_fill(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    sim.set_faults(Faults(thin_book=ThinBook(fill_ratio=0.25)))
    bid = exchange.order_book("XBTUSD", 1).bids[0].price

    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.SELL, Decimal("0.4"), userref=42,
                                                    limit=bid * Decimal("0.99")))

    (order,) = sim.orders(userref=42)
    assert order["status"] == "canceled" and fill.volume == Decimal("0.1") == Decimal(order["vol_exec"])
    assert (fill.cost, fill.fee) == (Decimal(order["cost"]), Decimal(order["fee"]))
    assert exchange.find_order("XBTUSD", 42) == fill


def test_an_ioc_order_that_executes_nothing_is_a_zero_fill_not_an_error(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    ask = exchange.order_book("XBTUSD", 1).asks[0].price

    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=43,
                                                    limit=ask - Decimal("5")))

    assert (fill.volume, fill.cost, fill.fee) == (0, 0, 0)
    found = exchange.find_order("XBTUSD", 43)
    assert found is not None and found.volume == 0 and found.order_id == fill.order_id
    assert exchange.find_order("XBTUSD", 44) is None


def test_a_lost_reply_of_a_partial_ioc_order_is_found_by_userref_not_resent(sim: Any,
                                                                            make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    sim.set_faults(Faults(thin_book=ThinBook(fill_ratio=0.5), drop_reply=DropReply(count=1, methods=("AddOrder",))))
    ask = exchange.order_book("XBTUSD", 1).asks[0].price

    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.02"), userref=45,
                                                    limit=ask * Decimal("1.01")))

    (order,) = sim.orders(userref=45)
    assert fill.volume == Decimal("0.01") and fill.order_id == order["txid"]
