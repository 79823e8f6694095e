"""``candlebot -x kraken -p MIN -t SEC -c PAIR --strategy NAME [--paper|--validate|--live]``: a running bot.

Wiring only: the engine, trader and runtime are the same objects a backtest
uses; the mode decides which exchange object trades (paper fills on live
prices, paper fills after Kraken validated the order, or real orders).
Start-up is recovery: the bot's database is reloaded and every order whose
outcome was never recorded is looked up before the strategy may trade again.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from candlebot.live.audit import Auditor
from candlebot.live.bookfeed import BookFeed
from candlebot.cli.stopping import stopped
from candlebot.candle import Candle
from candlebot.data.candlefile import CandleColumns, TradeColumns
from candlebot.chart import Chart, period_seconds
from candlebot.cli.args import check_exchange, check_seconds, parse_amount, parse_fee, parse_fraction
from candlebot.cli.backtest import resolve_strategy
from candlebot.cli.sinks import SinkTags, build_sinks, check_sinks
from candlebot.clock import Clock, LiveClock
from candlebot.live.diary import EVENT_TYPES as DIARY_EVENTS, Diary
from candlebot.trading.engine import Engine
from candlebot.errors import ConfigError, FatalExchangeError, StateWriteError, TemporaryExchangeError
from candlebot.events import EventBus
from candlebot.identity import BotIdentity
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.output.logsink import ClockFormatter, LogSink
from candlebot.strategy.params import parse_params
from candlebot.money import to_decimal
from candlebot.live.paths import default_state_dir
from candlebot.trading.pricecheck import MarketReferences, PriceGuard
from candlebot.trading.protection import Protection
from candlebot.live.recovery import Reconciler
from candlebot.data.resample import candles_from_trades, resample
from candlebot.live.runtime import BotRuntime, RuntimeSettings
from candlebot.output.sinks.queued import QueuedSink
from candlebot.live.store import BotStore
from candlebot.strategy.base import StrategyContext
from candlebot.trading.trader import Trader
from candlebot.live.userrefs import UserrefSequence

T = TypeVar("T")
KRAKEN_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
STOP_BUDGET_S = 4.0  # from the signal to the last log line; the process is gone well within 5 s
LOOKUP_EVERY_S = 1.0  # an unsettled order is looked up at most this often (the key's rate budget is shared)
STARTUP_STOP_S = 1.0  # a stop while starting: how long a start-up call may take to notice it


@dataclass
class BotProcess:
    """A wired bot: run it with ``runtime.run()``; ``close()`` releases files and sockets."""

    runtime: BotRuntime
    store: BotStore
    log: logging.Logger
    closers: list[Callable[[], None]]

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing must not hide why we stopped
                self.log.exception("error while closing")


def run(args: argparse.Namespace) -> int:
    """Entry point for a running bot; returns the process exit code.

    SIGTERM/SIGINT set ``stop``: the current step finishes and everything is closed
    within one 5-second budget; whatever is still in flight then is left recorded
    for the next start to reconcile. ``--stop-after`` counts from the process start,
    start-up retries included (a bot that cannot reach Kraken still stops on time).
    """
    stop = threading.Event()
    stopped_at: list[float] = []
    check_seconds(args.stop_after, "--stop-after", maximum=10 * 365 * 86_400)
    deadline = None if args.stop_after is None else time.monotonic() + args.stop_after

    def on_signal(signum: int, _frame: object) -> None:
        if not stopped_at:
            stopped_at.append(time.monotonic())
            logging.getLogger("candlebot").info("%s received: finishing the current step", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    clock = LiveClock(interrupt=stop)
    outcome: dict[str, object] = {}

    def start() -> None:
        try:
            outcome["bot"] = build_bot(args, clock, stop)
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    starter = threading.Thread(target=start, name="start", daemon=True)
    starter.start()
    if _wait_or_stop(starter, stop, deadline, stopped_at) and starter.is_alive():
        starter.join(max(0.0, stopped_at[0] + STARTUP_STOP_S - time.monotonic()))
        if starter.is_alive():  # still retrying Kraken: nothing traded yet, and crash-only state needs no goodbye
            logging.getLogger("candlebot").info("stopped while starting")
            os._exit(0)
    if "bot" not in outcome:
        error = outcome.get("error")
        if stop.is_set() and isinstance(error, ConfigError):
            return 0  # stopped while starting (retrying an unreachable exchange): nothing to undo
        if isinstance(error, StateWriteError):
            raise ConfigError(str(error)) from None
        if not isinstance(error, Exception):
            raise error  # type: ignore[misc]
        return stopped(error, logging.getLogger("candlebot"))
    bot: BotProcess = outcome["bot"]  # type: ignore[assignment]

    def work() -> None:
        try:
            bot.runtime.run()
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="bot", daemon=True)
    worker.start()
    _wait_or_stop(worker, stop, deadline, stopped_at, bot.log)
    budget_end = (stopped_at[0] if stopped_at else time.monotonic()) + STOP_BUDGET_S
    worker.join(max(0.0, budget_end - time.monotonic()))
    if worker.is_alive():  # an exchange call outlived the budget: its intent is on disk for the next start
        bot.log.warning("stopping with an exchange call in flight; the next start reconciles it")
        _flush_logs(bot.log)
        os._exit(0)
    closer = threading.Thread(target=bot.close, name="close", daemon=True)
    closer.start()
    closer.join(max(0.5, budget_end + 0.5 - time.monotonic()))  # sinks flush within what is left
    _flush_logs(bot.log)
    error = outcome.get("error")
    if error is None:
        return 0
    if not isinstance(error, Exception):
        raise error  # type: ignore[misc]
    return stopped(error, bot.log)  # crash-only: one line, non-zero exit; supervisor restarts, start-up recovers


def _wait_or_stop(thread: threading.Thread, stop: threading.Event, deadline: float | None, stopped_at: list[float],
                  log: logging.Logger | None = None) -> bool:
    """Wait while ``thread`` runs and nobody stops it; sets ``stop`` at ``deadline``. True when stopped."""
    while thread.is_alive() and not stop.is_set():
        stop.wait(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
        if deadline is not None and time.monotonic() >= deadline and not stop.is_set():
            (log or logging.getLogger("candlebot")).info("--stop-after reached")
            stopped_at.append(time.monotonic())
            stop.set()
    if stop.is_set() and not stopped_at:
        stopped_at.append(time.monotonic())
    return stop.is_set()


def build_bot(args: argparse.Namespace, clock: Clock, stop: threading.Event) -> BotProcess:
    from candlebot.exchanges.kraken import KrakenExchange, config_from_args, load_credentials
    from candlebot.exchanges.live import LiveExchange
    from candlebot.exchanges.paper import PaperExchange

    check_exchange(args.exchange)
    check_seconds(args.poll, "-t", maximum=86_400)
    check_seconds(args.reconcile_window, "--reconcile-window", maximum=86_400, allow_zero=True)
    check_seconds(args.audit_interval, "--audit-interval", maximum=7 * 86_400)
    for flag in ("start", "end", "trades_csv", "json", "report", "report_png"):
        if getattr(args, flag):
            raise ConfigError(f"--{flag.replace('_', '-')} is for backtests (with --data)")
    mode = args.mode or "paper"
    for flag in ("cash", "stake"):  # bounds checked before Kraken is reached
        if getattr(args, flag) is not None:
            parse_amount(getattr(args, flag), f"--{flag}")
    period = period_seconds(args.period if args.period is not None else 5)
    fee = parse_fee(args.fee) if args.fee is not None else None
    max_slippage = parse_fraction(args.max_slippage, "--max-slippage")
    max_deviation = parse_fraction(args.max_price_deviation, "--max-price-deviation", allow_zero=False)
    strategy_cls = resolve_strategy(args.strategy)
    params = parse_params(strategy_cls.Params, args.param, strategy_cls.name)
    identity = BotIdentity.from_name(args.name)
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    closers: list[Callable[[], None]] = []

    check_sinks(args, statsd_default=True, slack_default=True)  # a bad port or URL fails before Kraken is reached
    config = config_from_args(args)
    try:
        credentials = load_credentials(args.key_file) if mode != "paper" else None
    except ConfigError as exc:
        raise ConfigError(f"--{mode} needs a Kraken API key: {exc}") from None
    # the adapter's waits (rate counter, retries, lookups) must not be cut short by a stop: it would spin
    kraken = KrakenExchange(config, credentials=credentials, clock=LiveClock(), state_dir=state_dir)
    closers.append(kraken.close)
    log = _bot_logger(identity, clock, Path(args.log_dir) if args.log_dir else Path("logs"), args.quiet)
    retry = _Retry(log, stop, clock)
    pair = retry("read the pair's metadata", lambda: kraken.pair_info(args.pair))
    fee_rate = fee if fee is not None else pair.taker_fee
    if mode == "live" and fee_rate < pair.taker_fee:  # Kraken's first tier is the most a taker pays: size for it
        raise ConfigError(f"--fee {args.fee} is below Kraken's taker fee for {pair.altname} ({float(pair.taker_fee * 100):g}%): "
                          "live orders sized with it could cost more than the bot's budget")

    store_path = state_dir / "bots" / f"{identity.label}.sqlite"
    store = BotStore(store_path, now=clock.now)
    closers.append(store.close)
    if args.cash is not None:
        start_cash = parse_amount(args.cash, "--cash")
    elif mode == "live":
        start_cash = retry("read the account balance", lambda: kraken.balances().get(pair.quote, Decimal(0)))
    else:
        start_cash = Decimal("10000")
    cash = store.bind(pair=pair.name, start_cash=start_cash)
    books = store.load()
    ledger = Ledger(pair, Decimal(store.meta("start_cash") or cash))
    ledger.restore(books.trades, books.cash)

    if mode == "live":
        exchange = LiveExchange(kraken, pair, clock, fee_rate=fee_rate)
    else:
        exchange = PaperExchange(kraken, pair, fee_rate=fee_rate, clock=clock,
                                 balances={pair.quote: ledger.cash, pair.base: ledger.position},
                                 validate=kraken.validate_market_order if mode == "validate" else None)
    bus = EventBus()
    LogSink(log, candles=False).attach(bus)
    # what report and status read, written by a worker thread on a second connection: never on the order path
    decimals = {"price_decimals": pair.pair_decimals, "volume_decimals": pair.lot_decimals, "cost_decimals": pair.cost_decimals}
    diary = QueuedSink(Diary(BotStore(store_path, now=clock.now, create=False), period,
                             {k: str(v) for k, v in decimals.items()}), capacity=5_000, wake_at=64)
    bus.subscribe(diary, *DIARY_EVENTS)
    closers.append(lambda: diary.close(1.0))
    tags = SinkTags(bot=identity.label, pair=pair.altname, strategy=strategy_cls.name, mode=mode,
                    quote=pair.wsname.rpartition("/")[2] or pair.quote)
    # running bots report to the local Datadog agent unless --no-statsd; Slack when a webhook or token is configured
    secrets = (credentials.key, credentials.secret) if credentials is not None else ()
    closers.append(build_sinks(args, bus, tags, statsd_default=True, slack_default=True, secrets=secrets))
    userrefs = UserrefSequence(state_dir, clock.now)
    closers.append(userrefs.close)
    chart = Chart(pair.altname, period)
    references = MarketReferences(closes=lambda: to_decimal(chart.closes[-1]) if len(chart) else None)
    guard = PriceGuard(max_deviation, references)
    book_feed = BookFeed(exchange, pair.name, clock=clock)
    trader = Trader(exchange=exchange, pair=pair, ledger=ledger, sizing=Sizing(params.num_simultaneous_trades,
                    parse_amount(args.stake, "--stake") if args.stake else None), fee_rate=fee_rate, bus=bus, clock=clock,
                    next_userref=userrefs, journal=store, protection=Protection(pair, max_slippage), guard=guard,
                    books=book_feed)
    reconciler = Reconciler(trader=trader, exchange=exchange, bus=bus, clock=clock,
                            pending=books.pending, absent_after=args.reconcile_window if mode == "live" else 0.0,
                            lookup_every=LOOKUP_EVERY_S)

    indicators = BotIndicators(chart)
    strategy = strategy_cls(params, StrategyContext(chart, indicators, ledger, trader))
    needed = max(indicators.history_needed(), 1) + strategy.lookback
    engine = Engine(chart=chart, indicators=indicators, strategy=strategy, ledger=ledger, clock=clock, bus=bus,
                    history_limit=max(4 * needed, 1000))
    history = retry("fetch warm-up history", lambda: warm_up_candles(kraken, pair.name, period, max(3 * needed, needed + 50), clock.now()))
    engine.warm_up(history)
    log.info("%s: %s on %s (%s mode), %gs candles, polling every %gs; warmed up on %d candles%s",
             identity.label, strategy_cls.name, pair.altname, mode, period, args.poll, len(history),
             "" if engine.ready_index() is not None else " (indicators still warming up)")
    auditor = None
    if mode == "live":  # its own adapter: the audit reads the account on a worker thread, the bot's adapter is not shared
        account = KrakenExchange(config, credentials=credentials, clock=LiveClock(), state_dir=state_dir)
        closers.append(account.close)
        auditor = Auditor(bot=identity.name, pair=pair, account=account, store=store, ledger=ledger, trader=trader, bus=bus,
                          clock=clock, interval_s=args.audit_interval)
    runtime = BotRuntime(settings=RuntimeSettings(identity.label, pair.altname, strategy_cls.name, mode, args.poll),
                         exchange=exchange, chart=chart, engine=engine, bus=bus, clock=clock, reconciler=reconciler, stop=stop,
                         guard=guard, references=references, books=book_feed, auditor=auditor)
    return BotProcess(runtime, store, log, closers)


def warm_up_candles(kraken: object, pair: str, period: int, count: int, now: float) -> list[Candle]:
    """The latest ``count`` closed candles of ``period`` seconds: from Kraken's OHLC (resampled from the
    largest interval that divides the period) or, for sub-minute periods, from its recent trades."""
    if period % 60 == 0:
        minutes = period // 60
        interval = max(i for i in KRAKEN_INTERVALS if minutes % i == 0)
        # two buckets to spare: the oldest may be partly covered and the newest may still be forming
        raw = kraken.closed_candles(pair, interval, min((count + 2) * (minutes // interval), 720))  # type: ignore[attr-defined]
        if not raw:
            return []
        columns = CandleColumns(np.array([c.time for c in raw], dtype=np.int64),
                                *(np.array([getattr(c, f) for c in raw]) for f in ("open", "high", "low", "close", "volume")))
        candles = resample(columns, period) if interval != minutes else columns
        if len(candles) and columns.times[0] != candles.times[0]:
            candles = candles.between(candles.times[0] + 1, None)  # the oldest bucket is only partly covered
    else:
        page = kraken.recent_trades(pair)  # type: ignore[attr-defined]
        if not page.trades:
            return []
        trades = TradeColumns(*(np.array([float(getattr(t, f)) for t in page.trades]) for f in ("time", "price", "volume")))
        candles = candles_from_trades(trades, period)
        candles = candles.between(candles.times[0] + 1, None)  # the first period is only partly covered
    complete = candles.between(None, (int(now) // period) * period)  # the current period is still forming
    rows = zip(*(c.tolist() for c in (complete.times, complete.opens, complete.highs, complete.lows, complete.closes, complete.volumes)))
    return [Candle(int(t), o, h, l, c, v) for t, o, h, l, c, v in rows][-count:]


class _Retry:
    """Start-up calls: temporary failures are retried with back-off (and reported) until the bot is stopped."""

    def __init__(self, log: logging.Logger, stop: threading.Event, clock: Clock) -> None:
        self.log, self.stop, self.clock = log, stop, clock

    def __call__(self, what: str, call: Callable[[], T]) -> T:
        delay = 1.0
        while True:
            try:
                return call()
            except FatalExchangeError as exc:
                raise ConfigError(f"cannot {what}: {exc}") from None
            except TemporaryExchangeError as exc:
                if self.stop.is_set():
                    raise ConfigError(f"stopped before the bot could {what}") from None
                self.log.warning("could not %s (%s); retrying in %.0fs", what, exc, delay)
                self.clock.sleep(delay)
                delay = min(delay * 2, 60.0)


def _bot_logger(identity: BotIdentity, clock: Clock, log_dir: Path, quiet: bool) -> logging.Logger:
    log = logging.getLogger(f"candlebot.bot.{identity.label}")
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / identity.log_file_name(clock.now())
        file_handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write logs to {log_dir}: {exc.strerror or exc}") from None
    file_handler.setFormatter(ClockFormatter(clock))
    log.addHandler(file_handler)
    if not quiet:
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(ClockFormatter(clock))
        log.addHandler(console)
    library = logging.getLogger("candlebot")  # library loggers (recovery, engine, adapter) share the bot's handlers
    library.setLevel(logging.INFO)
    for handler in log.handlers:
        library.addHandler(handler)
    return log


def _flush_logs(log: logging.Logger) -> None:
    for handler in log.handlers:
        handler.flush()
