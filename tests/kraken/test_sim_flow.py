"""The adapter's whole flow through krakenex against the Kraken simulator on loopback."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest

from candlebot.errors import ConfigError, FatalExchangeError, OrderRejected
from candlebot.venue import Fill, OrderRequest, Side
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.assembly.venues import kraken_venue
from tests.kraken.conftest import fast_config, start_sim

pytestmark = pytest.mark.integration

MakeExchange = Callable[..., KrakenExchange]


def assert_fill_matches(fill: Fill, order: dict[str, Any]) -> None:
    assert fill.order_id == order["txid"]
    assert fill.userref == order["userref"]
    assert fill.side.value == order["descr"]["type"]
    assert fill.price == Decimal(order["price"])
    assert fill.volume == Decimal(order["vol_exec"])
    assert fill.cost == Decimal(order["cost"])
    assert fill.fee == Decimal(order["fee"])
    assert str(fill.cost) == order["cost"] and str(fill.fee) == order["fee"]


@pytest.mark.parametrize("name", ["XBTUSD", "BTCUSD", "BTC/USD", "XBT/USD", "XXBTZUSD", "btc-usd", " xbtusd "])
def test_pair_names_normalise_to_one_pair(make_exchange: MakeExchange, name: str) -> None:
    info = make_exchange().pair_info(name)

    assert (info.name, info.altname, info.wsname, info.base, info.quote) == ("XXBTZUSD", "XBTUSD", "XBT/USD",
                                                                           "XXBT", "ZUSD")
    assert (info.pair_decimals, info.lot_decimals, info.cost_decimals) == (1, 8, 5)
    assert info.ordermin == Decimal("0.0001") and info.costmin == Decimal("0.5")
    assert info.tick_size == Decimal("0.1")
    assert info.taker_fee == Decimal("0.0026") and info.maker_fee == Decimal("0.0016")
    assert info.taker_tiers[1] == (Decimal(50000), Decimal("0.0024"))


def test_pairs_are_fetched_once(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    exchange.pair_info("XBTUSD")
    before = sim.counters()["public"]

    for name in ("XBTUSD", "BTC/USD", "XXBTZUSD", "ETHUSD"):
        exchange.pair_info(name)

    assert sim.counters()["public"] == before


def test_unknown_pair_is_a_fatal_exchange_error(make_exchange: MakeExchange) -> None:
    exchange = make_exchange()

    with pytest.raises(FatalExchangeError, match="DOGEXYZ"):
        exchange.pair_info("DOGEXYZ")


def test_pair_listed_but_not_traded_here_is_refused_by_the_server(make_exchange: MakeExchange) -> None:
    """ETHUSD is in AssetPairs but the simulator only runs a market for XBTUSD: Kraken's error, translated."""
    exchange = make_exchange()

    with pytest.raises(FatalExchangeError) as info:
        exchange.ticker("ETHUSD")

    assert info.value.code == "EQuery:Unknown asset pair"


