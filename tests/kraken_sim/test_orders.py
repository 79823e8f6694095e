"""Orders through plain krakenex: rejections, validate, limit orders that rest and fill, cancels, paging."""

from __future__ import annotations

import csv
import gzip
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Callable

import krakenex
import pytest

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_sim import KrakenSimulator

from .conftest import KEY, TIMEOUT, plain_client

pytestmark = pytest.mark.integration

MARKET_BUY = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.001"}


def ok(reply: dict) -> dict:
    assert reply["error"] == [], reply
    return reply["result"]


def add(api: krakenex.API, fields: dict | None = None, **overrides: object) -> dict:
    """AddOrder with ``fields`` (default: a small market buy) changed by ``overrides``."""
    data = {**(MARKET_BUY if fields is None else fields), **overrides}
    return api.query_private("AddOrder", {k: str(v) for k, v in data.items()}, timeout=TIMEOUT)


def maker_fee(cost: Decimal) -> Decimal:
    return (cost * Decimal("0.0016")).quantize(Decimal("0.00001"), rounding=ROUND_CEILING)


@pytest.mark.parametrize("fields, error", [
    ({**MARKET_BUY, "pair": "DOGEUSD"}, "EQuery:Unknown asset pair"),
    ({**MARKET_BUY, "pair": "XETHZUSD"}, "EQuery:Unknown asset pair"),
    ({**MARKET_BUY, "type": "hold"}, "EGeneral:Invalid arguments"),
    ({**MARKET_BUY, "ordertype": "stop-loss"}, "EGeneral:Invalid arguments"),
    ({**MARKET_BUY, "volume": "lots"}, "EGeneral:Invalid arguments"),
    ({**MARKET_BUY, "volume": "-1"}, "EGeneral:Invalid arguments"),
    ({k: v for k, v in MARKET_BUY.items() if k != "volume"}, "EGeneral:Invalid arguments"),
    ({**MARKET_BUY, "ordertype": "limit"}, "EGeneral:Invalid arguments"),              # no price
    ({**MARKET_BUY, "userref": 2**31}, "EGeneral:Invalid arguments"),
    ({**MARKET_BUY, "oflags": "post"}, "EGeneral:Invalid arguments"),                  # post needs a limit
    ({**MARKET_BUY, "timeinforce": "FOK"}, "EGeneral:Invalid arguments"),
    ({**MARKET_BUY, "validate": "maybe"}, "EGeneral:Invalid arguments"),
    ({**MARKET_BUY, "volume": "0.00009"}, "EOrder:Order minimum not met"),
    ({**MARKET_BUY, "volume": "0.000012345"}, "EOrder:Order minimum not met"),
    ({**MARKET_BUY, "ordertype": "limit", "price": "3000", "volume": "0.0001"}, "EOrder:Cost minimum not met"),
    ({**MARKET_BUY, "volume": "1"}, "EOrder:Insufficient funds"),
    ({**MARKET_BUY, "type": "sell"}, "EOrder:Insufficient funds"),
    ({**MARKET_BUY, "ordertype": "limit", "price": "100.05"},
     "EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals."),
])
def test_refused_orders_change_nothing(sim: KrakenSimulator, api: krakenex.API, fields: dict, error: str) -> None:
    assert add(api, fields) == {"error": [error]}
    if "validate" not in fields and error != "EOrder:Insufficient funds":  # validate never checks funds (below)
        assert add(api, fields, validate="true") == {"error": [error]}
    assert sim.orders() == [] and sim.balances(KEY) == {"ZUSD": Decimal("10000")}


@pytest.mark.parametrize("fields", [{**MARKET_BUY, "volume": "1"}, {**MARKET_BUY, "type": "sell"}])
def test_validate_checks_the_order_not_the_funds(sim: KrakenSimulator, api: krakenex.API, fields: dict) -> None:
    """Kraken: "validate inputs only"; an order the account could not pay still validates (a --validate bot's sells)."""
    reply = ok(add(api, fields, validate="true"))

    assert "txid" not in reply and reply["descr"]["order"].startswith(f"{fields['type']} ")
    assert add(api, fields) == {"error": ["EOrder:Insufficient funds"]}
    assert sim.orders() == [] and sim.balances(KEY) == {"ZUSD": Decimal("10000")}


def test_validate_checks_everything_and_places_nothing(sim: KrakenSimulator, api: krakenex.API) -> None:
    reply = ok(add(api, ordertype="limit", price="25000.5", userref=9, validate="true"))

    assert reply == {"descr": {"order": "buy 0.00100000 XBTUSD @ limit 25000.5"}}
    assert sim.orders() == [] and ok(api.query_private("OpenOrders", timeout=TIMEOUT)) == {"open": {}}
    assert sim.counters()["orders_validated"] == 1 and sim.counters()["orders_placed"] == 0


