"""The adapter against the simulator's unfriendly failures: orders processed behind an error, listed late,
filled partly or slowly. Exactly one order per intent, and the fill booked is the one Kraken executed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import pytest

from candlebot.errors import OrderOutcomeUnknown
from candlebot.venue import OrderRequest, Side
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken_sim import Faults, HttpError, LateListing, ServiceError, SlowFill, ThinBook

pytestmark = pytest.mark.integration

MakeExchange = Callable[..., KrakenExchange]
ADD = ("AddOrder",)


def _buy(exchange: KrakenExchange, userref: int, volume: str = "0.01"):
    return exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal(volume), userref))


def _one_order_matches(sim: Any, userref: int, fill) -> None:  # type: ignore[no-untyped-def]
    orders = sim.orders(userref=userref)
    assert len(orders) == 1, f"{len(orders)} orders for one intent"
    placed = orders[0]
    assert (fill.order_id, fill.volume, fill.cost, fill.fee) == (
        placed["txid"], Decimal(placed["vol_exec"]), Decimal(placed["cost"]), Decimal(placed["fee"]))


@pytest.mark.parametrize("faults", [
    Faults(busy=ServiceError(processed=True, count=1, methods=ADD)),
    Faults(unavailable=ServiceError(processed=True, count=1, methods=ADD)),
    Faults(http_error=HttpError(status=504, processed=True, count=1, methods=ADD)),
])
def test_an_order_processed_behind_an_error_is_found_not_resent(sim: Any, make_exchange: MakeExchange, faults: Faults) -> None:
    exchange = make_exchange(lookup_window=2.0, lookup_interval=0.1)
    exchange.pair_info("XBTUSD")
    sim.set_faults(faults)
    fill = _buy(exchange, 501)
    _one_order_matches(sim, 501, fill)


@pytest.mark.slow
def test_an_order_listed_late_is_waited_for_within_the_lookup_window(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange(lookup_window=4.0, lookup_interval=0.2)
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(busy=ServiceError(processed=True, count=1, methods=ADD), late_listing=LateListing(delay_s=1.5, count=1)))
    fill = _buy(exchange, 502)
    _one_order_matches(sim, 502, fill)


def test_an_order_listed_later_than_the_window_stays_unknown_when_lookups_fail(sim: Any, make_exchange: MakeExchange) -> None:
    """The residual risk: a window shorter than Kraken's delay would resend. With max_sends=1 the adapter
    may not resend at all and reports the outcome as unknown for the caller to keep looking."""
    exchange = make_exchange(lookup_window=0.3, lookup_interval=0.1, max_sends=1)
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(busy=ServiceError(processed=True, count=1, methods=ADD), late_listing=LateListing(delay_s=2.0, count=1)))
    with pytest.raises(OrderOutcomeUnknown) as raised:
        _buy(exchange, 503)
    assert raised.value.userref == 503
    assert len(sim.orders(userref=503)) == 1


def test_a_partial_market_fill_books_what_was_executed(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(thin_book=ThinBook(fill_ratio=0.5, count=1)))
    fill = _buy(exchange, 504, "0.02")
    assert fill.volume == Decimal("0.01")
    _one_order_matches(sim, 504, fill)
    assert sim.orders(userref=504)[0]["status"] == "canceled"
    assert exchange.find_order("XBTUSD", 504) == fill


@pytest.mark.slow
def test_a_slow_market_fill_is_waited_for(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange(fill_timeout=5.0)
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(slow_fill=SlowFill(delay_s=1.0, count=1)))
    fill = _buy(exchange, 505)
    _one_order_matches(sim, 505, fill)
    assert sim.orders(userref=505)[0]["status"] == "closed"
