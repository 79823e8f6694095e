"""The original bot's ledger line, with its P/L numbers labelled and open trades marked at a real price."""

from __future__ import annotations

from decimal import Decimal as D

from candlebot.venue import Fill, Side
from candlebot.output.lines import ledger_line
from candlebot.trade import BotTrade

BUY = Fill("OB", 1, "XBTUSD", Side.BUY, 1_700_000_000, D("100.0"), D("2"), D("200.00000"), D("0.52000"))
SELL = Fill("OS", 2, "XBTUSD", Side.SELL, 1_700_003_600, D("110.0"), D("2"), D("220.00000"), D("0.57200"))


def test_an_open_trade_is_marked_at_the_given_price_with_its_unrealized_net_pl():
    line = ledger_line(BotTrade(1, BUY), D("105.0"))
    assert "OPEN Mark: 105.0 unrealized net P/L: $9.48000 | price move: $5.0 (5.000%)" in line  # 2 x 105 - 200 - 0.52


def test_without_a_price_an_open_trade_is_not_marked_at_its_entry():
    line = ledger_line(BotTrade(1, BUY), None)
    assert "OPEN Mark: unknown" in line and "Mark: 100.0" not in line


def test_a_closed_trade_shows_its_net_pl_then_the_price_move():
    line = ledger_line(BotTrade(1, BUY).closed_by(SELL), D("120.0"))
    assert "CLOSED Exit Price: 110.0 net P/L: $18.90800 | price move: $10.0 (10.000%)" in line  # 220 - 0.572 - 200.52
