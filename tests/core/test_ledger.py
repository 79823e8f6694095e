"""Ledger arithmetic checked by hand: sizing, quantization, fees, P/L, minimums, the open-trade cap."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest

from candlebot.assembly import BacktestSettings, build_backtest, resolve_strategy
from candlebot.chart import Chart
from candlebot.events import EventBus, OrderSkipped, PriceRejected, TradeClosed, TradeOpened
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.trading.ledger import Ledger

XBTUSD = find_pair(offline_pairs(), "XBTUSD")  # lot 8, cost 5, price 1 decimals; ordermin 0.0001, costmin 0.5


class Desk:
    """A backtest's trader, driven by hand, whose candle i+1 opens at ``opens[i+1]``; exact all-in sizing
    (--max-slippage 0) unless ``max_slippage`` is given."""

    def __init__(self, opens, cash, max_open=1, stake=None, fee="0.0026", slippage_bps="0", max_slippage="0"):
        n = len(opens)
        self.chart = Chart("XBTUSD", 60)
        for k, price in enumerate(opens):
            self.chart.update(price, 1.0, 60 * k)
        self.chart.close_forming()
        strategy = resolve_strategy("sma_cross")
        settings = BacktestSettings(data="by hand", pair=XBTUSD, strategy=strategy,
                                    params=strategy.Params(num_simultaneous_trades=max_open), fee_rate=D(fee), cash=D(cash),
                                    stake=None if stake is None else D(stake), slippage_bps=D(slippage_bps),
                                    max_slippage=D(max_slippage))
        self.events = []
        bus = EventBus()
        bus.subscribe(self.events.append)
        backtest = build_backtest(settings, self.chart, bus)
        self.exchange, self.ledger, self.trader = backtest.exchange, backtest.ledger, backtest.trader
        assert len(self.chart) == n

    def at(self, i):
        self.exchange.at(i)
        return self.trader


def test_a_round_trip_by_hand():
    desk = Desk([19990.0, 20000.0, 20500.0, 21000.0], cash="1000")

    trade = desk.at(0).buy()  # decided on candle 0's close, filled at candle 1's open: 20000.0
    # volume = floor(1000 / (20000 * 1.0026), 8) = 0.04987033
    # cost = 20000 * 0.04987033 = 997.40660; fee = ceil(997.4066 * 0.0026, 5) = ceil(2.59325716) = 2.59326
    assert (trade.volume, trade.entry_price, trade.open_fill.cost, trade.open_fill.fee) == (D("0.04987033"), D("20000.0"), D("997.40660"), D("2.59326"))
    assert trade.open_fill.time == 60
    assert desk.ledger.cash == D("0.00014")

    closed = desk.at(2).close(trade)  # filled at candle 3's open: 21000.0
    # cost = 21000 * 0.04987033 = 1047.27693; fee = ceil(2.722920018, 5) = 2.72293
    assert (closed.exit_price, closed.close_fill.cost, closed.close_fill.fee) == (D("21000.0"), D("1047.27693"), D("2.72293"))
    # P/L = (1047.27693 - 2.72293) - (997.40660 + 2.59326) = 44.55414
    assert closed.pnl == D("44.55414")
    assert closed.gross_pnl == D("49.87033")
    assert closed.fees == D("5.31619")
    assert desk.ledger.cash == D("1044.55414")
    assert desk.exchange.balances() == {"ZUSD": D("1044.55414"), "XXBT": D("0E-8")}
    assert [type(e) for e in desk.events] == [TradeOpened, TradeClosed]


def test_every_booked_amount_is_decimal_at_the_pairs_decimals():
    desk = Desk([30000.0, 30123.45, 29876.55], cash="777.77")
    trade = desk.at(0).buy()
    closed = desk.at(1).close(trade)
    for fill in (closed.open_fill, closed.close_fill):
        assert fill.volume.as_tuple().exponent == -8
        assert fill.cost.as_tuple().exponent == -5 and fill.fee.as_tuple().exponent == -5
        assert all(isinstance(v, D) for v in (fill.price, fill.volume, fill.cost, fill.fee))
    # 30123.45 has two decimals; XBTUSD prices have one: a buy rounds up, a sell down (against the trader)
    assert closed.entry_price == D("30123.5") and closed.exit_price == D("29876.5")


def test_several_simultaneous_trades_split_the_cash_over_free_slots():
    desk = Desk([100.0] * 6, cash="3000", max_open=3)
    # 1st: commit 3000/3 = 1000 -> floor(1000 / 100.26) = 9.97406742; cost 997.40674 + fee ceil(2.5932575) 2.59326 = 1000.00000
    first = desk.at(0).buy()
    assert (first.volume, first.open_fill.cost, first.open_fill.fee) == (D("9.97406742"), D("997.40674"), D("2.59326"))
    assert desk.ledger.cash == D("2000.00000")
    # 2nd: commit 2000/2 = 1000 again; 3rd: 1000/1
    second, third = desk.at(1).buy(), desk.at(2).buy()
    assert second.volume == third.volume == D("9.97406742")
    assert desk.ledger.cash == D("0.00000")
    assert desk.at(3).buy() is None  # the cap of 3
    assert isinstance(desk.events[-1], OrderSkipped) and "num_simultaneous_trades=3" in desk.events[-1].reason
    desk.at(3).close(second)  # a slot and its cash come back: close at 100.0 returns 997.40674 - 2.59326 = 994.81348
    assert desk.ledger.cash == D("994.81348")
    fourth = desk.at(4).buy()  # commits all of it: one free slot
    assert fourth.volume == D("9.92233672")  # floor(994.81348 / 100.26, 8)


def test_a_fixed_stake_commits_that_amount():
    desk = Desk([200.0] * 3, cash="1000", stake="250", max_open=2)
    trade = desk.at(0).buy()
    assert trade.volume == D("1.24675842")  # floor(250 / (200 * 1.0026), 8)
    assert desk.ledger.cash == D("1000") - D("249.35168") - D("0.64832")
    broke = Desk([200.0] * 3, cash="100", stake="250")
    assert broke.at(0).buy() is None
    assert "exceeds cash" in broke.events[-1].reason


def test_orders_below_ordermin_or_costmin_are_skipped_not_sent():
    tiny = Desk([20000.0] * 3, cash="1")  # 1 / 20052 = 0.00004987 < ordermin 0.0001
    assert tiny.at(0).buy() is None
    assert "below ordermin" in tiny.events[-1].reason
    cheap = Desk([1000.0] * 3, cash="0.3")  # 0.00029922 XBT >= ordermin, but costs 0.299 < costmin 0.5
    assert cheap.at(0).buy() is None
    assert "below costmin" in cheap.events[-1].reason
    assert tiny.exchange.find_order("XBTUSD", 1) is None and cheap.exchange.find_order("XBTUSD", 1) is None
    assert tiny.ledger.cash == D("1") and not tiny.ledger.open_trades


def test_rounding_never_spends_more_than_the_commitment():
    """floor(commit / (price*(1+fee))) can leave cost+fee one digit over after rounding: one lot less then."""
    for price in (7225.4, 43112.7, 51999.9, 26781.3):
        for cash in ("7225.45294", "8983.01079", "1234.56789", "99.99"):
            desk = Desk([price] * 3, cash=cash)
            trade = desk.at(0).buy()
            assert trade.open_fill.cost + trade.open_fill.fee <= D(cash)
            bigger = trade.volume + XBTUSD.lot_step  # and not a lot less than it could be
            cost = XBTUSD.cost(trade.entry_price, bigger)
            assert cost + XBTUSD.fee(cost, D("0.0026")) > D(cash)


def test_sizing_a_cheap_coin_takes_few_steps():
    """Many lot steps can separate the first guess from a volume that fits: they are taken at once."""
    ledger = Ledger(XBTUSD, D("100"))
    started = time.perf_counter()
    volume = ledger.volume_for(D("99.99999"), D("0.0012"), D("0.0026"))
    assert time.perf_counter() - started < 0.05
    cost = XBTUSD.cost(D("0.0012"), volume)
    spent = cost + XBTUSD.fee(cost, D("0.0026"))
    assert D("99.99999") - D("0.00003") < spent <= D("99.99999")  # within a few cost steps of the commitment


def test_slippage_moves_fills_against_the_trader():
    desk = Desk([100.0, 100.0, 100.0], cash="1000", slippage_bps="25")
    trade = desk.at(0).buy()
    assert trade.entry_price == D("100.3")  # 100 * 1.0025 = 100.25, rounded up to one decimal
    closed = desk.at(1).close(trade)
    assert closed.exit_price == D("99.7")  # 100 * 0.9975 = 99.75, rounded down


def test_a_decision_on_the_last_candle_cannot_fill():
    desk = Desk([100.0, 101.0], cash="1000")
    assert desk.at(1).buy() is None
    rejected = desk.events[-1]  # no later candle to price it at: nothing is sent, no order fails
    assert isinstance(rejected, PriceRejected) and rejected.source == "book" and "end of data" in rejected.reason


def test_open_trades_are_marked_at_the_close_in_equity():
    desk = Desk([100.0, 100.0, 100.0], cash="1000")
    trade = desk.at(0).buy()
    assert desk.ledger.cash == D("0.00000")
    assert desk.ledger.equity(D("110")) == D("1097.14742")  # 9.97406742 * 110 = 1097.1474162
    with pytest.raises(ValueError):
        Ledger(XBTUSD, D("1000")).book_close(trade, trade.open_fill)  # not a trade of this ledger


def test_the_default_protection_sizes_at_the_open_plus_half_a_percent_and_fills_at_the_open():
    desk = Desk([19990.0, 20000.0, 20500.0], cash="1000", max_slippage="0.005")

    trade = desk.at(0).buy()

    # protection = floor(20000 * 1.005, 1 decimal) = 20100.0; volume = floor(1000 / (20100 * 1.0026), 8) = 0.04962222
    # filled at the open: cost = 20000 * 0.04962222 = 992.44440; fee = ceil(2.58035544, 5) = 2.58036
    assert (trade.volume, trade.entry_price, trade.open_fill.cost, trade.open_fill.fee) == (D("0.04962222"), D("20000.0"), D("992.44440"), D("2.58036"))
    assert desk.ledger.cash == D("1000") - D("992.44440") - D("2.58036")


def test_a_stale_reference_to_a_closed_trade_sends_no_second_sell():
    """A strategy holding the trade object it already closed must not sell its volume again (from another trade's coins)."""
    desk = Desk([100.0] * 5, cash="1000", max_open=2)
    first, second = desk.at(0).buy(), desk.at(0).buy()
    assert desk.at(1).close(first) is not None
    held = desk.exchange.balances()["XXBT"]
    with pytest.raises(ValueError, match="not open"):
        desk.at(2).close(first)  # the same object again: frozen, so it still reads as open
    assert desk.exchange.balances()["XXBT"] == held == second.volume
    assert desk.exchange.find_order("XBTUSD", 4) is None  # userrefs 1-3 were the orders above: no fourth
    assert desk.ledger.open_trades == [second]
