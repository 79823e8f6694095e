"""Output a person reads: no ``None`` in a line, plurals right, pairs by the name the user wrote, limits in words, and a
summary that says why nothing traded."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from candlebot.candle import Candle
from candlebot.cli import main
from candlebot.identity import BotIdentity
from candlebot.live.store import BotStore
from candlebot.output.botreport import limit_words
from candlebot.output.lines import fields_line, plural, ticker_line


def test_the_per_poll_line_shows_the_forming_candle_without_none():
    forming = Candle(1_700_000_000, 7915.5, 7930.0, 7910.0, 7921.0, 1.0)
    line = ticker_line(forming, 7921.0)
    assert line == "Open: 7915.5 High: 7930.0 Low: 7910.0 Current: 7921.0 (candle forming)"
    assert ticker_line(None, 7921.0) == "Current: 7921.0 (no candle yet)"
    assert ticker_line(forming, 7921.0, closed=True) == "Open: 7915.5 Close: 7921.0 High: 7930.0 Low: 7910.0 Current: 7921.0"


def test_plurals_and_fields_without_a_value():
    assert (plural(1, "trade"), plural(0, "trade"), plural(1200, "candle")) == ("1 trade", "0 trades", "1,200 candles")
    assert fields_line({"bot": "a", "audit_hold": None, "pair": "XBTUSD", "note": "", "unsettled_orders": []}) == \
        "bot=a pair=XBTUSD unsettled_orders=[]"


def test_limits_in_plain_words_a_sell_limit_is_the_least_it_accepts():
    assert limit_words("buy", "0.01", "30150.0") == "buy 0.01 at 30150.0 or less"
    assert limit_words("sell", "0.01", "29850.0") == "sell 0.01 at 29850.0 or more"


def test_the_summary_counts_orders_skipped_below_the_minimum_and_strategy_errors_next_to_trades(capsys):
    argv = ["backtest", "--data", "demo", "-p", "60", "--strategy", "sma_cross", "--stake", "1"]  # $1: below Kraken's minimum
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    trades = next(k for k, line in enumerate(lines) if line.split()[0] == "trades")
    assert lines[trades].split()[1] == "0"
    skipped = lines[trades + 1].split(None, 2)
    assert skipped[:2] == ["not", "traded"] and skipped[2].endswith("0 errors in the strategy")
    count = int(skipped[2].split()[0])
    assert count > 0 and skipped[2] == f"{count} orders skipped ({count} below Kraken's order minimum), 0 errors in the strategy"
    assert main([*argv, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["trades"] == 0 and summary["orders_skipped"] == summary["orders_below_minimum"] == count


def test_the_ledger_names_the_pair_as_the_user_does_and_prints_no_none(tmp_path, capsys):
    from candlebot.cli.ledger import main as ledger

    store = BotStore(tmp_path / "bots" / f"{BotIdentity.from_name('holder').label}.sqlite", now=lambda: 0.0)
    store.bind(pair="XXBTZUSD", start_cash=D("1000"))  # the books hold Kraken's pair id
    store.close()
    assert ledger(["--state-dir", str(tmp_path), "--name", "holder"]) == 0
    out = capsys.readouterr().out
    assert " pair=XBTUSD " in out and "XXBTZUSD" not in out and "None" not in out and "audit_hold" not in out


def test_the_bot_stopped_line_counts_the_runs_trades_skipped_orders_and_strategy_errors():
    import io
    import logging

    from candlebot.events import BotError, BotStopped, EventBus, OrderFailed, OrderSkipped, TradeClosed, TradeOpened
    from candlebot.output.logsink import LogSink
    from candlebot.trade import BotTrade
    from candlebot.venue import Fill, Side

    stream = io.StringIO()
    log = logging.getLogger("test.person_output.stopped")
    log.propagate, log.handlers = False, [logging.StreamHandler(stream)]
    log.setLevel(logging.INFO)
    bus = EventBus()
    LogSink(log, candles=False).attach(bus)
    buy = Fill("OB", 1, "XBTUSD", Side.BUY, 1_700_000_000, D("100.0"), D("2"), D("200.00000"), D("0.52000"))
    sell = Fill("OS", 2, "XBTUSD", Side.SELL, 1_700_003_600, D("110.0"), D("2"), D("220.00000"), D("0.57200"))
    bus.emit(TradeOpened(1.0, BotTrade(1, buy)))
    bus.emit(TradeClosed(2.0, BotTrade(1, buy).closed_by(sell)))
    bus.emit(OrderSkipped(3.0, Side.BUY, "volume 0.00001 below ordermin 0.0001 XBT"))
    bus.emit(OrderSkipped(4.0, Side.BUY, "1 trade open (num_simultaneous_trades=1)"))
    bus.emit(BotError(5.0, "strategy", "boom"))
    bus.emit(OrderFailed(5.5, Side.BUY, D("2"), 7, "ExchangeUnavailable", "EService:Busy"))
    bus.emit(BotStopped(6.0, "SIGTERM"))
    assert stream.getvalue().splitlines()[-1] == ("bot stopped: SIGTERM; this run: 1 trade opened, 1 closed, 2 orders skipped "
                                                  "(1 below Kraken's order minimum), 1 order failed, 1 error in the strategy")
