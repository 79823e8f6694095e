"""``candlebot --data FILE``: the engine over historical candles, with the backtest exchange wired in."""

from __future__ import annotations

import argparse
import bisect
import importlib
import itertools
import json
import logging
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, TextIO

from candlebot.data.candlecache import CandleCache
from candlebot.data.candlefile import CANDLE_HEADER, TRADE_HEADER, CandleColumns, load_candles, load_trades, sniff_header
from candlebot.chart import Chart, period_seconds
from candlebot.cli import pipes
from candlebot.cli.sinks import SinkTags, build_sinks
from candlebot.cli.stopping import stopped
from candlebot.cli.args import check_exchange, parse_amount, parse_fee, parse_fraction, parse_range
from candlebot.trading.engine import CandleClock, Engine
from candlebot.errors import ConfigError, DataFileError
from candlebot.events import EventBus
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.protection import Protection
from candlebot.output.logsink import ClockFormatter, LogSink
from candlebot.strategy.params import StrategyParams, parse_params
from candlebot.pair import PairInfo
from candlebot.data.pricepath import demo_candles
from candlebot.output import progress
from candlebot.cli.report_output import check_report_paths, report_data, write_reports
from candlebot.output.report import RunReport, build_report, write_trades_csv
from candlebot.data.resample import candles_from_trades, resample
from candlebot.strategy.base import BotStrategy, StrategyContext
from candlebot.trading.trader import Trader
from candlebot.exchanges.backtest import BacktestExchange
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.strategies import STRATEGIES


@dataclass(frozen=True)
class BacktestSetup:
    """Everything a backtest needs, validated: built from flags before any work starts."""

    data: str
    pair: PairInfo
    period_minutes: float | None
    start: float | None
    end: float | None
    strategy: type[BotStrategy]
    params: StrategyParams
    fee_rate: Decimal
    cash: Decimal
    stake: Decimal | None
    slippage_bps: Decimal
    cache: CandleCache | None = None  # None: parse the file every time
    max_slippage: Decimal = Decimal("0.005")


def setup_from_args(args: argparse.Namespace) -> BacktestSetup:
    if args.mode is not None:
        raise ConfigError(f"--{args.mode} is for running bots; a backtest (--data) always simulates its fills")
    check_exchange(args.exchange)
    if args.period is not None:
        period_seconds(args.period)
    strategy = resolve_strategy(args.strategy)
    params = parse_params(strategy.Params, args.param, strategy.name)
    pair = find_pair(offline_pairs(), args.pair)
    start, end = parse_range(args.start, args.end)
    cash = parse_amount(args.cash or "10000", "--cash")
    stake = parse_amount(args.stake, "--stake") if args.stake is not None else None
    if stake is not None and stake > cash:
        raise ConfigError(f"--stake {stake} is more than --cash {cash}: every buy would be skipped")
    return BacktestSetup(
        data=args.data,
        pair=pair,
        period_minutes=args.period,
        start=start,
        end=end,
        strategy=strategy,
        params=params,
        fee_rate=parse_fee(args.fee) if args.fee is not None else pair.taker_fee,
        cash=cash,
        stake=stake,
        slippage_bps=parse_amount(args.slippage_bps, "--slippage-bps", allow_zero=True),
        cache=None if args.no_cache else CandleCache(Path(args.cache_dir) if args.cache_dir else None),
        max_slippage=parse_fraction(args.max_slippage, "--max-slippage"),
    )


