"""The trader on the in-memory exchange: sizing, the budget, protection prices, partial fills, unknown outcomes,
holds, and never sending an order twice."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from candlebot.errors import AuthError, OrderArgumentError, OrderRejected, TemporaryExchangeError
from candlebot.events import DustLeft, OrderFailed, OrderSkipped, OrderUnfilled, PriceRejected, TradeClosed, TradeOpened
from candlebot.venue import BookLevel, OrderBook, Side
from tests.support.memory_exchange import LOST_REPLY
from tests.unit.desk import FEE, XBTUSD, Desk


def test_an_all_in_buy_is_sized_at_its_protection_price_and_fills_at_the_book(tmp_path):
    desk = Desk(tmp_path, "1000")

    trade = desk.trader.buy()

    order = desk.exchange.sent[0]
    assert order.limit == D("30150.0")  # 30000.0 moved 0.5% against the buyer
    cost = XBTUSD.cost(order.limit, order.volume)
    assert cost + XBTUSD.fee(cost, FEE) <= D("1000")  # what it could cost at worst fits the cash
    more = XBTUSD.cost(order.limit, order.volume + XBTUSD.lot_step)
    assert more + XBTUSD.fee(more, FEE) > D("1000")  # and one lot more would not: all in
    assert (trade.volume, trade.entry_price) == (order.volume, D("30000.0"))
    assert trade.open_fill.cost == XBTUSD.cost(D("30000.0"), order.volume)
    assert desk.ledger.cash == D("1000") - trade.open_fill.cost - trade.open_fill.fee
    assert desk.exchange.balances()[XBTUSD.quote] == desk.ledger.cash
    assert [type(e) for e in desk.events] == [TradeOpened] and desk.events[0].recovered is False
    assert desk.statuses() == ["filled"]


@pytest.mark.parametrize("asks", [
    [("30000.0", "0.001"), ("30100.0", "0.002"), ("30400.0", "10")],  # the walk reaches a worse level
    [("64999.9", "0.00002"), ("65000.0", "3")],  # tiny top level
    [("101.3", "10")],
])
def test_no_fill_ever_costs_more_than_the_cash(tmp_path, asks):
    desk = Desk(tmp_path, "777.77", max_slippage="0.02")
    desk.exchange.set_book(bids=[("100.0", "1")], asks=asks)

    trade = desk.trader.buy()

    assert trade is not None
    assert trade.open_fill.cost + trade.open_fill.fee <= D("777.77")
    assert desk.ledger.cash >= 0 and desk.ledger.cash == D("777.77") - trade.open_fill.cost - trade.open_fill.fee


def test_a_book_that_moved_up_after_sizing_fills_nothing_beyond_the_protection_price(tmp_path):
    desk = Desk(tmp_path, "1000", max_slippage="0.001")
    seen = OrderBook(XBTUSD.name, 0.0, (BookLevel(D("29990.0"), D(10)),), (BookLevel(D("30000.0"), D(10)),))
    desk.trader.books = lambda: seen  # the book the trader sized on; the exchange's has moved 1% since
    desk.exchange.set_book(bids=[("30290.0", "10")], asks=[("30300.0", "10")])

    assert desk.trader.buy() is None

    assert desk.exchange.sent[0].limit == D("30030.0")
    assert [type(e) for e in desk.events] == [OrderUnfilled]
    assert desk.ledger.cash == D("1000") and not desk.ledger.open_trades and desk.statuses() == ["failed"]
    assert desk.trader.paused is None  # over, not unknown: the next signal may trade


def test_a_sell_is_protected_below_the_best_bid_it_needs(tmp_path):
    desk = Desk(tmp_path, "10000")
    trade = desk.trader.buy(D("0.2"))
    desk.exchange.set_book(bids=[("29990.0", "0.1"), ("29980.0", "0.1"), ("29000.0", "5")], asks=[("30000.0", "1")])

    closed = desk.trader.close(trade)

    sell = desk.exchange.sent[1]
    assert sell.limit == D("29830.1")  # the walk reaches 29980.0 for 0.2; 0.5% below, rounded up
    assert closed.close_fill.volume == D("0.2") and closed.close_fill.price == D("29985.0")


def test_a_partly_filled_buy_opens_a_trade_of_what_executed(tmp_path):
    desk = Desk(tmp_path, "1000")
    desk.exchange.set_book(bids=[("29990.0", "1")], asks=[("30000.0", "0.01")])  # thinner than the order

    trade = desk.trader.buy()

    assert trade.volume == D("0.01") < desk.exchange.sent[0].volume
    assert desk.ledger.cash == D("1000") - D("300.00000") - D("0.78000")
    assert desk.store.orders()[0]["fill_volume"] == "0.01"
    assert desk.exchange.order_book("XBTUSD").asks == ()  # what was taken left the book


def test_a_partly_filled_sell_splits_the_trade_and_leaves_an_open_remainder(tmp_path):
    desk = Desk(tmp_path, "10000")
    trade = desk.trader.buy(D("0.05"))
    desk.exchange.set_book(bids=[("29990.0", "0.02")], asks=[("30000.0", "1")])

    closed = desk.trader.close(trade)

    assert closed.trade_id == trade.trade_id and closed.volume == D("0.02") and not closed.is_open
    [remainder] = desk.ledger.open_trades
    assert remainder.volume == D("0.03") and remainder.trade_id != trade.trade_id
    assert closed.open_fill.cost + remainder.open_fill.cost == trade.open_fill.cost
    assert [type(e) for e in desk.events] == [TradeOpened, TradeClosed]
    desk.exchange.set_book(bids=[("29990.0", "1")], asks=[("30000.0", "1")])
    assert desk.trader.close(remainder).volume == D("0.03")  # the strategy sells the rest later


def test_a_remainder_below_the_order_minimum_is_dust_reported_once(tmp_path):
    desk = Desk(tmp_path, "10000")
    trade = desk.trader.buy(D("0.01"))
    desk.exchange.set_book(bids=[("29990.0", "0.00995")], asks=[("30000.0", "1")])

    desk.trader.close(trade)

    assert not desk.ledger.open_trades and [t.volume for t in desk.ledger.dust] == [D("0.00005")]
    assert len(desk.of(DustLeft)) == 1


def test_an_unknown_outcome_pauses_every_order_until_it_is_settled(tmp_path):
    desk = Desk(tmp_path, "1000", max_open=2)
    desk.exchange.script_orders(LOST_REPLY)

    assert desk.trader.buy() is None
    assert desk.of(OrderFailed)[0].error == "OrderOutcomeUnknown"
    assert [p.order.userref for p in desk.trader.unsettled] == [1] and desk.statuses() == ["intent"]
    assert desk.trader.buy() is None
    assert "waiting for the outcome of order(s) 1" in desk.of(OrderSkipped)[-1].reason
    assert len(desk.exchange.sent) == 1  # the second signal sent nothing


def test_an_unexpected_error_while_sending_is_an_unknown_outcome_too(tmp_path):
    desk = Desk(tmp_path, "1000")
    desk.exchange.script_orders(ConnectionResetError("the socket went away mid-order"))

    assert desk.trader.buy() is None
    assert desk.trader.paused and desk.of(OrderFailed)[0].error == "OrderOutcomeUnknown"


def test_a_refused_order_is_failed_and_the_trader_goes_on(tmp_path):
    desk = Desk(tmp_path, "1000")
    desk.exchange.script_orders(OrderRejected("EOrder:Insufficient funds"))

    assert desk.trader.buy() is None
    assert desk.statuses() == ["failed"] and desk.trader.paused is None
    assert desk.trader.buy() is not None and len(desk.exchange.sent) == 2


def test_a_book_that_cannot_be_read_sends_nothing_and_is_no_failed_order(tmp_path):
    """Reported as a price that could not be had, not as an order that failed (review: status said "buy order failed
    (volume 0, userref 0)", and the stop line, Slack and StatsD counted an order that never left)."""
    desk = Desk(tmp_path, "1000")

    def unreadable() -> OrderBook:
        raise TemporaryExchangeError("Kraken Depth: no reply")

    desk.trader.books = unreadable

    assert desk.trader.buy() is None and desk.exchange.sent == []
    assert desk.of(OrderFailed) == []
    [rejected] = desk.of(PriceRejected)
    assert (rejected.source, rejected.reason) == (
        "book", "buy not sent: the order book could not be read: TemporaryExchangeError: Kraken Depth: no reply")


def test_errors_retrying_cannot_fix_propagate(tmp_path):
    desk = Desk(tmp_path, "1000")
    desk.exchange.script_orders(AuthError("EAPI:Invalid key"))
    with pytest.raises(AuthError):
        desk.trader.buy()


def test_a_hold_stops_every_order_closes_included_until_lifted(tmp_path):
    """Issue 17: a close allowed on hold sold another bot's coins; a held bot sends nothing at all."""
    desk = Desk(tmp_path, "10000", max_open=3)
    trade = desk.trader.buy(D("0.01"))
    desk.trader.hold("audit", "on hold: the books hold more than the account")

    assert desk.trader.buy() is None and "the books hold more" in desk.of(OrderSkipped)[-1].reason
    assert desk.trader.close(trade) is None
    skipped = desk.of(OrderSkipped)[-1]
    assert skipped.side is Side.SELL and "the books hold more" in skipped.reason
    desk.trader.lift("audit")
    assert desk.trader.close(trade) is not None and desk.trader.buy() is not None
    assert [o.side for o in desk.exchange.sent] == [Side.BUY, Side.SELL, Side.BUY]


def test_a_stale_or_foreign_trade_is_the_strategys_mistake_and_nothing_is_sent(tmp_path):
    desk = Desk(tmp_path, "10000", max_open=2)
    first = desk.trader.buy(D("0.01"))
    desk.trader.close(first)

    with pytest.raises(OrderArgumentError, match="is not open in the books"):
        desk.trader.close(first)  # closed already: frozen, so it still reads as open
    with pytest.raises(OrderArgumentError):
        desk.trader.buy(0.01)  # a float: the books are Decimal
    with pytest.raises(OrderArgumentError):
        desk.trader.buy(D("NaN"))
    assert len(desk.exchange.sent) == 2

