"""What a strategy is given cannot change the books, and every mistake it makes is a strategy error (issue 18).

The engine on the in-memory exchange: read-only views, no path by attribute to the trader, the ledger or the
store, caps from the trader's own books, wrong orders counted even when caught, SystemExit and a
KeyboardInterrupt no Ctrl-C sent skipped like any other exception, the stop loss run by the core.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from decimal import Decimal as D

import pytest

from candlebot.chart import Chart
from candlebot.events import BotError, OrderSkipped, TradeClosed
from candlebot.live.store import BotStore
from candlebot.strategy import BooksView, BotStrategy, StrategyContext
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.engine import Engine
from candlebot.trading.ledger import Ledger
from candlebot.trading.strategydesk import StrategyDesk
from candlebot.trading.trader import Trader
from tests.unit.desk import Desk


def engine(desk: Desk, strategy: type[BotStrategy], candles: int = 6, closes: list[float] | None = None,
           **params: object) -> Engine:
    chart = Chart("XBTUSD", 60)
    for k in range(candles):
        chart.update(closes[k] if closes else 30000.0, 1.0, desk.clock.now() - 60 * (candles - k))
    chart.close_forming()
    indicators = BotIndicators(chart)
    orders = StrategyDesk(desk.trader)
    built = strategy(strategy.Params(**params), StrategyContext(chart, indicators, orders.view))
    return Engine(chart=chart, indicators=indicators, strategy=built, desk=orders, ledger=desk.ledger, clock=desk.clock,
                  bus=desk.bus)


def reachable(root: object, depth: int = 4) -> list[object]:
    """Every object reachable from ``root`` by attribute (instance dicts, slots, containers), as strategy code reaches it
    without introspecting functions."""
    seen: dict[int, object] = {}
    frontier = [root]
    for _ in range(depth):
        following = []
        for item in frontier:
            if id(item) in seen or isinstance(item, (str, bytes, int, float, D, type)) or item is None:
                continue
            seen[id(item)] = item
            if isinstance(item, (list, tuple, set, frozenset)):
                following.extend(item)
            elif isinstance(item, dict):
                following.extend(item.values())
            following.extend(getattr(item, "__dict__", {}).values())
            for klass in type(item).__mro__:
                for slot in getattr(klass, "__slots__", ()):
                    following.append(getattr(item, slot, None))
        frontier = following
    return list(seen.values())


class Reader(BotStrategy):
    name = "reader"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        if not self.open_trades:
            self.buy()


def test_a_strategy_sees_immutable_snapshots_and_reaches_no_trader_ledger_or_store(tmp_path):
    desk = Desk(tmp_path, "1000")
    run = engine(desk, Reader, candles=2)
    run.run()
    strategy = run.strategy

    assert isinstance(strategy.open_trades, tuple) and strategy.open_trades == tuple(desk.ledger.open_trades) != ()
    assert isinstance(strategy.ledger, BooksView) and strategy.ledger.cash == desk.ledger.cash
    with pytest.raises(AttributeError):
        strategy.open_trades.clear()  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        strategy.ledger.cash = D(9000)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        strategy.open_trades[0].trade_id = 7  # type: ignore[misc]
    found = reachable(strategy)
    assert not [o for o in found if isinstance(o, (Trader, Ledger, BotStore, StrategyDesk))]
    strategy.open_trades = []  # its own attribute: only what it reads changes
    assert strategy.buy() is None and desk.of(OrderSkipped)  # the cap holds: one trade open
    assert len(desk.ledger.open_trades) == 1


class Forcing(BotStrategy):
    """Forces its own snapshot past ``frozen`` and raises its cap: only its copies change."""

    name = "forcing"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        self.num_simultaneous_trades = 50
        object.__setattr__(self.ledger, "cash", D(10**6))
        object.__setattr__(self.ledger, "open_trades", ())
        self.buy()


def test_caps_come_from_the_traders_own_books_whatever_the_strategy_changed(tmp_path):
    desk = Desk(tmp_path, "1000", stake="300")

    engine(desk, Forcing).run()

    assert len(desk.ledger.open_trades) == 1 and len(desk.exchange.sent) == 1
    assert desk.ledger.cash >= D(700) and desk.ledger.cash == desk.exchange.balances()["ZUSD"] - D(0)


class WrongOrders(BotStrategy):
    """Catches every wrong order it makes, then buys properly once."""

    name = "wrong"
    lookback = 1
    volumes: tuple[object, ...] = ()

    def evaluate_positions(self, i: int) -> None:
        for volume in self.volumes:
            try:
                self.buy(volume)  # type: ignore[arg-type]
            except Exception:
                pass
        if not self.open_trades:
            self.buy()


@pytest.mark.parametrize("volume", [D("1e30"), D("1e300"), D("NaN"), D("sNaN"), D("-Infinity"), D("-0.01"), D(0),
                                    D("-0"), 0.01, 1, "0.01", True, None.__class__, object()])
def test_every_wrong_volume_is_a_strategy_error_even_when_caught_and_sends_nothing(tmp_path, volume):
    desk = Desk(tmp_path, "1000")
    WrongOrders.volumes = (volume,)

    run = engine(desk, WrongOrders, candles=3)
    run.run()

    errors = [e.message for e in desk.of(BotError)]
    assert run.strategy_errors == len(errors) == 3, errors  # one per candle, the bot went on
    assert all("OrderArgumentError" in e and "nothing sent" in e and "\n" not in e for e in errors)
    assert len(desk.exchange.sent) == 1 and len(desk.ledger.open_trades) == 1  # only its proper buy


def test_a_volume_over_the_cash_is_skipped_not_rounded(tmp_path):
    desk = Desk(tmp_path, "1000")
    WrongOrders.volumes = (D("1e15"),)  # a volume a Decimal of the lot can hold, a million times the cash

    run = engine(desk, WrongOrders, candles=1)
    run.run()

    assert run.strategy_errors == 0 and "costs more than the cash" in desk.of(OrderSkipped)[0].reason


class Exits(BotStrategy):
    name = "exits"
    lookback = 1
    raised: BaseException = SystemExit(0)

    def evaluate_positions(self, i: int) -> None:
        raise self.raised


def test_sys_exit_in_a_strategy_is_a_strategy_error(tmp_path):
    desk = Desk(tmp_path, "1000")
    Exits.raised = SystemExit(0)

    run = engine(desk, Exits, candles=2)
    run.run()

    assert [e.message.split(": ", 1)[1] for e in desk.of(BotError)] == ["SystemExit: 0"] * 2


def test_a_keyboard_interrupt_is_the_strategys_where_sigint_is_handled_and_a_ctrl_c_where_it_is_not(tmp_path):
    desk = Desk(tmp_path, "1000")
    Exits.raised = KeyboardInterrupt()
    run = engine(desk, Exits, candles=2)

    # a process where a Ctrl-C raises (set here: a test process started in the background inherits SIGINT ignored)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            run.run()

        signal.signal(signal.SIGINT, lambda *_: None)  # a bot: SIGINT is a stop, never an exception
        run.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert run.strategy_errors == 2 and all("KeyboardInterrupt" in e.message for e in desk.of(BotError))


class Garbled(Exception):
    def __str__(self) -> str:
        raise RuntimeError("its message cannot be read")


class Raises(BotStrategy):
    name = "raises"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        raise Garbled("x\ny")


def test_an_exception_whose_message_cannot_be_read_is_still_one_strategy_error(tmp_path):
    desk = Desk(tmp_path, "1000")

    run = engine(desk, Raises, candles=1)
    run.run()

    [error] = desk.of(BotError)
    assert error.kind == "strategy" and "Garbled: (its message cannot be read)" in error.message


class BuysThenFails(BotStrategy):
    name = "buys_then_fails"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        if not self.open_trades:
            self.buy()
        raise RuntimeError("its own bug, after the buy")


def test_the_stop_loss_is_the_cores_and_runs_even_when_the_strategy_failed(tmp_path):
    desk = Desk(tmp_path, "1000")
    run = engine(desk, BuysThenFails, candles=3, closes=[30000.0, 20000.0, 20000.0], stop_loss_pct=5.0)

    run.run()

    [closed] = desk.of(TradeClosed)
    assert closed.reason == "stop_loss" and desk.trader.stop_loss_exits == {closed.trade.trade_id}
    assert desk.store.load().stop_loss_ids == {closed.trade.trade_id}
    assert run.strategy_errors == 3


class Meddler(BotStrategy):
    """Hooks code of its own into the desk's refresh, which runs while the trader books a fill."""

    name = "meddler"
    lookback = 1

    def setup(self, indicators: BotIndicators) -> None:
        self._orders.watch(self._spoil)

    def _spoil(self, books: object) -> None:
        if books.open_trades:  # type: ignore[attr-defined]
            raise RuntimeError("a watcher of its own")

    def evaluate_positions(self, i: int) -> None:
        if self.open_trades:
            self.close_all()
        else:
            self.buy()


def test_strategy_code_run_inside_a_booking_is_its_error_and_never_interrupts_the_booking(tmp_path):
    desk = Desk(tmp_path, "1000")

    run = engine(desk, Meddler, candles=4)
    run.run()

    assert [o["status"] for o in desk.store.orders()] == ["filled"] * 4  # buy, sell, buy, sell: all booked
    assert run.strategy_errors == 2 and all("a watcher of its own" in e.message for e in desk.of(BotError))
