"""One contract for ``candlebot.venue.Exchange``, run against every implementation:
the backtest exchange on recorded candles, the Kraken adapter on the simulator, paper fills over it,
the balance-checked live wrapper, and the in-memory exchange the fast unit layer trades on."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Callable

import pytest

from candlebot.data.candlefile import load_candles
from candlebot.chart import Chart
from candlebot.clock import LiveClock, SimClock
from candlebot.errors import FatalExchangeError, OrderRejected
from candlebot.venue import Exchange, Fill, OrderRequest, Side
from candlebot.pair import PairInfo
from candlebot.exchanges.kraken import KrakenConfig, KrakenCredentials
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.assembly.backtest import backtest_venue
from candlebot.assembly.venues import kraken_venue, mode_venue
from tests.support.bots import KEY, SECRET, start_simulator
from tests.support.memory_exchange import MemoryExchange


@dataclass
class Venue:
    exchange: Exchange
    pair: PairInfo
    fee_rate: Decimal
    next_ref: Callable[[], int]


_SIM_REFS = itertools.count(100_000)  # one simulator serves every test of this module: userrefs never repeat on it


def _refs(start: int) -> Callable[[], int]:
    counter = iter(range(start, start + 10_000))
    return lambda: next(counter)


@pytest.fixture(scope="module")
def sim():
    simulator = start_simulator()
    yield simulator
    simulator.stop()


ON_THE_SIMULATOR = pytest.mark.integration  # these venues talk to the Kraken simulator on loopback


@pytest.fixture(params=["backtest", "memory", *(pytest.param(name, marks=ON_THE_SIMULATOR) for name in ("kraken", "paper", "live"))])
def venue(request, shared_data, tmp_path) -> Venue:
    if request.param == "memory":
        pair = find_pair(offline_pairs(), "XBTUSD")
        exchange = MemoryExchange(pair, clock=SimClock(1_700_000_000.0), balances={pair.quote: Decimal("10000")},
                                  bids=[("29990.0", "2"), ("29980.0", "5")], asks=[("30000.0", "2"), ("30010.0", "5")])
        return Venue(exchange, pair, pair.taker_fee, _refs(1))
    if request.param == "backtest":
        c = load_candles(shared_data / "kraken/xbtusd_1h_2023q1.csv")
        chart = Chart.from_arrays("XBTUSD", 3600, c.times, c.opens, c.highs, c.lows, c.closes, c.volumes)
        pair = find_pair(offline_pairs(), "XBTUSD")
        backtest = backtest_venue(chart, pair, cash=Decimal("10000"), fee_rate=pair.taker_fee)
        backtest.at(100)
        return Venue(backtest, pair, pair.taker_fee, _refs(1))
    sim = request.getfixturevalue("sim")  # started only for the venues that need it
    kraken = kraken_venue(KrakenConfig(url=sim.url, tier="none", timeout=5), credentials=KrakenCredentials(KEY, SECRET), state_dir=tmp_path)
    request.addfinalizer(kraken.close)
    pair = kraken.pair_info("XBTUSD")
    next_ref = lambda: next(_SIM_REFS)  # noqa: E731
    if request.param == "kraken":
        return Venue(kraken, pair, pair.taker_fee, next_ref)
    if request.param == "live":
        return Venue(mode_venue("live", kraken, pair, LiveClock()), pair, pair.taker_fee, next_ref)
    paper = mode_venue("paper", kraken, pair, LiveClock(), fee_rate=pair.taker_fee, balances={pair.quote: Decimal("10000")})
    return Venue(paper, pair, pair.taker_fee, next_ref)


def test_pairs_are_found_by_any_usual_name_and_unknown_ones_refused(venue):
    for name in ("XBTUSD", "BTC/USD", "xbtusd", venue.pair.name):
        assert venue.exchange.pair_info(name) == venue.pair
    assert venue.pair.lot_decimals == 8 and venue.pair.ordermin == Decimal("0.0001")
    with pytest.raises(FatalExchangeError):
        venue.exchange.pair_info("DOGEUSD")


def test_prices_are_decimal_and_ordered(venue):
    ticker = venue.exchange.ticker("XBTUSD")
    assert isinstance(ticker.last, Decimal) and ticker.last > 0 and ticker.bid <= ticker.ask
    buy, sell = venue.exchange.market_price("XBTUSD", Side.BUY), venue.exchange.market_price("XBTUSD", Side.SELL)
    assert isinstance(buy, Decimal) and 0 < sell <= buy
    book = venue.exchange.order_book("XBTUSD", 10)
    assert book.bids and book.asks and book.bids[0].price <= book.asks[0].price
    assert [l.price for l in book.bids] == sorted((l.price for l in book.bids), reverse=True)
    assert [l.price for l in book.asks] == sorted(l.price for l in book.asks)


def _expect_fill(fill: Fill, order: OrderRequest, venue: Venue) -> None:
    assert (fill.userref, fill.side, fill.volume) == (order.userref, order.side, order.volume)
    assert fill.pair == venue.pair.name and fill.order_id
    assert fill.cost == (fill.price * fill.volume).quantize(Decimal("1e-5"))  # one book level: no averaging
    assert fill.fee == (fill.cost * venue.fee_rate).quantize(Decimal("1e-5"), rounding=ROUND_CEILING)


def test_a_market_round_trip_moves_balances_by_exactly_the_fills(venue):
    exchange, pair = venue.exchange, venue.pair
    before = exchange.balances()
    quote0, base0 = before.get(pair.quote, Decimal(0)), before.get(pair.base, Decimal(0))
    buy = OrderRequest(pair.name, Side.BUY, Decimal("0.01"), venue.next_ref())
    bought = exchange.place_market_order(buy)
    _expect_fill(bought, buy, venue)
    middle = exchange.balances()
    assert middle[pair.quote] == quote0 - bought.cost - bought.fee
    assert middle[pair.base] == base0 + Decimal("0.01")
    assert exchange.find_order(pair.name, buy.userref) == bought

    sell = OrderRequest(pair.name, Side.SELL, Decimal("0.01"), venue.next_ref())
    sold = exchange.place_market_order(sell)
    _expect_fill(sold, sell, venue)
    after = exchange.balances()
    assert after[pair.quote] == middle[pair.quote] + sold.cost - sold.fee
    assert after[pair.base] == base0
    assert exchange.find_order(pair.name, 999_999_999) is None


def test_orders_the_exchange_would_refuse_are_rejected_not_placed(venue):
    exchange, pair = venue.exchange, venue.pair
    tiny = OrderRequest(pair.name, Side.BUY, Decimal("0.00001"), venue.next_ref())  # below ordermin 0.0001
    with pytest.raises(OrderRejected):
        exchange.place_market_order(tiny)
    huge = OrderRequest(pair.name, Side.BUY, Decimal("1000"), venue.next_ref())  # more than the account holds
    with pytest.raises(OrderRejected):
        exchange.place_market_order(huge)
    naked = OrderRequest(pair.name, Side.SELL, Decimal("5"), venue.next_ref())  # selling what it does not hold
    with pytest.raises(OrderRejected):
        exchange.place_market_order(naked)
    for order in (tiny, huge, naked):
        assert exchange.find_order(pair.name, order.userref) is None


def test_order_requests_are_checked_before_any_exchange_sees_them():
    with pytest.raises(ValueError):
        OrderRequest("XXBTZUSD", Side.BUY, Decimal("0"), 1)
    with pytest.raises(ValueError):
        OrderRequest("XXBTZUSD", Side.BUY, Decimal("1"), 2**31)


def test_a_protected_order_executes_nothing_beyond_its_protection_price(venue):
    exchange, pair = venue.exchange, venue.pair
    before = exchange.balances()
    ask = exchange.order_book("XBTUSD", 1).asks[0].price
    order = OrderRequest(pair.name, Side.BUY, Decimal("0.01"), venue.next_ref(), limit=pair.protect_price(ask * Decimal("0.9"), "buy"))
    fill = exchange.place_market_order(order)
    assert (fill.userref, fill.volume, fill.cost, fill.fee) == (order.userref, 0, 0, 0)
    assert exchange.balances() == before
    found = exchange.find_order(pair.name, order.userref)
    assert found is not None and found.volume == 0
