"""The one engine loop, shared by backtest, paper, validate and live.

    closed candle -> indicators -> strategy.tick(i) -> trader -> exchange -> ledger -> events

A backtest loads its candles into the chart up front and calls ``run``; a
running bot calls ``candle_closed`` each time its chart closes a candle, which
advances every indicator by one O(1) step and runs the very same loop body
for that one index. Nothing else differs between the two.

The safety net wraps the strategy's own code only. Whatever its code raises
(any exception, ``SystemExit``, and a ``KeyboardInterrupt`` no Ctrl-C sent)
skips that candle (``StrategyError``, reported as a ``BotError``) and the loop
goes on; so does a wrong order its code caught (``OrderArgumentError``, seen
at the desk). An exception from the core behind it (trader, ledger, store,
exchange; seen at the desk as ``core_failure``) propagates out of the loop even
when the strategy's code caught it: the bot stops and its next start recovers
(crash-only); a backtest stops.

The stop loss (``stop_loss_pct``) is the core's: after every tick, even one
whose strategy code failed, the trades held before the candle whose close fell
under their stop are sold, and the sells are booked as stop-loss exits.
"""

from __future__ import annotations

import logging
import signal
from bisect import bisect_left
from typing import Callable, Iterable, Sequence

from candlebot.candle import Candle
from candlebot.chart import Chart
from candlebot.clock import Clock, utc
from candlebot.errors import BooksInvariantError, FatalExchangeError, StateWriteError, StrategyError
from candlebot.events import BotError, CandleClosed, EventBus, PositionsShown
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.ledger import Ledger
from candlebot.money import to_decimal
from candlebot.strategy.base import BotStrategy
from candlebot.trading.strategydesk import StrategyDesk
from candlebot.venue import CandleVenue

log = logging.getLogger(__name__)

NEVER_THE_STRATEGYS = (FatalExchangeError, BooksInvariantError, StateWriteError)  # stop the bot, whoever raised them


def _a_real_interrupt(exc: BaseException) -> bool:
    """A ``KeyboardInterrupt`` is a person's Ctrl-C only where Python's own SIGINT handler raises it (a backtest);
    a bot handles SIGINT itself (a stop), so there one can only come from the strategy's code."""
    return isinstance(exc, KeyboardInterrupt) and signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _one_line(exc: BaseException) -> str:
    """The strategy's exception message on one line, even when its ``__str__`` is broken too."""
    try:
        return " ".join(str(exc).split())
    except Exception:  # noqa: BLE001 - the strategy's own exception class failed to say what it is
        return "(its message cannot be read)"


def _stay(index: int) -> None:
    """A running bot's venue is the live market: it moves by itself."""


