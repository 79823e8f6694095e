"""Endpoints and details as Kraken serves them: Assets, Spread, TradeVolume, CancelAll, pair name forms, cursors, ids."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Callable

import krakenex
import pytest
import websockets

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_pairs import snapshot_reply
from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig

from .conftest import T0, TIMEOUT, plain_client

pytestmark = pytest.mark.integration


def ok(reply: dict) -> dict:
    assert reply["error"] == [], reply
    return reply["result"]


def test_assets_keyed_by_asset_id_and_filtered_by_any_name(api: krakenex.API) -> None:
    everything = ok(api.query_public("Assets", timeout=TIMEOUT))
    pairs = snapshot_reply()["result"].values()  # every asset the bundled catalog's pairs trade
    assert set(everything) == {pair["base"] for pair in pairs} | {pair["quote"] for pair in pairs}
    assert {"XXBT", "ZUSD", "USDT", "USDC", "ZEUR", "XETH", "SOL"} <= set(everything)
    assert everything["XXBT"] == {"aclass": "currency", "altname": "XBT", "decimals": 10, "display_decimals": 5,
                                  "collateral_value": 1.0, "status": "enabled"}
    assert everything["ZUSD"]["altname"] == "USD" and everything["ZUSD"]["decimals"] == 4
    assert list(ok(api.query_public("Assets", {"asset": "XBT,ZUSD,ETH"}, timeout=TIMEOUT))) == ["XXBT", "ZUSD", "XETH"]
    assert api.query_public("Assets", {"asset": "NOPE"}, timeout=TIMEOUT) == {"error": ["EQuery:Unknown asset"]}


@pytest.mark.parametrize("name, key", [("XBTUSD", "XXBTZUSD"), ("XXBTZUSD", "XXBTZUSD"), ("XBT/USD", "XBT/USD"),
                                       ("BTC/USD", "BTC/USD"), ("btc/usd", "btc/usd")])
def test_asset_pairs_and_ticker_take_every_name_form(api: krakenex.API, name: str, key: str) -> None:
    pairs = ok(api.query_public("AssetPairs", {"pair": name}, timeout=TIMEOUT))
    assert list(pairs) == [key] and pairs[key]["altname"] == "XBTUSD"
    ticker = ok(api.query_public("Ticker", {"pair": name}, timeout=TIMEOUT))
    assert list(ticker) == [key] and Decimal(ticker[key]["b"][0]) < Decimal(ticker[key]["a"][0])


def test_other_pairs_by_their_v2_symbol(api: krakenex.API) -> None:
    pairs = ok(api.query_public("AssetPairs", {"pair": "ETH/BTC,ETHUSD"}, timeout=TIMEOUT))
    assert list(pairs) == ["ETH/BTC", "XETHZUSD"] and pairs["ETH/BTC"]["altname"] == "ETHXBT"


def test_spread_is_the_recent_best_bid_and_ask(api: krakenex.API) -> None:
    result = ok(api.query_public("Spread", {"pair": "XBTUSD"}, timeout=TIMEOUT))
    rows = result["XXBTZUSD"]
    assert len(rows) == 200 and result["last"] == rows[-1][0] == int(T0)
    assert [r[0] for r in rows] == list(range(int(T0) - 199, int(T0) + 1))
    assert all(Decimal(bid) < Decimal(ask) for _, bid, ask in rows)
    ticker = ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))["XXBTZUSD"]
    assert rows[-1][1:] == [ticker["b"][0], ticker["a"][0]]
    newer = ok(api.query_public("Spread", {"pair": "XBTUSD", "since": int(T0) - 5}, timeout=TIMEOUT))["XXBTZUSD"]
    assert [r[0] for r in newer] == list(range(int(T0) - 4, int(T0) + 1))


def test_trade_volume_reports_the_accounts_tier_and_the_fees_it_pays(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(volume_30d=Decimal("120000"), balances={"ZUSD": Decimal("10000")})
    api = plain_client(sim.url)
    assert ok(api.query_private("TradeVolume", timeout=TIMEOUT)) == {"currency": "ZUSD", "volume": "120000.0000"}
    result = ok(api.query_private("TradeVolume", {"pair": "XBTUSD"}, timeout=TIMEOUT))
    assert result["fees"] == {"XXBTZUSD": {"fee": "0.2200", "minfee": "0.1000", "maxfee": "0.2600", "nextfee": "0.2000",
                                           "nextvolume": "250000.0000", "tiervolume": "100000.0000"}}
    assert result["fees_maker"]["XXBTZUSD"]["fee"] == "0.1200"
    (txid,) = ok(api.query_private("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "market",
                                                "volume": "0.1"}, timeout=TIMEOUT))["txid"]
    order = ok(api.query_private("QueryOrders", {"txid": txid}, timeout=TIMEOUT))[txid]
    assert Decimal(order["fee"]) == (Decimal(order["cost"]) * Decimal("0.0022")).quantize(Decimal("1e-5"), "ROUND_CEILING")


def test_cancel_all_cancels_every_open_order(sim: KrakenSimulator, api: krakenex.API) -> None:
    assert ok(api.query_private("CancelAll", timeout=TIMEOUT)) == {"count": 0}
    for price in ("20000", "21000"):
        ok(api.query_private("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": price,
                                          "volume": "0.01"}, timeout=TIMEOUT))
    assert ok(api.query_private("CancelAll", timeout=TIMEOUT)) == {"count": 2}
    assert ok(api.query_private("OpenOrders", timeout=TIMEOUT)) == {"open": {}}
    assert {o["status"] for o in sim.orders()} == {"canceled"}


def test_trades_since_in_seconds_milliseconds_or_nanoseconds_and_last_within_64_bits(api: krakenex.API) -> None:
    start = int(T0) - 60
    answers = [ok(api.query_public("Trades", {"pair": "XBTUSD", "since": since}, timeout=TIMEOUT))
               for since in (start, start * 1000, start * 10**9)]
    assert answers[0] == answers[1] == answers[2]
    assert [row[2] for row in answers[0]["XXBTZUSD"]] == [float(t) for t in range(start + 1, int(T0) + 1)]
    future = ok(api.query_public("Trades", {"pair": "XBTUSD", "since": (int(T0) + 100) * 1000}, timeout=TIMEOUT))
    assert future["XXBTZUSD"] == [] and int(future["last"]) == (int(T0) + 100) * 10**9 < 2**64
    assert api.query_public("Trades", {"pair": "XBTUSD", "since": 2**64}, timeout=TIMEOUT) == {
        "error": ["EGeneral:Invalid arguments"]}


def test_recorded_trade_cursors_are_exact_nanoseconds(make_sim: Callable[..., KrakenSimulator], tmp_path) -> None:
    data = tmp_path / "trades.csv"
    data.write_text("time,price,volume\n1700000000.123456789,30000.1,0.5\n1700000000.987654321,30000.2,0.25\n")
    sim = make_sim(data=data, pair="XBTUSD", start=1700000001)
    result = ok(plain_client(sim.url).query_public("Trades", {"pair": "XBTUSD", "since": 0}, timeout=TIMEOUT))
    assert result["last"] == "1700000000987654321"  # float seconds * 1e9 gives ...987654400
    first = ok(plain_client(sim.url).query_public("Trades", {"pair": "XBTUSD", "since": 0, "count": 1}, timeout=TIMEOUT))
    assert first["last"] == "1700000000123456789"


def test_order_and_trade_ids_differ_between_runs_and_the_market_does_not(
        make_sim: Callable[..., KrakenSimulator]) -> None:
    runs = []
    for _ in range(2):
        sim = make_sim(seed=7)
        api = plain_client(sim.url)
        ticker = ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))
        (txid,) = ok(api.query_private("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "market",
                                                    "volume": "0.01"}, timeout=TIMEOUT))["txid"]
        trades = ok(api.query_private("TradesHistory", timeout=TIMEOUT))["trades"]
        (trade_txid, trade), = trades.items()
        runs.append((ticker, txid, trade_txid, trade["postxid"], trade["trade_id"], trade["price"], trade["cost"]))
        sim.stop()
    (ticker_a, *ids_a, price_a, cost_a), (ticker_b, *ids_b, price_b, cost_b) = runs
    assert ticker_a == ticker_b and (price_a, cost_a) == (price_b, cost_b)   # a seeded run is reproducible
    assert all(a != b for a, b in zip(ids_a, ids_b))                        # ... but never reuses an id


def test_websocket_unsubscribe_ack_and_pong_as_kraken_sends_them(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim()
    url = sim.serve_websocket()

    async def run() -> list[dict]:
        replies = []
        async with websockets.connect(url) as ws:
            for request in ({"method": "ping"}, {"method": "ping", "req_id": 4},
                            {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}},
                            {"method": "unsubscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}}):
                await ws.send(json.dumps(request))
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if "method" in message:
                        replies.append(message)
                        break
        return replies

    pong, pong_4, subscribed, unsubscribed = asyncio.run(run())
    assert pong["method"] == "pong" and "req_id" not in pong
    assert pong_4["req_id"] == 4
    assert subscribed["result"] == {"channel": "book", "symbol": "BTC/USD", "depth": 10, "snapshot": True}
    assert unsubscribed["success"] and unsubscribed["result"] == {"channel": "book", "symbol": "BTC/USD", "depth": 10}