def test_ticker_and_market_price(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()

    tick = exchange.ticker("BTC/USD")

    assert tick.pair == "XXBTZUSD"
    assert Decimal(0) < tick.bid < tick.ask
    assert abs(tick.last - sim.price()) / sim.price() < Decimal("0.01")
    assert exchange.market_price("XBTUSD", Side.BUY) >= exchange.market_price("XBTUSD", Side.SELL)


def test_order_book_sides_are_sorted(make_exchange: MakeExchange) -> None:
    book = make_exchange().order_book("XBTUSD", depth=10)

    assert 0 < len(book.bids) <= 10 and 0 < len(book.asks) <= 10
    assert [b.price for b in book.bids] == sorted((b.price for b in book.bids), reverse=True)
    assert [a.price for a in book.asks] == sorted(a.price for a in book.asks)
    assert book.bids[0].price < book.asks[0].price


def test_order_book_depth_is_checked(make_exchange: MakeExchange) -> None:
    with pytest.raises(ConfigError):
        make_exchange().order_book("XBTUSD", depth=501)


def test_recent_trades(make_exchange: MakeExchange) -> None:
    page = make_exchange().recent_trades("XBTUSD")

    assert page.trades and page.last
    assert all(t.price > 0 and t.volume > 0 for t in page.trades)


def test_ohlc_separates_the_forming_candle(make_exchange: MakeExchange) -> None:
    page = make_exchange().ohlc("XBTUSD", 5)

    times = [c.time for c in page.candles]
    assert len(page.candles) == 719
    assert page.forming is not None and page.forming.time == times[-1] + 300
    assert all(b - a == 300 for a, b in zip(times, times[1:]))
    assert page.last == times[-1]


@pytest.mark.slow
def test_ohlc_pages_forward_with_last(tmp_path: Path) -> None:
    """A fast simulator (10 simulated minutes per second): the next page, asked with ``last``, continues it."""
    simulator = start_sim(speed=600.0)
    try:
        creds = KrakenCredentials(*next(iter(simulator.config.api_keys.items())))
        exchange = kraken_venue(fast_config(simulator.url), credentials=creds, state_dir=tmp_path)
        first = exchange.ohlc("XBTUSD", 1)
        time.sleep(0.4)  # the scenario: simulated time passes (4 minutes at 600x), so candles close

        second = exchange.ohlc("XBTUSD", 1, since=first.last)

        assert first.forming is not None and second.forming is not None
        assert second.candles, "a few minutes passed: candles closed since the first page"
        assert second.candles[0].time == first.candles[-1].time + 60 == first.forming.time
        assert all(c.time > first.last for c in second.candles)
        assert second.forming.time == second.candles[-1].time + 60
        assert second.last == second.candles[-1].time
    finally:
        simulator.stop()


@pytest.mark.slow
def test_closed_candles_history(make_exchange: MakeExchange) -> None:
    exchange = make_exchange()

    candles = exchange.closed_candles("XBTUSD", 60, 200)
    latest = exchange.ohlc("XBTUSD", 60)

    assert len(candles) == 200
    assert candles[-1] == latest.candles[-1]
    assert all(b.time - a.time == 3600 for a, b in zip(candles, candles[1:]))


def test_ohlc_interval_is_checked(make_exchange: MakeExchange) -> None:
    with pytest.raises(ConfigError):
        make_exchange().ohlc("XBTUSD", 7)


def test_balances_match_the_simulator(sim: Any, make_exchange: MakeExchange) -> None:
    balances = make_exchange().balances()

    assert balances == sim.balances(next(iter(sim.config.api_keys)))
    assert balances["ZUSD"] == Decimal("100000") and balances["XXBT"] == Decimal("10")


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_market_order_fill_and_balances_to_the_last_decimal(sim: Any, make_exchange: MakeExchange,
                                                            side: Side) -> None:
    exchange = make_exchange()
    key = next(iter(sim.config.api_keys))
    before = exchange.balances()

    fill = exchange.place_market_order(OrderRequest("BTC/USD", side, Decimal("0.12345678"), userref=777))

    (order,) = sim.orders(userref=777)
    assert order["status"] == "closed"
    assert_fill_matches(fill, order)
    assert fill.pair == "XXBTZUSD" and fill.side is side and fill.volume == Decimal("0.12345678")
    after = exchange.balances()
    assert after == sim.balances(key)
    sign = 1 if side is Side.BUY else -1
    assert after["XXBT"] == before["XXBT"] + sign * fill.volume
    assert after["ZUSD"] == before["ZUSD"] - sign * fill.cost - fill.fee


def test_find_order_returns_the_same_fill(make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=31337))

    assert exchange.find_order("XBTUSD", 31337) == fill
    assert exchange.find_order("XBTUSD", 31338) is None
    assert [o.txid for o in exchange.closed_orders(userref=31337)] == [fill.order_id]
    assert exchange.query_orders([fill.order_id])[0].volume_executed == fill.volume
    assert exchange.open_orders() == []


def test_validate_places_nothing(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    key = next(iter(sim.config.api_keys))
    before = sim.balances(key)

    description = exchange.validate_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.5"), userref=5))

    assert description == "buy 0.50000000 XBTUSD @ market"
    assert sim.orders() == [] and sim.balances(key) == before
    assert sim.counters()["orders_validated"] == 1 and sim.counters()["orders_placed"] == 0


@pytest.mark.parametrize("volume, code", [(Decimal("0.00005"), "EOrder:Order minimum not met"),
                                          (Decimal("500"), "EOrder:Insufficient funds")])
def test_refused_orders_raise_order_rejected(sim: Any, make_exchange: MakeExchange, volume: Decimal,
                                             code: str) -> None:
    exchange = make_exchange()
    order = OrderRequest("XBTUSD", Side.BUY, volume, userref=6)

    with pytest.raises(OrderRejected) as placed:
        exchange.place_market_order(order)
    if code == "EOrder:Insufficient funds":  # Kraken's validate checks the order, not the account's funds
        assert exchange.validate_market_order(order) == f"buy {volume:.8f} XBTUSD @ market"
    else:
        with pytest.raises(OrderRejected) as validated:
            exchange.validate_market_order(order)
        assert validated.value.code == code

    assert placed.value.code == code
    assert sim.orders() == []


def test_list_parameters_sign_correctly(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    fills = [exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.001"), userref=ref))
             for ref in (1, 2, 3)]

    found = exchange.query_orders([f.order_id for f in fills])

    assert {o.txid for o in found} == {f.order_id for f in fills}
    assert sim.counters()["invalid_signature"] == 0 and sim.counters()["invalid_nonce"] == 0


def test_cancel_of_an_unknown_or_filled_order_is_false(make_exchange: MakeExchange) -> None:
    exchange = make_exchange()
    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.001"), userref=12))

    assert exchange.cancel_order(fill.order_id) is False
    assert exchange.cancel_order("OXXXXX-XXXXX-XXXXXX") is False