class Engine:
    """Runs a strategy over closed candles and reports what happened on the event bus."""

    def __init__(
        self,
        *,
        chart: Chart,
        indicators: BotIndicators,
        strategy: BotStrategy,
        desk: StrategyDesk,
        ledger: Ledger,
        clock: Clock,
        bus: EventBus,
        history_limit: int | None = None,
        market: CandleVenue | None = None,
    ) -> None:
        """``desk``: the one the strategy was built with (``StrategyContext(orders=desk.view)``); ``market``: a venue
        replaying this chart (a backtest), moved to each candle before its tick."""
        if history_limit is not None and history_limit < max(indicators.history_needed(), strategy.lookback) + 1:
            raise ValueError(f"history_limit {history_limit} is shorter than what the strategy needs")
        self.chart = chart
        self.indicators = indicators
        self.strategy = strategy
        self.desk = desk
        self.stop_loss = float(strategy.params.stop_loss_pct) / 100
        self.ledger = ledger
        self.clock = clock
        self.bus = bus
        self.history_limit = history_limit
        self.strategy_errors = 0
        self._advance = market.at if market is not None else _stay
        self._shown_closed = len(ledger.closed_trades)  # closed trades get one ledger line, after the candle closing them
        self._active: Sequence[int] | None = None  # during ``run``: the only candles the strategy may act on

    def ready_index(self) -> int | None:
        """First candle index on which the strategy may act: every line warm, ``lookback`` values deep."""
        warm = self.indicators.warm_index()
        return None if warm is None else warm + self.strategy.lookback - 1

    def run(self, start: int = 0, stop: int | None = None, progress: Callable[[int], None] | None = None) -> None:
        """Tick the strategy on candles ``start .. stop-1`` already in the chart."""
        stop = len(self.chart) if stop is None else stop
        ready = self.ready_index()
        if ready is None:
            return
        first = max(start, ready)
        self._active = self.strategy.candles_to_tick()  # the lines are whole now (a backtest's chart is loaded)
        try:
            if progress is None:
                self._loop(first, stop)
                return
            step = 1 << 16
            for chunk in range(first, stop, step):
                self._loop(chunk, min(chunk + step, stop))
                progress(min(chunk + step, stop))
        finally:
            self._active = None

    def warm_up(self, candles: Iterable[Candle]) -> None:
        """History before the bot started: indicators learn from it, the strategy does not trade on it."""
        for candle in candles:
            self.chart.append(candle)
            self.indicators.update()

    def candle_closed(self) -> None:
        """The chart's newest candle just closed (``Chart.update`` appended it):
        advance every indicator one step, tick on it, keep the history bounded."""
        self.indicators.update()
        i = len(self.chart) - 1
        ready = self.ready_index()
        if ready is not None and i >= ready:
            self._loop(i, i + 1)
        limit = self.history_limit
        if limit is not None and len(self.chart) >= 2 * limit:
            drop = len(self.chart) - limit
            self.chart.drop_front(drop)
            self.indicators.drop_front(drop)

    def _loop(self, first: int, stop: int) -> None:
        strategy, desk, stop_loss = self.strategy, self.desk, self.stop_loss
        tick = strategy.per_candle()
        advance = self._advance
        observe = self._observe if self.bus.wants(CandleClosed) else None
        show = self._show_positions if self.bus.wants(PositionsShown) else None
        closes = self.chart.closes
        candles: Iterable[int] = range(first, stop)
        active = self._active
        quiet = active is not None and observe is None and show is None and not stop_loss
        if quiet:  # nothing happens on the other candles: no stop to check, no event or line to emit, no tick to act
            candles = active[bisect_left(active, first) : bisect_left(active, stop)]
        for i in candles:
            advance(i)
            if observe is not None:
                observe(i)
            held = desk.books.open_trades if stop_loss else ()
            try:
                tick(i)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the strategy's code raised them
                if desk.core_failure is not None or isinstance(exc, NEVER_THE_STRATEGYS) or _a_real_interrupt(exc):
                    raise desk.core_failure or exc
                desk.take_mistakes()
                self._strategy_failed(i, exc)  # the strategy's own bug skips this candle, never the bot
            else:
                if desk.troubled:
                    if desk.core_failure is not None:  # the strategy's code caught it: the core failed all the same
                        raise desk.core_failure
                    self._strategy_failed(i, desk.take_mistakes()[0])  # a wrong order its code caught: all the same
            if held:
                desk.stop_out(held, closes[i], stop_loss)
            if show is not None:
                show(i)
        if quiet and stop > first:
            advance(stop - 1)  # the venue (and the clock) end on the last candle, as after ticking every one

    def _observe(self, i: int) -> None:
        ledger = self.ledger
        flat = not ledger.open_trades and not ledger.dust
        self.bus.emit(
            CandleClosed(
                time=self.clock.now(),
                candle=self.chart[i],
                indicators=self.strategy.indicator_values(i),
                cash=ledger.cash,
                equity=ledger.cash if flat else ledger.equity(to_decimal(self.chart.closes[i])),
                open_trades=len(ledger.open_trades),
            )
        )

    def _show_positions(self, i: int) -> None:
        """Every open trade and those closed since the last showing, marked at candle ``i``'s close."""
        ledger = self.ledger
        closed = ledger.closed_trades
        trades = (*ledger.open_trades, *closed[self._shown_closed :])
        self._shown_closed = len(closed)
        if trades:
            self.bus.emit(PositionsShown(self.clock.now(), to_decimal(self.chart.closes[i]), trades))

    def _strategy_failed(self, i: int, exc: BaseException) -> None:
        self.strategy_errors += 1
        error = StrategyError(f"{self.strategy.name} failed on the candle of {utc(self.chart.times[i])} UTC: "
                              f"{type(exc).__name__}: {_one_line(exc)}")
        if self.strategy_errors == 1:  # its traceback once, for the strategy's author; the bus reports every one
            log.error("%s (candle skipped)", error, exc_info=exc)
        self.bus.emit(BotError(self.clock.now(), "strategy", str(error)))