def resolve_strategy(name: str) -> type[BotStrategy]:
    """A shipped strategy by name, or your own as ``package.module:ClassName``."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            strategy = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load strategy {name!r}: {exc}") from None
        if not (isinstance(strategy, type) and issubclass(strategy, BotStrategy)):
            raise ConfigError(f"{name!r} is not a BotStrategy subclass")
        return strategy
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r} (available: {', '.join(sorted(STRATEGIES))}, or module:Class)") from None


def load_chart(setup: BacktestSetup) -> Chart:
    """The candles to run on, at ``-p`` minutes, ending before ``-e``; earlier ones warm the indicators.

    ``-e`` cuts before resampling, so that a coarser candle never holds anything at or after it.
    """
    columns, native = _read_columns(setup)
    period = period_seconds(setup.period_minutes) if setup.period_minutes is not None else native
    if period is None:
        raise ConfigError(f"{setup.data}: cannot tell the candle period from a single candle; pass -p")
    columns = columns.between(None, setup.end)
    if len(columns) == 0:
        raise ConfigError(f"no candles before -e in {setup.data}")
    columns = resample(columns, period) if native is not None else columns
    return Chart.from_arrays(setup.pair.altname, period, columns.times, columns.opens, columns.highs,
                             columns.lows, columns.closes, columns.volumes)


def _read_columns(setup: BacktestSetup) -> tuple[CandleColumns, int | None]:
    if setup.data == "demo":
        columns = demo_candles()
        return columns, 60
    header = sniff_header(Path(setup.data))
    if header[: len(CANDLE_HEADER)] == CANDLE_HEADER:
        columns = setup.cache.load(setup.data) if setup.cache is not None else load_candles(setup.data)
        return columns, columns.native_period()
    if header[: len(TRADE_HEADER)] == TRADE_HEADER:
        if setup.period_minutes is None:
            raise ConfigError(f"{setup.data} holds trades; pass -p to say which candles to build from them")
        period = period_seconds(setup.period_minutes)
        return candles_from_trades(load_trades(setup.data).before(setup.end), period), None
    raise DataFileError(f"{setup.data}:1: not a candle file ({','.join(CANDLE_HEADER)}) or trade file ({','.join(TRADE_HEADER)})")


@dataclass
class Backtest:
    """A wired backtest: run() drives the engine over the chosen range and returns the report."""

    setup: BacktestSetup
    chart: Chart
    engine: Engine
    ledger: Ledger
    start_index: int

    def run(self, progress: Callable[[int], None] | None = None) -> RunReport:
        started = time.perf_counter()
        self.engine.run(self.start_index, len(self.chart), progress)
        return build_report(
            stop_loss_ids=frozenset(self.engine.strategy.stop_loss_exits),
            strategy=self.setup.strategy.name,
            params=self.setup.params.as_dict(),
            ledger=self.ledger,
            chart=self.chart,
            start=self.start_index,
            stop=len(self.chart),
            strategy_errors=self.engine.strategy_errors,
            elapsed_s=time.perf_counter() - started,
        )


def build_backtest(setup: BacktestSetup, chart: Chart, bus: EventBus, log: logging.Logger) -> Backtest:
    start_index = 0 if setup.start is None else bisect.bisect_left(chart.times, setup.start)
    if start_index >= len(chart):
        raise ConfigError("no candles between -s and -e in the data")
    clock = CandleClock(chart)
    exchange = BacktestExchange(chart, setup.pair, clock, cash=setup.cash, fee_rate=setup.fee_rate, slippage_bps=setup.slippage_bps)
    ledger = Ledger(setup.pair, setup.cash)
    userrefs = itertools.count(1)
    trader = Trader(
        exchange=exchange,
        pair=setup.pair,
        ledger=ledger,
        sizing=Sizing(setup.params.num_simultaneous_trades, setup.stake),
        fee_rate=setup.fee_rate,
        bus=bus,
        clock=clock,
        next_userref=lambda: next(userrefs),
        protection=Protection(setup.pair, setup.max_slippage),
    )
    indicators = BotIndicators(chart)
    strategy = setup.strategy(setup.params, StrategyContext(chart, indicators, ledger, trader))
    engine = Engine(chart=chart, indicators=indicators, strategy=strategy, ledger=ledger, clock=clock, bus=bus)
    return Backtest(setup, chart, engine, ledger, start_index)


def run_backtest(setup: BacktestSetup, chart: Chart) -> tuple[Backtest, RunReport]:
    """One silent backtest on candles already loaded: what ``candlebot optimize`` runs for every trial."""
    log = logging.getLogger("candlebot.backtest.silent")
    log.propagate = False
    log.setLevel(logging.ERROR)
    if not log.handlers:
        log.addHandler(logging.NullHandler())
    backtest = build_backtest(setup, chart, EventBus(), log)
    return backtest, backtest.run()


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    setup = setup_from_args(args)
    check_report_paths(args.report, args.report_png)
    chart = load_chart(setup)
    verbose = args.verbose and not (args.quiet or args.json)
    log = logging.getLogger(f"candlebot.backtest.{id(setup)}")
    log.propagate = False
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    bus = EventBus()
    backtest = build_backtest(setup, chart, bus, log)
    handler = pipes.StreamHandler(out if verbose else err)
    handler.setFormatter(ClockFormatter(backtest.engine.clock))
    log.addHandler(handler)
    LogSink(log, candles=verbose).attach(bus)
    tags = SinkTags(bot="backtest", pair=setup.pair.altname, strategy=setup.strategy.name, mode="backtest",
                    quote=setup.pair.wsname.rpartition("/")[2] or setup.pair.quote)
    close_sinks = build_sinks(args, bus, tags)
    try:
        candles = len(chart) - backtest.start_index
        try:
            if progress.wanted(err, candles) and not verbose:
                with progress.progress_bar(err, candles, "backtest", "candles") as advance:
                    report = backtest.run(lambda done: advance(done - backtest.start_index))
            else:
                report = backtest.run()
        except BrokenPipeError:
            raise  # the reader went away (`| head`): not a failure
        except Exception as exc:  # the engine skips what the strategy's code raises: whatever escapes it is a bug
            return stopped(exc, log, err, expected=())
        if args.trades_csv:
            _write_trades(args.trades_csv, backtest, report)
        if args.report or args.report_png:
            write_reports(args.report, args.report_png, report_data(backtest, report), err)
        if args.json:
            out.write(json.dumps(report.to_json()) + "\n")
        else:
            out.write(report.summary() + "\n")
    finally:
        close_sinks()
        log.removeHandler(handler)
    return 0


def _write_trades(path: str, backtest: Backtest, report: RunReport) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            write_trades_csv(backtest.ledger.trades, handle, report.reasons, report.curve.end_time)
    except OSError as exc:
        raise ConfigError(f"--trades-csv: cannot write {path}: {exc.strerror or exc}") from None