def test_cancel_order_and_unknown_orders(sim: KrakenSimulator, api: krakenex.API) -> None:
    (txid,) = ok(add(api, ordertype="limit", price="20000", userref=5))["txid"]

    assert ok(api.query_private("CancelOrder", {"txid": txid}, timeout=TIMEOUT)) == {"count": 1}
    assert api.query_private("CancelOrder", {"txid": txid}, timeout=TIMEOUT) == {"error": ["EOrder:Unknown order"]}
    assert api.query_private("CancelOrder", {"txid": "OAAAAA-BBBBB-CCCCCC"}, timeout=TIMEOUT) == {"error": ["EOrder:Unknown order"]}
    assert api.query_private("QueryOrders", {"txid": "OAAAAA-BBBBB-CCCCCC"}, timeout=TIMEOUT) == {"error": ["EOrder:Unknown order"]}
    order = ok(api.query_private("QueryOrders", {"txid": txid}, timeout=TIMEOUT))[txid]
    assert order["status"] == "canceled" and order["reason"] == "User requested" and order["vol_exec"] == "0.00000000"
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000")}


def test_cancel_by_userref_cancels_every_open_order_carrying_it(api: krakenex.API) -> None:
    for price in ("20000", "20000.1", "20000.2"):
        ok(add(api, ordertype="limit", price=price, userref=77))
    ok(add(api, ordertype="limit", price="20000", userref=78))

    assert ok(api.query_private("CancelOrder", {"txid": "77"}, timeout=TIMEOUT)) == {"count": 3}
    assert len(ok(api.query_private("OpenOrders", timeout=TIMEOUT))["open"]) == 1


def test_resting_orders_hold_funds(sim: KrakenSimulator, api: krakenex.API) -> None:
    (txid,) = ok(add(api, ordertype="limit", price="20000", volume="0.4"))["txid"]
    cost = Decimal("8000")

    held = ok(api.query_private("BalanceEx", timeout=TIMEOUT))["ZUSD"]
    refused = add(api, ordertype="limit", price="20000", volume="0.1")

    assert Decimal(held["balance"]) == Decimal("10000")
    assert Decimal(held["hold_trade"]) == cost + maker_fee(cost)
    assert refused == {"error": ["EOrder:Insufficient funds"]}
    open_orders = ok(api.query_private("OpenOrders", timeout=TIMEOUT))["open"]
    assert list(open_orders) == [txid] and open_orders[txid]["status"] == "open"


def test_open_and_closed_orders_filter_by_userref_and_cl_ord_id(api: krakenex.API) -> None:
    ok(add(api, ordertype="limit", price="20000", userref=1))
    ok(add(api, ordertype="limit", price="20000", cl_ord_id="bot-7-0001"))
    ok(add(api, userref=1))

    by_ref = ok(api.query_private("OpenOrders", {"userref": 1}, timeout=TIMEOUT))["open"]
    by_id = ok(api.query_private("OpenOrders", {"cl_ord_id": "bot-7-0001"}, timeout=TIMEOUT))["open"]
    closed = ok(api.query_private("ClosedOrders", {"userref": 1}, timeout=TIMEOUT))

    assert len(by_ref) == 1 and next(iter(by_ref.values()))["userref"] == 1
    assert [o["cl_ord_id"] for o in by_id.values()] == ["bot-7-0001"]
    assert closed["count"] == 1 and next(iter(closed["closed"].values()))["descr"]["ordertype"] == "market"
    assert add(api, ordertype="limit", price="20000", cl_ord_id="bot-7-0001")["error"][0].startswith("EOrder:")
    assert add(api, userref=3, cl_ord_id="both") == {"error": ["EGeneral:Invalid arguments"]}


def test_closed_orders_page_fifty_at_a_time(make_sim: Callable[..., KrakenSimulator], clock: SimClock) -> None:
    sim = make_sim(balances={"ZUSD": Decimal("100000")})
    api = plain_client(sim.url)
    placed = []
    for n in range(60):
        clock.sleep(1)
        placed.append(ok(add(api, userref=n))["txid"][0])

    first = ok(api.query_private("ClosedOrders", timeout=TIMEOUT))
    second = ok(api.query_private("ClosedOrders", {"ofs": 50}, timeout=TIMEOUT))
    window = ok(api.query_private("ClosedOrders", {"start": placed[9], "end": placed[20]}, timeout=TIMEOUT))
    trades = ok(api.query_private("TradesHistory", {"ofs": 50}, timeout=TIMEOUT))

    assert first["count"] == second["count"] == 60
    assert list(first["closed"]) + list(second["closed"]) == placed[::-1]           # newest first
    assert list(window["closed"]) == placed[19:9:-1] and window["count"] == 10
    assert trades["count"] == 60 and len(trades["trades"]) == 10


