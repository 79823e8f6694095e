"""A backtest: the strategy over candles loaded up front, on the backtest venue, which the engine moves to each
candle before ticking (time, prices and fills are the candles')."""

from __future__ import annotations

import bisect
import itertools
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from candlebot.assembly.settings import BacktestSettings
from candlebot.assembly.strategy import strategy_on
from candlebot.chart import Chart
from candlebot.data.source import LoadedChart, load_convention_chart
from candlebot.errors import ConfigError
from candlebot.events import EventBus
from candlebot.exchanges.backtest import BacktestExchange, CandleClock
from candlebot.output.report import RunReport, build_report
from candlebot.output.skips import SkipTally
from candlebot.pair import PairInfo
from candlebot.trading.engine import Engine
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.protection import Protection
from candlebot.trading.trader import Trader


def load_chart(settings: BacktestSettings) -> Chart:
    """The candles to run on, at ``-p`` minutes, ending before ``-e``; earlier ones warm the indicators."""
    return load_candles(settings).chart


def load_candles(settings: BacktestSettings) -> LoadedChart:
    """``load_chart`` and what the bot's candle convention (flat gap candles, tick-true prices) changed."""
    return load_convention_chart(settings.data, settings.pair.altname, settings.period_minutes, settings.end,
                                 settings.cache, tick=settings.pair.tick_size, keep_gaps=settings.keep_gaps)


@dataclass
class Backtest:
    """A wired backtest: run() drives the engine over the chosen range and returns the report."""

    settings: BacktestSettings
    chart: Chart
    engine: Engine
    ledger: Ledger
    trader: Trader
    exchange: BacktestExchange
    start_index: int
    skips: SkipTally = field(default_factory=SkipTally)  # orders not sent, for the summary

    def run(self, progress: Callable[[int], None] | None = None) -> RunReport:
        started = time.perf_counter()
        self.engine.run(self.start_index, len(self.chart), progress)
        return build_report(
            stop_loss_ids=frozenset(self.trader.stop_loss_exits),
            strategy=self.settings.strategy.name,
            params=self.settings.params.as_dict(),
            ledger=self.ledger,
            chart=self.chart,
            start=self.start_index,
            stop=len(self.chart),
            strategy_errors=self.engine.strategy_errors,
            elapsed_s=time.perf_counter() - started,
            skips=self.skips,
        )


def backtest_venue(chart: Chart, pair: PairInfo, *, cash: Decimal, fee_rate: Decimal, slippage_bps: Decimal = Decimal(0),
                   spread: Decimal = Decimal(0)) -> BacktestExchange:
    """The backtest venue over ``chart`` on its own candle clock (``.clock``), which the engine moves."""
    return BacktestExchange(chart, pair, CandleClock(chart), cash=cash, fee_rate=fee_rate, slippage_bps=slippage_bps,
                            spread=spread)


def build_backtest(settings: BacktestSettings, chart: Chart, bus: EventBus) -> Backtest:
    """The strategy over ``chart`` on the backtest venue: fills at the next candle's open, fee on the notional.
    Outputs (log lines, sinks) are the caller's: ``attach_outputs`` on the same bus."""
    start_index = 0 if settings.start is None else bisect.bisect_left(chart.times, settings.start)
    if start_index >= len(chart):
        raise ConfigError("no candles between --from and --to in the data")
    exchange = backtest_venue(chart, settings.pair, cash=settings.cash, fee_rate=settings.fee_rate,
                              slippage_bps=settings.slippage_bps, spread=settings.spread)
    clock = exchange.clock
    ledger = Ledger(settings.pair, settings.cash)
    userrefs = itertools.count(1)
    trader = Trader(exchange=exchange, pair=settings.pair, ledger=ledger,
                    sizing=Sizing(settings.params.num_simultaneous_trades, settings.stake), fee_rate=settings.fee_rate,
                    bus=bus, clock=clock, next_userref=lambda: next(userrefs),
                    protection=Protection(settings.pair, settings.max_slippage), least_ask=exchange.least_ask)
    indicators, strategy, desk = strategy_on(settings, chart, trader)
    engine = Engine(chart=chart, indicators=indicators, strategy=strategy, desk=desk, ledger=ledger, clock=clock, bus=bus,
                    market=exchange)
    return Backtest(settings, chart, engine, ledger, trader, exchange, start_index, SkipTally().follow(trader))


def run_backtest(settings: BacktestSettings, chart: Chart) -> tuple[Backtest, RunReport]:
    """One silent backtest on candles already loaded: what ``candlebot optimize`` runs for every trial."""
    backtest = build_backtest(settings, chart, EventBus())
    return backtest, backtest.run()
