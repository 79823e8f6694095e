"""Immediate-or-cancel limit orders (the bot's protected market orders) and bad prices, through plain krakenex."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Callable

import krakenex
import pytest

from candlebot.exchanges.kraken_sim import BadTicker, Faults, KrakenSimulator, ThinBook

from .conftest import KEY, TIMEOUT, plain_client

pytestmark = pytest.mark.integration

TAKER = Decimal("0.0026")


def ok(reply: dict) -> dict:
    assert reply["error"] == [], reply
    return reply["result"]


def ioc(api: krakenex.API, side: str, volume: Decimal, limit: Decimal, userref: int = 1) -> dict:
    fields = {"pair": "XBTUSD", "type": side, "ordertype": "limit", "timeinforce": "IOC", "price": str(limit),
              "volume": str(volume), "oflags": "fciq", "userref": str(userref)}
    (txid,) = ok(api.query_private("AddOrder", fields, timeout=TIMEOUT))["txid"]
    return ok(api.query_private("QueryOrders", {"txid": txid}, timeout=TIMEOUT))[txid]


def book(api: krakenex.API) -> dict:
    return ok(api.query_public("Depth", {"pair": "XBTUSD", "count": 500}, timeout=TIMEOUT))["XXBTZUSD"]


def walk(levels: list, volume: Decimal, limit: Decimal, side: str) -> tuple[Decimal, Decimal]:
    """(volume, notional) the book offers up to ``limit``, computed from the Depth reply itself."""
    left, notional = volume, Decimal(0)
    for price, size, _ in levels:
        price, size = Decimal(price), Decimal(size)
        if (price > limit) if side == "buy" else (price < limit):
            break
        take = min(left, size)
        notional += take * price
        left -= take
        if left == 0:
            break
    return volume - left, notional


def test_an_ioc_buy_takes_the_book_up_to_its_limit_and_cancels_the_rest(
        make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"ZUSD": Decimal("1000000")})
    api = plain_client(sim.url)
    asks = book(api)["asks"]
    limit = Decimal(asks[2][0])  # three levels deep
    offered = sum(Decimal(size) for _, size, _ in asks[:3])
    volume = offered + Decimal("0.5")

    order = ioc(api, "buy", volume, limit)

    executed, notional = walk(asks, volume, limit, "buy")
    assert executed == offered
    assert order["status"] == "canceled" and order["misc"] == "partial"
    assert Decimal(order["vol"]) == volume and Decimal(order["vol_exec"]) == executed
    assert Decimal(order["price"]) <= limit
    cost = Decimal(order["cost"])
    assert cost == (Decimal(order["price"]) * executed).quantize(Decimal("0.00001"))
    assert abs(cost - notional) <= executed * Decimal("0.1")  # the average is rounded to the tick
    fee = (cost * TAKER).quantize(Decimal("0.00001"), rounding=ROUND_CEILING)
    assert Decimal(order["fee"]) == fee
    assert sim.balances(KEY) == {"ZUSD": Decimal("1000000") - cost - fee, "XXBT": executed}


def test_an_ioc_order_within_the_book_closes_whole(sim: KrakenSimulator, api: krakenex.API) -> None:
    asks = book(api)["asks"]
    limit = Decimal(asks[5][0])

    order = ioc(api, "buy", Decimal("0.01"), limit)

    assert order["status"] == "closed" and order["vol_exec"] == "0.01000000"
    assert Decimal(order["price"]) == Decimal(asks[0][0])


def test_an_ioc_sell_fills_down_to_its_limit_partially(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"XXBT": Decimal("50")})
    api = plain_client(sim.url)
    bids = book(api)["bids"]
    limit = Decimal(bids[1][0])
    offered = sum(Decimal(size) for _, size, _ in bids[:2])

    order = ioc(api, "sell", Decimal("40"), limit)

    assert order["status"] == "canceled" and Decimal(order["vol_exec"]) == offered
    assert Decimal(order["price"]) >= limit
    assert sim.balances(KEY)["XXBT"] == Decimal("50") - offered


def test_an_ioc_order_beyond_the_market_executes_nothing(sim: KrakenSimulator, api: krakenex.API) -> None:
    limit = Decimal(book(api)["asks"][0][0]) - Decimal("1")

    order = ioc(api, "buy", Decimal("0.01"), limit)

    assert order["status"] == "canceled" and order["vol_exec"] == "0.00000000"
    assert order["cost"] == order["fee"] == "0.00000"
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000")}


def test_an_ioc_buy_is_funded_at_its_limit(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"ZUSD": Decimal("1000")})
    api = plain_client(sim.url)
    best = Decimal(book(api)["asks"][0][0])
    volume = (Decimal("990") / best).quantize(Decimal("0.00000001"))
    fields = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "timeinforce": "IOC",
              "price": str(best * 2), "volume": str(volume)}

    refused = api.query_private("AddOrder", fields, timeout=TIMEOUT)

    assert refused == {"error": ["EOrder:Insufficient funds"]}  # volume x limit is twice the balance
    assert sim.orders() == []


@pytest.mark.parametrize("side, balances", [("buy", {"ZUSD": Decimal("10000")}), ("sell", {"XXBT": Decimal("1")})])
def test_a_thin_book_fills_part_of_an_ioc_order_on_either_side(make_sim: Callable[..., KrakenSimulator], side: str,
                                                               balances: dict) -> None:
    sim = make_sim(balances=balances, faults=Faults(thin_book=ThinBook(fill_ratio=0.5)))
    api = plain_client(sim.url)
    levels = book(api)["asks" if side == "buy" else "bids"]
    limit = Decimal(levels[-1][0])

    order = ioc(api, side, Decimal("0.2"), limit)

    assert order["status"] == "canceled" and order["vol_exec"] == "0.10000000"
    held = sim.balances(KEY)
    assert held.get("XXBT", Decimal(0)) == (Decimal("0.1") if side == "buy" else Decimal("0.9"))


@pytest.mark.parametrize("fault, check", [
    (BadTicker(field="ask", value="1.0"), lambda t, d: t["a"][0] == "1.0" and d["asks"][0][0] == "1.0"),
    (BadTicker(field="bid", value="NaN"), lambda t, d: t["b"][0] == "NaN" and d["bids"][0][0] == "NaN"),
    (BadTicker(field="last", value="-5"), lambda t, d: t["c"][0] == "-5"),
    (BadTicker(field="crossed"), lambda t, d: Decimal(t["a"][0]) < Decimal(t["b"][0])
     and Decimal(d["asks"][0][0]) < Decimal(d["bids"][0][0])),
])
def test_bad_ticker_spoils_ticker_and_depth(sim: KrakenSimulator, api: krakenex.API, fault: BadTicker,
                                            check: Callable) -> None:
    sane = ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))["XXBTZUSD"]
    sim.set_faults(Faults(bad_ticker=fault))

    ticker = ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))["XXBTZUSD"]
    depth = book(api)

    assert check(ticker, depth)
    sim.set_faults(Faults())
    assert ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))["XXBTZUSD"] == sane  # the cache is intact


def test_bad_ticker_is_refused_with_an_unknown_field(sim: KrakenSimulator) -> None:
    import requests

    reply = requests.post(f"{sim.url}/admin/faults", json={"bad_ticker": {"field": "volume"}}, timeout=TIMEOUT)

    assert reply.status_code == 400 and "bad_ticker field must be one of" in reply.json()["error"]
