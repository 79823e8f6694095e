"""A plain ``krakenex.API`` against the simulator: the whole flow a bot goes through, with exact arithmetic."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

import krakenex
import pytest

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_pairs import snapshot_reply
from candlebot.exchanges.kraken_sim import KrakenSimulator

from .conftest import KEY, TIMEOUT

pytestmark = pytest.mark.integration


def ok(reply: dict) -> dict:
    assert reply["error"] == [], reply
    return reply["result"]


def test_a_bot_session_from_pairs_to_trade_history(sim: KrakenSimulator, api: krakenex.API, clock: SimClock) -> None:
    # market data, asked by altname, answered by pair id
    pairs = ok(api.query_public("AssetPairs", {"pair": "XBTUSD"}, timeout=TIMEOUT))
    assert pairs == {"XXBTZUSD": snapshot_reply()["result"]["XXBTZUSD"]}

    ticker = ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))["XXBTZUSD"]
    ask, bid, last = Decimal(ticker["a"][0]), Decimal(ticker["b"][0]), Decimal(ticker["c"][0])
    assert bid < last <= ask
    assert Decimal(ticker["l"][1]) <= last <= Decimal(ticker["h"][1])

    ohlc = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 1}, timeout=TIMEOUT))
    rows = ohlc["XXBTZUSD"]
    assert len(rows) == 720
    assert rows[-1][0] == int(clock.now()) // 60 * 60          # the forming candle is last
    assert ohlc["last"] == rows[-2][0]                         # ... and `last` is the newest closed one
    assert Decimal(rows[-1][4]) == last                        # its close is the last trade

    depth = ok(api.query_public("Depth", {"pair": "XBTUSD", "count": 10}, timeout=TIMEOUT))["XXBTZUSD"]
    assert Decimal(depth["asks"][0][0]) == ask and Decimal(depth["bids"][0][0]) == bid

    assert ok(api.query_private("Balance", timeout=TIMEOUT)) == {"ZUSD": "10000.0000"}

    # a validated order is checked and never placed
    checked = ok(api.query_private("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "market",
                                                "volume": "0.01", "userref": 41, "validate": "true"}, timeout=TIMEOUT))
    assert checked == {"descr": {"order": "buy 0.01000000 XBTUSD @ market"}}
    assert sim.orders() == []

    # a market buy fills at once at the ask, taker fee
    placed = ok(api.query_private("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "market",
                                               "volume": "0.0123456789", "userref": 42}, timeout=TIMEOUT))
    assert placed["descr"] == {"order": "buy 0.01234567 XBTUSD @ market"}    # volume truncated to lot_decimals
    (txid,) = placed["txid"]

    order = ok(api.query_private("QueryOrders", {"txid": txid, "trades": "true"}, timeout=TIMEOUT))[txid]
    assert order["status"] == "closed" and order["userref"] == 42
    assert order["descr"]["pair"] == "XBTUSD" and order["descr"]["type"] == "buy"
    assert order["vol"] == order["vol_exec"] == "0.01234567"
    price, cost, fee = Decimal(order["price"]), Decimal(order["cost"]), Decimal(order["fee"])
    assert price == ask
    assert cost == (price * Decimal("0.01234567")).quantize(Decimal("0.00001"), rounding=ROUND_HALF_EVEN)
    assert fee == (cost * Decimal("0.0026")).quantize(Decimal("0.00001"), rounding=ROUND_CEILING)
    assert order["cost"] == f"{cost:.5f}" and len(order["trades"]) == 1

    balance = ok(api.query_private("Balance", timeout=TIMEOUT))
    assert Decimal(balance["ZUSD"]) == Decimal("10000") - cost - fee
    assert Decimal(balance["XXBT"]) == Decimal("0.01234567")
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000") - cost - fee, "XXBT": Decimal("0.01234567")}

    history = ok(api.query_private("TradesHistory", timeout=TIMEOUT))
    assert history["count"] == 1
    (trade,) = history["trades"].values()
    assert (trade["ordertxid"], trade["pair"], trade["type"], trade["ordertype"]) == (txid, "XXBTZUSD", "buy", "market")
    assert (Decimal(trade["price"]), Decimal(trade["cost"]), Decimal(trade["fee"])) == (price, cost, fee)
    assert list(history["trades"]) == order["trades"]

    closed = ok(api.query_private("ClosedOrders", {"userref": 42}, timeout=TIMEOUT))
    assert closed["count"] == 1 and list(closed["closed"]) == [txid]
    assert ok(api.query_private("ClosedOrders", {"userref": 41}, timeout=TIMEOUT)) == {"closed": {}, "count": 0}

    # selling it back: base leaves exactly, quote grows by cost - fee
    clock.sleep(30)
    sold = ok(api.query_private("AddOrder", {"pair": "XXBTZUSD", "type": "sell", "ordertype": "market",
                                             "volume": "0.01234567", "userref": 43}, timeout=TIMEOUT))
    sell = ok(api.query_private("QueryOrders", {"txid": sold["txid"][0]}, timeout=TIMEOUT))[sold["txid"][0]]
    sell_cost, sell_fee = Decimal(sell["cost"]), Decimal(sell["fee"])
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000") - cost - fee + sell_cost - sell_fee, "XXBT": Decimal(0)}
    assert sim.counters()["invalid_nonce"] == 0 and sim.counters()["internal_errors"] == 0
