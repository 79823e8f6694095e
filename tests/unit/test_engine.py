"""The engine's safety net wraps the strategy's own code only, and the ledger lines leave through the event bus.

A strategy's own bug skips its candle and the loop goes on; a failure of the core behind ``buy``/``close``
(trader, ledger, store, exchange) stops the loop, even when the strategy's code catches it.
"""

from __future__ import annotations

import logging
import sqlite3
from decimal import Decimal as D
from io import StringIO

import pytest

from candlebot.output.lines import utc
from candlebot.chart import Chart
from candlebot.errors import BooksInvariantError, StateWriteError
from candlebot.events import BotError, BotStopped, PositionsShown, TradeOpened
from candlebot.live.runtime import BotRuntime, RuntimeSettings
from candlebot.output.lines import ledger_line
from candlebot.output.logsink import LogSink
from candlebot.strategy.base import BotStrategy, StrategyContext
from candlebot.trading.strategydesk import StrategyDesk
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.engine import Engine
from tests.unit.desk import Desk


class Careful(BotStrategy):
    """Guards every order with ``except Exception`` and tries once more: what a cautious author writes."""

    name = "careful"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        for _ in range(2):
            try:
                if self.open_trades:
                    self.close_all()
                else:
                    self.buy()
                return
            except Exception:
                pass


class Buggy(BotStrategy):
    """Raises on odd candles (its own bug) and flips on the others; closes a stale trade on candle 4."""

    name = "buggy"
    lookback = 1
    stale = None

    def evaluate_positions(self, i: int) -> None:
        if i % 2:
            raise RuntimeError("boom: a strategy bug")
        if i == 4:
            self.close(self.stale)
        if self.open_trades:
            self.stale = self.open_trades[0]
            self.close_all()
        else:
            self.buy()


class BrokenStore(Desk):
    """A store with a bug: booking a fill raises what no caller expects."""

    def __init__(self, folder) -> None:
        super().__init__(folder)
        store = self.store

        class Journal:
            intent = store.intent
            failed = store.failed

            def filled(self, *args, **kwargs) -> None:
                raise KeyError("fill_volume")

        self.trader.journal = Journal()


def engine(desk: Desk, strategy: type[BotStrategy], candles: int = 8) -> Engine:
    chart = Chart("XBTUSD", 60)
    for k in range(candles):
        chart.update(30000.0, 1.0, desk.clock.now() - 60 * (candles - k))
    chart.close_forming()
    indicators = BotIndicators(chart)
    orders = StrategyDesk(desk.trader)
    built = strategy(strategy.Params(), StrategyContext(chart, indicators, orders.view))
    return Engine(chart=chart, indicators=indicators, strategy=built, desk=orders, ledger=desk.ledger, clock=desk.clock,
                  bus=desk.bus)


def test_a_strategys_own_bug_skips_its_candle_and_the_loop_goes_on(tmp_path):
    desk = Desk(tmp_path, "10000")
    run = engine(desk, Buggy)
    first = run.chart.times[1]

    run.run()

    errors = [e.message for e in desk.of(BotError)]
    assert run.strategy_errors == len(errors) == 5  # candles 1, 3, 5, 7 and the stale close on 4
    assert errors[0] == f"buggy failed on the candle of {utc(first)} UTC: RuntimeError: boom: a strategy bug"
    assert "OrderArgumentError: trade 1 " in errors[2] and "is not open in the books" in errors[2]
    assert len(desk.of(TradeOpened)) == 2 and len(desk.exchange.sent) == 3  # buy on 0, sell on 2, buy on 6


def test_a_store_that_cannot_write_stops_the_loop_even_when_the_strategy_swallows_it(tmp_path):
    desk = Desk(tmp_path, "1000")
    run = engine(desk, Careful)
    other = sqlite3.connect(desk.store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the file: every write of the bot's now fails

    with pytest.raises(StateWriteError, match="cannot write state file .*locked"):
        run.run()
    other.close()

    assert desk.exchange.sent == [] and run.strategy_errors == 0 and not desk.of(BotError)


def test_broken_books_stop_the_loop_and_nothing_more_is_sent(tmp_path):
    desk = Desk(tmp_path, "1000", exchange_fee=D("0.01"), account="5000")  # charged 1%, sized for 0.26%

    run = engine(desk, Careful)
    with pytest.raises(BooksInvariantError, match="cost more than the bot's budget"):
        run.run()

    assert len(desk.exchange.sent) == 1  # the second try in the same tick sent nothing
    assert desk.ledger.cash == D("1000") and not desk.ledger.trades


def test_a_bug_in_the_store_propagates_as_itself(tmp_path):
    desk = BrokenStore(tmp_path)
    run = engine(desk, Careful)

    with pytest.raises(KeyError, match="fill_volume"):
        run.run()

    assert run.strategy_errors == 0 and len(desk.exchange.sent) == 1


def test_ledger_lines_are_an_event_the_log_sink_writes(tmp_path):
    desk = Desk(tmp_path, "10000")
    run = engine(desk, Careful, candles=3)
    stream = StringIO()
    log = logging.getLogger("test.engine.ledger")
    log.propagate, log.handlers = False, [logging.StreamHandler(stream)]
    log.setLevel(logging.INFO)
    LogSink(log, candles=False).attach(desk.bus)

    run.run()

    shown = desk.of(PositionsShown)
    opened, closed = desk.ledger.closed_trades[0], desk.ledger.open_trades[0]
    assert [[t.trade_id for t in e.trades] for e in shown] == [[1], [1], [2]]  # open; closed on candle 1; open again
    assert all(e.mark == D("30000.0") for e in shown)
    lines = [line for line in stream.getvalue().splitlines() if " / " in line]
    assert lines == [ledger_line(shown[0].trades[0], D("30000.0")), ledger_line(opened, D("30000.0")),
                     ledger_line(closed, D("30000.0"))]


def test_no_ledger_lines_are_built_when_nobody_listens(tmp_path):
    desk = Desk(tmp_path, "10000", listen=(TradeOpened,))
    run = engine(desk, Careful, candles=3)

    run.run()

    assert not desk.of(PositionsShown) and len(desk.ledger.trades) == 2
    assert run.strategy.per_candle() == run.strategy.evaluate_positions  # no stop loss: one call per candle


def test_a_running_bot_reports_a_core_bug_and_stops_on_it(tmp_path):
    desk = BrokenStore(tmp_path)
    chart = Chart("XBTUSD", 60)
    indicators = BotIndicators(chart)
    orders = StrategyDesk(desk.trader)
    strategy = Careful(Careful.Params(), StrategyContext(chart, indicators, orders.view))
    run = Engine(chart=chart, indicators=indicators, strategy=strategy, desk=orders, ledger=desk.ledger, clock=desk.clock,
                 bus=desk.bus)
    runtime = BotRuntime(settings=RuntimeSettings("bot", "XBTUSD", "careful", "paper", poll_s=30.0), exchange=desk.exchange,
                         chart=chart, engine=run, bus=desk.bus, clock=desk.clock)

    with pytest.raises(KeyError, match="fill_volume"):
        runtime.run(max_polls=10)  # a candle closes every other poll; the first tick buys

    assert [(e.kind, e.message) for e in desk.of(BotError)] == [("internal", "KeyError: 'fill_volume': stopping")]
    assert desk.of(BotStopped)[0].reason == "fatal: internal error: KeyError: 'fill_volume'"
