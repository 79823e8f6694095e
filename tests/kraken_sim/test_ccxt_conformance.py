"""An independent client against the simulator: ccxt's ``kraken`` class, unchanged but for its base URLs.

ccxt implements Kraken's real API (its parsing, its signing, its error table); every call a bot
makes must go through it as it goes through Kraken. Where ccxt raises, it raises what it raises
for Kraken's own reply (see docs/kraken-simulator.md for each case and its source).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Callable

import pytest

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_sim import KrakenSimulator

from .conftest import KEY, SECRET

ccxt = pytest.importorskip("ccxt")
pytestmark = [pytest.mark.integration, pytest.mark.slow]  # ccxt's own throttle, as shipped: ~3 s a private call

SYMBOL = "BTC/USD"


def kraken_at(url: str, secret: str = SECRET) -> "ccxt.kraken":
    """ccxt's Kraken with nothing changed but the API base URLs."""
    exchange = ccxt.kraken({"apiKey": KEY, "secret": secret, "timeout": 10_000})
    exchange.urls["api"] = {**exchange.urls["api"], "public": url, "private": url}
    return exchange


@pytest.fixture
def sim(make_sim: Callable[..., KrakenSimulator]) -> KrakenSimulator:
    return make_sim(balances={"ZUSD": Decimal("10000"), "XXBT": Decimal("0.5")})


@pytest.fixture
def kraken(sim: KrakenSimulator) -> "ccxt.kraken":
    exchange = kraken_at(sim.url)
    exchange.load_markets()
    return exchange


def test_load_markets_as_shipped(sim: KrakenSimulator) -> None:
    exchange = kraken_at(sim.url)
    markets = exchange.load_markets()   # AssetPairs, and Assets for the currencies
    market = markets[SYMBOL]
    assert market["id"] == "XXBTZUSD" and market["altname"] == "XBTUSD" and market["wsId"] == "XBT/USD"
    assert market["precision"]["price"] == 0.1 and market["precision"]["amount"] == 1e-8
    assert market["limits"]["amount"]["min"] == 0.0001 and market["taker"] == 0.0026
    assert {"BTC", "USD", "ETH", "EUR"} <= set(exchange.currencies)
    assert exchange.currencies["BTC"]["id"] == "XXBT" and exchange.currencies["USD"]["precision"] == 0.0001


