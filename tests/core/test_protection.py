"""Protection prices, sizing at them, price sanity, and partial fills in the books (fast, no network)."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from decimal import Decimal as D

import pytest

from candlebot.errors import BooksInvariantError
from candlebot.venue import BookLevel, Fill, OrderBook, OrderRequest, Side, Ticker
from candlebot.trading.ledger import Ledger
from candlebot.trading.pricecheck import PriceGuard
from candlebot.trading.protection import Protection
from candlebot.live.store import BotStore
from candlebot.exchanges.fill_model import fill_market_order
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs

XBTUSD = find_pair(offline_pairs(), "XBTUSD")  # price 1, lot 8, cost 5 decimals; ordermin 0.0001
ASKS = (BookLevel(D("30000.0"), D("0.1")), BookLevel(D("30000.5"), D("0.2")), BookLevel(D("30002.0"), D("5")))
BIDS = (BookLevel(D("29999.9"), D("0.1")), BookLevel(D("29998.0"), D("0.2")), BookLevel(D("29990.0"), D("5")))


def fill(side: Side, volume: str, cost: str, fee: str, price: str = "30000.0", ref: int = 1) -> Fill:
    return Fill(f"O{ref}", ref, XBTUSD.name, side, 0.0, D(price), D(volume), D(cost), D(fee))


@pytest.mark.parametrize("tick, decimals", [(D("0.5"), 1), (D("0.25"), 2), (D("5"), 0), (D("0.1"), 1)])
def test_protection_prices_are_on_the_tick_rounded_in_the_safe_direction(tick, decimals):
    """A tick coarser than 10^-pair_decimals (0.5 at 1 decimal): rounding to the decimals put the price off the tick."""
    pair = replace(XBTUSD, tick_size=tick, pair_decimals=decimals)
    rng = random.Random(18)
    for _ in range(500):
        price = D(rng.randrange(2_000_000, 4_000_000)) / 100 + D(rng.random()).quantize(D("0.0001"))
        buy, sell = pair.protect_price(price, "buy"), pair.protect_price(price, "sell")
        assert buy % tick == 0 and sell % tick == 0, (price, buy, sell)
        assert price - tick < buy <= price <= sell < price + tick  # never dearer for a buy, never cheaper for a sell
        assert -buy.as_tuple().exponent <= decimals and -sell.as_tuple().exponent <= decimals


def test_the_protection_price_is_the_worst_level_for_the_volume_plus_the_slippage_rounded_safely():
    protection = Protection(XBTUSD, D("0.005"))

    assert protection.price(ASKS, D("0.05"), Side.BUY) == D("30150.0")             # floor(30000 * 1.005)
    assert protection.price(ASKS, D("0.25"), Side.BUY) == D("30150.5")             # floor(30000.5 * 1.005 = 30150.5025)
    assert protection.price(ASKS, D("100"), Side.BUY) == D("30152.0")              # thinner than that: the deepest level
    assert protection.price(BIDS, D("0.25"), Side.SELL) == D("29848.1")            # ceil(29998 * 0.995 = 29848.01)
    assert Protection(XBTUSD, D(0)).price(ASKS, D("0.25"), Side.BUY) == D("30000.5")


def test_sizing_at_the_protection_price_always_fits_the_commitment():
    rng = random.Random(8)
    ledger = Ledger(XBTUSD, D("1000000"))
    for _ in range(300):
        price = D(rng.randint(200_000, 400_000)) / 10
        levels, level = [], price
        for _ in range(rng.randint(1, 30)):
            levels.append(BookLevel(level, D(rng.randint(1, 10**8)) / 10**8))
            level += D(rng.randint(1, 30)) / 10
        commit, fee = D(rng.randint(100, 10**7)) / 100, D(rng.choice(("0", "0.0016", "0.0026", "0.004")))
        protection = Protection(XBTUSD, D(rng.choice(("0", "0.001", "0.005", "0.02"))))

        volume, limit = protection.buy(levels, commit, fee, ledger.volume_for)

        bound = XBTUSD.cost(limit, volume)
        assert bound + XBTUSD.fee(bound, fee) <= commit
        executed = fill_market_order(OrderRequest(XBTUSD.name, Side.BUY, volume, 1, limit), levels, XBTUSD, fee,
                                     order_id="x", time=0.0) if volume > 0 else None
        if executed is not None:  # whatever executes, the bot can pay for it
            assert executed.cost + executed.fee <= commit and executed.volume <= volume


def test_the_fill_model_executes_what_the_book_offers_within_the_limit():
    order = OrderRequest(XBTUSD.name, Side.BUY, D("1"), 7, D("30000.5"))

    partial = fill_market_order(order, ASKS, XBTUSD, D("0.0026"), order_id="x", time=0.0)
    nothing = fill_market_order(OrderRequest(XBTUSD.name, Side.SELL, D("1"), 8, D("30000.0")), BIDS, XBTUSD, D("0.0026"),
                                order_id="y", time=0.0)

    assert partial.volume == D("0.3") and partial.cost == D("9000.10000")        # 0.1 @ 30000 + 0.2 @ 30000.5
    assert nothing.volume == nothing.cost == nothing.fee == 0


@pytest.mark.parametrize("asks, bids, references, problem", [
    (ASKS, BIDS, (), None),
    ((BookLevel(D("1.0"), D("1")),), BIDS, (), "crossed book: ask 1.0 <= bid 29999.9"),
    (ASKS, (BookLevel(D("30000.0"), D("1")),), (), "crossed book: ask 30000.0 <= bid 30000.0"),
    (ASKS, (BookLevel(D("0"), D("1")),), (), "impossible book: best bid 0"),
    (ASKS, (BookLevel(D("NaN"), D("1")),), (), "impossible book: best bid NaN"),
    ((), BIDS, (), "empty order book"),
    (ASKS, BIDS, (D("28000"),), "book bid 29999.9 is more than 5% from the last trade/close 28000"),
    (ASKS, BIDS, (D("31000"), D("31600")), "book bid 29999.9 is more than 5% from the last trade/close 31600"),
])
def test_books_that_must_not_be_traded_on(asks, bids, references, problem):
    guard = PriceGuard(D("0.05"), lambda: references)

    assert guard.book_problem(OrderBook(XBTUSD.name, 0.0, bids, asks)) == problem


@pytest.mark.parametrize("last, bid, ask, problem", [
    ("30000", "29999.9", "30000.0", None),
    ("30000", "30000.0", "1.0", "crossed ticker: ask 1.0 <= bid 30000.0"),
    ("-5", "29999.9", "30000.0", "impossible ticker: last -5"),
    ("30000", "NaN", "30000.0", "impossible ticker: bid NaN"),
    ("25000", "29999.9", "30000.0", "ticker bid 29999.9 is more than 5% from the last trade 25000"),
])
def test_tickers_that_must_not_reach_the_chart(last, bid, ask, problem):
    ticker = Ticker(XBTUSD.name, 0.0, D(last), D(bid), D(ask))

    assert PriceGuard(D("0.05")).ticker_problem(ticker) == problem


def test_a_partial_sell_splits_the_trade_to_the_last_decimal_and_the_store_reloads_it(tmp_path):
    ledger = Ledger(XBTUSD, D("1000"))
    trade = ledger.book_open(fill(Side.BUY, "0.03", "900.00000", "2.34000"))

    closing = ledger.book_close(trade, fill(Side.SELL, "0.01", "303.00000", "0.78780", "30300.0", ref=2))

    part, rest = closing.closed, closing.remainder
    assert rest is not None and ledger.open_trades == [rest] and rest.trade_id == 2
    assert (part.volume, part.open_fill.cost, part.open_fill.fee) == (D("0.01"), D("300.00000"), D("0.78000"))
    assert (rest.volume, rest.open_fill.cost, rest.open_fill.fee) == (D("0.02"), D("600.00000"), D("1.56000"))
    assert part.pnl == D("303") - D("0.7878") - D("300") - D("0.78")
    assert ledger.cash == D("1000") - D("902.34") + D("303") - D("0.7878")
    assert ledger.position == D("0.02") and ledger.fees == D("2.34") + D("0.7878")

    store = BotStore(tmp_path / "bot.sqlite", now=time.time)
    store.bind(pair=XBTUSD.name, start_cash=D("1000"))
    buy = OrderRequest(XBTUSD.name, Side.BUY, D("0.03"), 1, D("30100"))
    sell = OrderRequest(XBTUSD.name, Side.SELL, D("0.03"), 2, D("29900"))
    store.intent(buy, None)
    store.filled(buy, trade.open_fill, trade, D("97.66"))
    store.intent(sell, trade.trade_id)
    store.filled(sell, part.close_fill, part, ledger.cash, rest)
    reloaded = BotStore(tmp_path / "bot.sqlite", now=time.time).load()
    assert reloaded.trades == [part, rest] and reloaded.cash == ledger.cash


def test_a_remainder_below_the_order_minimum_is_dust_kept_in_the_books_but_not_offered_again():
    ledger = Ledger(XBTUSD, D("1000"))
    trade = ledger.book_open(fill(Side.BUY, "0.01", "300.00000", "0.78000"))

    closing = ledger.book_close(trade, fill(Side.SELL, "0.00995", "298.50000", "0.77610", ref=2))

    assert closing.remainder is not None and closing.remainder.volume == D("0.00005")  # below ordermin 0.0001
    assert ledger.open_trades == [] and ledger.dust == [closing.remainder]
    assert ledger.position == D("0.00005")
    restored = Ledger(XBTUSD, D("1000"))
    restored.restore(ledger.trades, ledger.cash)
    assert restored.dust == ledger.dust and restored.open_trades == []


def test_cash_never_goes_below_zero_nor_does_a_sell_close_more_than_its_trade():
    ledger = Ledger(XBTUSD, D("100"))
    with pytest.raises(BooksInvariantError, match="would leave cash at -"):
        ledger.book_open(fill(Side.BUY, "0.01", "300.00000", "0.78000"))
    assert ledger.cash == D("100") and ledger.open_trades == []
    trade = ledger.book_open(fill(Side.BUY, "0.003", "90.00000", "0.23400"))
    with pytest.raises(BooksInvariantError, match="cannot close"):
        ledger.book_close(trade, fill(Side.SELL, "0.004", "120.00000", "0.31200", ref=2))


class CountingMarket:
    """An in-memory market that counts Depth reads (a fast fake for the feed's own logic)."""

    def __init__(self) -> None:
        self.reads = 0

    def order_book(self, pair: str, depth: int = 100) -> OrderBook:
        self.reads += 1
        return OrderBook(pair, float(self.reads), BIDS, ASKS)


def test_a_prefetched_book_serves_one_order_while_fresh():
    from candlebot.live.bookfeed import BookFeed
    from candlebot.clock import SimClock

    market, clock = CountingMarket(), SimClock(0.0)
    feed = BookFeed(market, XBTUSD.name, clock=clock, max_age=1.0)  # type: ignore[arg-type]

    feed.prefetch()
    first = feed()
    second = feed()
    feed.prefetch()
    clock.sleep(1.5)
    stale = feed()

    assert (first.time, second.time, stale.time) == (1.0, 2.0, 4.0) and market.reads == 4


def test_a_fill_at_one_level_is_priced_at_the_pairs_decimals_as_kraken_writes_depth():
    """Kraken's Depth pads XBTUSD prices to 5 decimals ("31086.70000"); a paper fill was booked and logged so."""
    padded = (BookLevel(D("31086.70000"), D("1")),)
    fill = fill_market_order(OrderRequest(XBTUSD.name, Side.BUY, D("0.5"), 9, D("31100.0")), padded, XBTUSD, D("0.0026"),
                             order_id="x", time=0.0)
    assert str(fill.price) == "31086.7"
    assert fill.cost == D("15543.35000")
