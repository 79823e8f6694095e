"""``candlebot replay``'s comparison: each divergence named by what the bot's record says happened."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from candlebot.chart import Chart
from candlebot.data.botreplay import BotRecord, compare
from candlebot.venue import Fill, Side

P = 300
T0 = 1_677_000_000 // P * P


def record(orders=(), events=(), missing=()) -> BotRecord:
    times = np.array([T0 + P * k for k in range(20) if k not in missing], dtype=np.int64)
    prices = np.full(len(times), 100.0)
    chart = Chart.from_arrays("XBTUSD", P, times, prices, prices, prices, prices, prices)
    return BotRecord(name="b", pair="XBTUSD", mode="paper", strategy="s", strategy_spec=None, params=(), period=P,
                     fee_rate=None, max_slippage=None, stake=None, start_cash=D(1000), chart=chart, first_start=T0,
                     orders=tuple(orders), events=tuple(events))


def order(k: int, side: str = "buy", status: str = "filled", volume: str = "1", filled: str = "1") -> dict:
    return {"userref": k, "side": side, "status": status, "created": T0 + P * k + 3, "price": "100.1",
            "volume": volume, "fill_volume": filled, "cost": "100.1", "fee": "0.26", "error": None}


def fill(k: int, side: str = "buy") -> Fill:
    return Fill("BT", k, "XBTUSD", Side(side), float(T0 + P * k), D("100.0"), D(1), D("100.0"), D("0.26"))


def test_the_same_decision_agrees_and_costs_the_difference():
    [c] = compare(record([order(5)]), [fill(5)])
    assert c.agrees and c.price_difference == D("0.1") and c.volume_difference == 0


def test_price_and_volume_differences_are_apart():
    """One "cost diff" mixed them: a dearer buy of less volume read negative, one at the same price positive."""
    dearer_smaller = {**order(5), "price": "100.2", "fill_volume": "0.5", "volume": "0.5", "cost": "50.1", "fee": "0.13"}
    same_price_more = {**order(6), "price": "100.0", "fill_volume": "1.5", "volume": "1.5", "cost": "150.0", "fee": "0.39"}
    first, second = compare(record([dearer_smaller, same_price_more]), [fill(5), fill(6)])
    assert (first.price_difference, first.volume_difference) == (D("0.2"), D("-0.5"))  # paid 0.2 more per unit
    assert (second.price_difference, second.volume_difference) == (D("0"), D("0.5"))  # the backtest's own price
    [sell] = compare(record([{**order(5, side="sell"), "price": "99.9"}]), [fill(5, side="sell")])
    assert sell.price_difference == D("0.1")  # got 0.1 less per unit: + is worse for the bot on either side


@pytest.mark.parametrize("events, orders, missing, cause", [
    ([(T0 + 5 * P + 4, "unfilled", "buy", 7, "nothing executed within 100.5")], [], (), "unfilled"),
    ([], [{**order(5, status="failed"), "error": "OrderRejected: EOrder:Insufficient funds"}], (),
     "refused: OrderRejected: EOrder:Insufficient funds"),  # the exchange said no: was called unfilled
    ([(T0 + 5 * P + 4, "failed", "buy", 7, "volume 1: OrderRejected: EOrder:Insufficient funds")], [], (),
     "refused: volume 1: OrderRejected: EOrder:Insufficient funds"),
    ([(T0 + 5 * P + 4, "rejected", None, None, "ask 1.0 is 99% from the last trade")], [], (), "price guard"),
    ([(T0 + 5 * P + 4, "skipped", "buy", None, "audit hold: the books differ from the account")], [], (), "audit hold"),
    ([(T0 + 5 * P + 4, "error", None, None, "strategy: s failed on the candle of ...")], [], (), "strategy error"),
    ([], [], (4,), "outage"),
    ([], [], (), "different candle"),
])
def test_a_decision_only_the_backtest_made_is_named_by_the_bots_record(events, orders, missing, cause):
    [c] = compare(record(orders, events, missing), [fill(5)])
    assert (c.bot, c.cause) == (None, cause)


def test_a_partial_fill_diverges_as_partial():
    [c] = compare(record([order(5, volume="2", filled="1")]), [fill(5)])
    assert c.cause == "partial"


def test_a_decision_only_the_bot_made_is_a_divergence():
    [c] = compare(record([order(6, side="sell")]), [])
    assert c.backtest is None and c.cause == "different candle"


def test_a_sell_after_a_refused_buy_is_named_no_position():
    """The bot's buy was refused, so it had nothing to sell when the backtest sold: that sell was labelled
    "different candle", which sent the user looking at candles."""
    refused = {**order(5, status="failed"), "error": "OrderRejected: EOrder:Insufficient funds"}
    buy, sell = compare(record([refused]), [fill(5), fill(9, side="sell")])
    assert buy.cause == "refused: OrderRejected: EOrder:Insufficient funds"
    assert (sell.bot, sell.cause) == (None, "no position: the bot did not buy at 2023-02-21 17:45:00 "
                                            "(refused: OrderRejected: EOrder:Insufficient funds)")


def test_a_sell_after_a_buy_only_the_bot_made_says_the_backtest_had_no_position():
    buy, sell = compare(record([order(5), order(9, side="sell")]), [])
    assert (buy.cause, sell.backtest, sell.cause) == (
        "different candle", None, "no position: the backtest did not buy at 2023-02-21 17:45:00 (different candle)")


def test_a_sell_after_agreeing_trades_keeps_its_own_cause():
    _, _, sell = compare(record([order(5), order(9, side="sell")]), [fill(5), fill(9, side="sell"), fill(12, side="sell")])
    assert sell.cause == "different candle"