def test_market_data(kraken: "ccxt.kraken", clock: SimClock) -> None:
    ticker = kraken.fetch_ticker(SYMBOL)
    assert ticker["symbol"] == SYMBOL and ticker["bid"] < ticker["ask"] and ticker["low"] <= ticker["last"] <= ticker["high"]

    book = kraken.fetch_order_book(SYMBOL, 10)
    assert len(book["asks"]) == 10 and len(book["bids"]) == 10
    assert book["bids"][0][0] == ticker["bid"] and book["asks"][0][0] == ticker["ask"]

    since_ms = (int(clock.now()) // 60 * 60 - 3600) * 1000
    candles = kraken.fetch_ohlcv(SYMBOL, "1m", since=since_ms)
    assert candles and candles[0][0] >= since_ms and len(candles) <= 61
    assert [c[0] for c in candles] == list(range(candles[0][0], candles[-1][0] + 1, 60_000))


def test_fetch_trades_pages_through_history(kraken: "ccxt.kraken", clock: SimClock) -> None:
    since_ms = (int(clock.now()) - 3 * 3600) * 1000
    seen: list[dict] = []
    for _ in range(4):  # pages of 100, each asked from the last trade's time
        page = kraken.fetch_trades(SYMBOL, since=seen[-1]["timestamp"] if seen else since_ms, limit=100)
        assert len(page) == 100
        seen += page
    ids = [int(t["id"]) for t in seen]
    assert ids == list(range(ids[0], ids[0] + 400))          # neither gaps nor repeats between pages
    assert seen[0]["timestamp"] > since_ms
    assert all(t["symbol"] == SYMBOL and t["side"] in ("buy", "sell") for t in seen)


def test_balance_orders_and_trades(sim: KrakenSimulator, kraken: "ccxt.kraken", clock: SimClock) -> None:
    balance = kraken.fetch_balance()
    assert balance["USD"]["free"] == 10000 and balance["BTC"]["total"] == 0.5

    ask = kraken.fetch_ticker(SYMBOL)["ask"]
    ioc = kraken.create_order(SYMBOL, "limit", "buy", 0.01, ask + 100, {"timeInForce": "IOC"})
    market = kraken.create_order(SYMBOL, "market", "sell", 0.01)
    resting = kraken.create_order(SYMBOL, "limit", "buy", 0.01, round(ask * 0.8, 1))
    assert {ioc["id"], market["id"], resting["id"]} == {o["txid"] for o in sim.orders()}

    filled = kraken.fetch_order(ioc["id"])
    assert filled["status"] == "closed" and filled["filled"] == 0.01 and float(filled["fee"]["cost"]) > 0
    assert kraken.fetch_order(resting["id"])["status"] == "open"
    assert [o["id"] for o in kraken.fetch_open_orders(SYMBOL)] == [resting["id"]]
    assert {o["id"] for o in kraken.fetch_closed_orders(SYMBOL)} == {ioc["id"], market["id"]}

    kraken.cancel_order(resting["id"])
    assert kraken.fetch_order(resting["id"])["status"] == "canceled"
    assert kraken.fetch_open_orders(SYMBOL) == []

    trades = kraken.fetch_my_trades(SYMBOL)
    assert sorted(t["order"] for t in trades) == sorted([ioc["id"], market["id"]])
    assert {t["side"] for t in trades} == {"buy", "sell"} and all(t["amount"] == 0.01 for t in trades)


def test_trading_fee_and_cancel_all(sim: KrakenSimulator, kraken: "ccxt.kraken") -> None:
    fee = kraken.fetch_trading_fee(SYMBOL)          # TradeVolume with fee-info
    assert fee["taker"] == 0.0026 and fee["maker"] == 0.0016
    bid = kraken.fetch_ticker(SYMBOL)["bid"]
    for _ in range(2):
        kraken.create_order(SYMBOL, "limit", "buy", 0.001, round(bid * 0.9, 1))
    kraken.cancel_all_orders()
    assert kraken.fetch_open_orders(SYMBOL) == [] and len(sim.orders()) == 2


def test_refused_orders_raise_what_ccxt_raises_for_kraken(kraken: "ccxt.kraken") -> None:
    with pytest.raises(ccxt.InsufficientFunds):      # EOrder:Insufficient funds
        kraken.create_order(SYMBOL, "market", "buy", 10)
    with pytest.raises(ccxt.InvalidOrder):           # EOrder:Order minimum not met
        kraken.create_order(SYMBOL, "market", "buy", 0.00005)


def test_unknown_and_gone_orders_and_a_wrong_secret(sim: KrakenSimulator, kraken: "ccxt.kraken") -> None:
    # QueryOrders of a well-formed id the account never had: EOrder:Unknown order, which ccxt's exact table
    # maps to InvalidOrder (OrderNotFound only in cancel_order); of something that is no order id at all
    # (a trade id): EOrder:Invalid order, ccxt's broad ':Invalid order' rule
    with pytest.raises(ccxt.InvalidOrder) as unknown:
        kraken.fetch_order("OAAAAA-BBBBB-CCCCCC")
    assert type(unknown.value) is ccxt.InvalidOrder and "EOrder:Unknown order" in str(unknown.value)
    with pytest.raises(ccxt.InvalidOrder) as malformed:
        kraken.fetch_order("TAAAAA-BBBBB-CCCCCC")
    assert "EOrder:Invalid order" in str(malformed.value)
    # CancelOrder of an order no longer open: EOrder:Unknown order, which ccxt's cancel_order maps to OrderNotFound
    bid = kraken.fetch_ticker(SYMBOL)["bid"]
    order = kraken.create_order(SYMBOL, "limit", "buy", 0.001, round(bid * 0.9, 1))
    kraken.cancel_order(order["id"])
    with pytest.raises(ccxt.OrderNotFound):
        kraken.cancel_order(order["id"])
    # EAPI:Invalid signature is in no ccxt table: a plain ExchangeError, not an AuthenticationError
    wrong = kraken_at(sim.url, secret=base64.b64encode(bytes(64)).decode())
    wrong.markets, wrong.markets_by_id, wrong.symbols = kraken.markets, kraken.markets_by_id, kraken.symbols
    with pytest.raises(ccxt.ExchangeError) as refused:
        wrong.fetch_balance()
    assert type(refused.value) is ccxt.ExchangeError and "EAPI:Invalid signature" in str(refused.value)
    assert sim.counters()["invalid_signature"] == 1


def test_millisecond_nonces_after_a_higher_nonce_of_another_key(make_sim: Callable[..., KrakenSimulator]) -> None:
    """ccxt signs with millisecond nonces; Kraken checks nonces per key, so another key's higher nonce is no matter."""
    other_secret = base64.b64encode(bytes(range(1, 65))).decode()
    sim = make_sim(api_keys={KEY: SECRET, "other": other_secret})
    other = kraken_at(sim.url, secret=other_secret)
    other.apiKey = "other"
    other.nonce = lambda: 10**18                      # e.g. a nanosecond nonce on the other key
    other.fetch_balance()
    mine = kraken_at(sim.url)
    mine.fetch_balance()
    mine.fetch_balance()
    assert sim.counters()["invalid_nonce"] == 0