def test_a_limit_buy_rests_then_fills_when_the_price_falls_to_it(sim: KrakenSimulator, api: krakenex.API,
                                                                 clock: SimClock) -> None:
    last = sim.price()
    limit = last - Decimal("60.0")
    (txid,) = ok(add(api, ordertype="limit", price=limit, volume="0.1", userref=11))["txid"]
    placed_at = clock.now()
    assert sim.orders(userref=11)[0]["status"] == "open"

    seen = []
    for _ in range(240):                           # up to 4 simulated hours, a minute at a time
        clock.sleep(60)
        order = ok(api.query_private("QueryOrders", {"txid": txid, "trades": True}, timeout=TIMEOUT))[txid]
        seen.append(sim.price())
        if order["status"] == "closed":
            break

    assert order["status"] == "closed", f"price never reached {limit}: lowest {min(seen)}"
    cost = limit * Decimal("0.1")
    assert (Decimal(order["price"]), Decimal(order["cost"]), Decimal(order["fee"])) == (limit, cost, maker_fee(cost))
    (trade,) = ok(api.query_private("TradesHistory", timeout=TIMEOUT))["trades"].values()
    assert trade["maker"] is True and trade["ordertype"] == "limit"
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000") - cost - maker_fee(cost), "XXBT": Decimal("0.1")}
    # it filled at the first minute whose low reached the limit, not before
    fill_minute = int(order["closetm"]) // 60 * 60
    candles = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 1, "since": int(placed_at) // 60 * 60},
                                  timeout=TIMEOUT))["XXBTZUSD"]
    lows = {row[0]: Decimal(row[3]) for row in candles}
    assert lows[fill_minute] <= limit
    assert all(low > limit for minute, low in lows.items() if int(placed_at) // 60 * 60 < minute < fill_minute)


def test_a_limit_sell_that_crosses_on_arrival_is_a_taker_and_post_only_is_canceled(
        make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"XXBT": Decimal("1")})
    api = plain_client(sim.url)
    below = sim.price() - Decimal("100")

    (post,) = ok(add(api, type="sell", ordertype="limit", price=below, oflags="post"))["txid"]
    (taker,) = ok(add(api, type="sell", ordertype="limit", price=below))["txid"]

    orders = ok(api.query_private("QueryOrders", {"txid": f"{post},{taker}"}, timeout=TIMEOUT))
    assert orders[post]["status"] == "canceled" and orders[post]["reason"] == "Post only order"
    assert orders[taker]["status"] == "closed" and Decimal(orders[taker]["price"]) > below
    (trade,) = ok(api.query_private("TradesHistory", timeout=TIMEOUT))["trades"].values()
    assert trade["maker"] is False


def test_ioc_and_gtd_limit_orders(sim: KrakenSimulator, api: krakenex.API, clock: SimClock) -> None:
    far = sim.price() - Decimal("5000")
    (ioc,) = ok(add(api, ordertype="limit", price=far, timeinforce="IOC"))["txid"]
    (gtd,) = ok(add(api, ordertype="limit", price=far, timeinforce="GTD", expiretm="+30"))["txid"]
    clock.sleep(31)

    orders = ok(api.query_private("QueryOrders", {"txid": f"{ioc},{gtd}"}, timeout=TIMEOUT))
    assert orders[ioc]["status"] == "canceled"
    assert orders[gtd]["status"] == "expired"
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000")}


def test_replay_fills_a_limit_order_inside_the_candle_that_reaches_it(
        make_sim: Callable[..., KrakenSimulator], shared_data: Path, clock: SimClock) -> None:
    data = shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"
    with gzip.open(data, "rt", newline="") as handle:
        rows = [(int(r[0]), Decimal(r[3])) for r in list(csv.reader(handle))[1:400]]
    start = rows[100][0]
    sim = make_sim(data=data, start=start)
    api = plain_client(sim.url)
    now = sim.price()
    # the first later candle that trades below `now - 20`: our limit is its low (read from the file itself)
    target_time, target_low = next((t, low) for t, low in rows[101:] if low <= now - 20)

    (txid,) = ok(add(api, ordertype="limit", price=target_low))["txid"]
    clock.sleep(target_time - start - 1)
    before = ok(api.query_private("QueryOrders", {"txid": txid}, timeout=TIMEOUT))[txid]
    clock.sleep(301)
    after = ok(api.query_private("QueryOrders", {"txid": txid}, timeout=TIMEOUT))[txid]

    assert before["status"] == "open"
    assert after["status"] == "closed" and Decimal(after["price"]) == target_low
    assert target_time <= after["closetm"] < target_time + 300
