"""How candlebot is put together: a backtest or a running bot, from validated settings. Read this file to see
the whole bot.

Both are the same core objects around one engine loop:

    chart -> indicators -> strategy -> trader -> exchange -> ledger -> events (bus) -> sinks
             '------------------- Engine: one tick per closed candle -------------------'

- A backtest (``build_backtest``) loads its candles up front and runs the engine over them on the backtest
  venue, which the engine moves to each candle before ticking (time, prices and fills are the candles').
- A running bot (``build_bot``) puts the mode's venue around the Kraken adapter (paper fills on live
  prices, paper fills of orders Kraken validated, or real orders), reloads its books from its state file
  (start-up is recovery), warms its indicators up on the venue's history and hands everything to the
  runtime that polls the ticker.

The CLI parses flags into ``BacktestSettings`` / ``BotSettings``; nothing here reads flags. This is the only
core module that imports ``candlebot.strategies``, ``candlebot.exchanges`` or ``candlebot.collector`` (apart
from the Kraken flags in ``cli/args.py``; tests/core/test_dependencies.py checks it).
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from candlebot.chart import Chart
from candlebot.strategy.loader import load_strategy
from candlebot.clock import Clock, LiveClock
from candlebot.data.candlecache import CandleCache
from candlebot.data.source import LoadedChart, load_convention_chart
from candlebot.errors import ConfigError, FatalExchangeError, TemporaryExchangeError
from candlebot.events import EventBus, TickerPolled
from candlebot.identity import BotIdentity
from candlebot.live.bookfeed import BookFeed
from candlebot.live.fees import AccountFee
from candlebot.money import to_decimal
from candlebot.output.logsink import ClockFormatter, LogSink
from candlebot.output.report import RunReport, build_report
from candlebot.output.skips import SkipTally
from candlebot.output.sinks.tags import SinkTags
from candlebot.pair import PairInfo
from candlebot.strategy.base import BotStrategy, StrategyContext
from candlebot.strategy.indicators import BotIndicators
from candlebot.strategy.params import StrategyParams
from candlebot.trading.engine import Engine
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.pricecheck import MarketReferences, PriceGuard
from candlebot.trading.protection import Protection
from candlebot.trading.strategydesk import StrategyDesk
from candlebot.trading.trader import Trader
from candlebot.exchanges.backtest import BacktestExchange, CandleClock
from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.strategies import STRATEGIES

if TYPE_CHECKING:  # a running bot's parts, imported where it is built: a backtest never loads requests or SQLite
    from candlebot.exchanges.kraken import KrakenCredentials, KrakenExchange
    from candlebot.exchanges.live import LiveExchange
    from candlebot.exchanges.paper import PaperExchange
    from candlebot.live.audit import Auditor
    from candlebot.live.runtime import BotRuntime
    from candlebot.live.store import BotStore, StoredBooks

T = TypeVar("T")
LOOKUP_EVERY_S = 1.0  # an unsettled order is looked up at most this often (the key's rate budget is shared)
DEFAULT_CASH = Decimal("10000")
SinkStarter = Callable[[EventBus, SinkTags, Sequence[str]], Callable[[], None]]
"""Subscribes the process's sinks (StatsD, Slack) to a bus, masking the given secrets; returns their closer."""


# -- settings ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestSettings:
    """Everything a backtest needs, validated: built from flags before any work starts."""

    data: str  # a candle or trade file, or "demo"
    pair: PairInfo
    strategy: type[BotStrategy]
    params: StrategyParams
    fee_rate: Decimal
    cash: Decimal
    period_minutes: float | None = None  # None: the file's own period
    start: float | None = None  # first candle traded (earlier ones warm the indicators up)
    end: float | None = None  # candles from here on do not exist for the backtest
    stake: Decimal | None = None
    slippage_bps: Decimal = Decimal(0)
    cache: CandleCache | None = None  # None: parse the file every time
    max_slippage: Decimal = Decimal("0.005")
    spread: Decimal = Decimal(0)  # bid-ask spread as a fraction of the price: each fill pays half of it
    keep_gaps: bool = False  # the archive's convention (no flat candles for periods without trades); no bot sees that


@dataclass(frozen=True)
class BotSettings:
    """A running bot, validated before Kraken is first called."""

    pair: str  # as typed; the venue tells its metadata
    period: int  # seconds
    poll_s: float
    strategy: type[BotStrategy]
    params: StrategyParams
    identity: BotIdentity
    venue: KrakenConfig
    state_dir: Path
    mode: str = "paper"  # paper | validate | live
    log_dir: Path = Path("logs")
    quiet: bool = False
    key_file: str | None = None  # None: $KRAKEN_API_KEY / $KRAKEN_API_SECRET (validate and live only)
    fee: Decimal | None = None  # None: the pair's taker fee
    fee_text: str | None = None  # --fee as typed, quoted back in messages
    cash: Decimal | None = None  # None: 10000 on paper, the account's quote balance when validate or live
    stake: Decimal | None = None
    max_slippage: Decimal = Decimal("0.005")
    max_deviation: Decimal = Decimal("0.05")
    reconcile_window: float = 120.0
    audit_interval: float = 600.0
    lookup_every: float = LOOKUP_EVERY_S


def resolve_strategy(name: str, search_path: Sequence[str] = ()) -> type[BotStrategy]:
    """A shipped strategy by name, or your own (``--strategy``, ``--strategy-path``: see candlebot.strategy.loader)."""
    return load_strategy(name, STRATEGIES, [Path(p) for p in search_path])


def offline_pair(name: str) -> PairInfo:
    """A pair's Kraken metadata without a network call (backtests)."""
    return find_pair(offline_pairs(), name)


def public_kraken(url: str | None, timeout: float) -> Callable[[], Callable[..., Any]]:
    """A factory of Kraken public calls (one client, one connection each) for ``candlebot download``.

    ``url``: ``--kraken-url`` (default ``$CANDLEBOT_KRAKEN_URL``, else Kraken); checked before any is made."""
    from candlebot.exchanges.kraken.client import KrakenClient
    from candlebot.exchanges.kraken.config import DEFAULT_URL, URL_ENV, RetryPolicy

    base = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if not (math.isfinite(timeout) and timeout > 0):
        raise ConfigError(f"--kraken-timeout must be > 0, got {timeout}")
    KrakenClient(url=base).close()  # checks the URL before any thread starts
    # one attempt per call: the download's pacer sees every refusal, adapts its pace and retries (data.download.pace)
    return lambda: KrakenClient(url=base, timeout=(5.0, timeout), retry=RetryPolicy(attempts=1)).public


def start_demo_market(market: Path, start: int) -> Any:
    """The local Kraken simulator replaying the candles of ``market`` from ``start`` (no keys, no internet):
    what ``candlebot-demo`` trades on. ``stop()`` it when done; ``url`` is where it listens."""
    from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig

    return KrakenSimulator(SimConfig(tier="none", seed=7, data=market, start=start)).start()


def _strategy(settings: BacktestSettings | BotSettings, chart: Chart,
              trader: Trader) -> tuple[BotIndicators, BotStrategy, StrategyDesk]:
    """The strategy on read-only views of its books, ordering through the trader's desk (never the trader)."""
    indicators = BotIndicators(chart)
    desk = StrategyDesk(trader)
    return indicators, settings.strategy(settings.params, StrategyContext(chart, indicators, desk.view)), desk


# -- backtest ------------------------------------------------------------------------------------------------------


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


def build_backtest(settings: BacktestSettings, chart: Chart, bus: EventBus) -> Backtest:
    """The strategy over ``chart`` on the backtest venue: fills at the next candle's open, fee on the notional."""
    start_index = 0 if settings.start is None else bisect.bisect_left(chart.times, settings.start)
    if start_index >= len(chart):
        raise ConfigError("no candles between -s and -e in the data")
    clock = CandleClock(chart)
    exchange = BacktestExchange(chart, settings.pair, clock, cash=settings.cash, fee_rate=settings.fee_rate,
                                slippage_bps=settings.slippage_bps, spread=settings.spread)
    ledger = Ledger(settings.pair, settings.cash)
    userrefs = itertools.count(1)
    trader = Trader(exchange=exchange, pair=settings.pair, ledger=ledger,
                    sizing=Sizing(settings.params.num_simultaneous_trades, settings.stake), fee_rate=settings.fee_rate,
                    bus=bus, clock=clock, next_userref=lambda: next(userrefs),
                    protection=Protection(settings.pair, settings.max_slippage))
    indicators, strategy, desk = _strategy(settings, chart, trader)
    engine = Engine(chart=chart, indicators=indicators, strategy=strategy, desk=desk, ledger=ledger, clock=clock, bus=bus,
                    market=exchange)
    return Backtest(settings, chart, engine, ledger, trader, exchange, start_index, SkipTally().attach(bus))


def run_backtest(settings: BacktestSettings, chart: Chart) -> tuple[Backtest, RunReport]:
    """One silent backtest on candles already loaded: what ``candlebot optimize`` runs for every trial."""
    backtest = build_backtest(settings, chart, EventBus())
    return backtest, backtest.run()


# -- running bot ---------------------------------------------------------------------------------------------------


@dataclass
class BotProcess:
    """A wired bot: run it with ``runtime.run()``; ``close()`` releases files and sockets."""

    runtime: BotRuntime
    store: BotStore
    log: logging.Logger
    closers: list[Callable[[], None]]
    trader: Trader
    ledger: Ledger

    def close(self) -> None:
        """Everything the bot opened; its own log stays open for the line that says why it stopped."""
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing must not hide why we stopped
                self.log.exception("error while closing")
        library = logging.getLogger("candlebot")
        for handler in self.log.handlers:  # the next bot built in this process logs to its own files only
            library.removeHandler(handler)


@dataclass
class _Desk:
    """What a running bot trades with, before its strategy is attached."""

    pair: PairInfo
    fee_rate: Decimal
    store: BotStore
    books: StoredBooks
    ledger: Ledger
    exchange: PaperExchange | LiveExchange
    bus: EventBus = field(default_factory=EventBus)
    fees: AccountFee | None = None  # live and validate: refreshed daily, sizing follows


def no_sinks(bus: EventBus, tags: SinkTags, secrets: Sequence[str]) -> Callable[[], None]:
    """No StatsD, no Slack: the log file and the state file only."""
    return lambda: None


def build_bot(settings: BotSettings, clock: Clock, stop: threading.Event, sinks: SinkStarter = no_sinks) -> BotProcess:
    """A running bot, recovered from its state file and warmed up; temporary Kraken failures are retried (and
    reported) until ``stop``. Raises ConfigError for what a person must fix."""
    from candlebot.exchanges.kraken import load_credentials

    closers: list[Callable[[], None]] = []
    try:
        credentials = load_credentials(settings.key_file) if settings.mode != "paper" else None
    except ConfigError as exc:
        raise ConfigError(f"--{settings.mode} needs a Kraken API key: {exc}") from None
    try:
        store = _claim_books(settings, credentials, clock, closers)  # before any exchange call
        return _assemble(settings, clock, stop, sinks, credentials, store, closers)
    except BaseException:
        for close in reversed(closers):  # the locks above all: a failed start leaves the bot free to start again
            try:
                close()
            except Exception:
                pass
        raise


def _assemble(settings: BotSettings, clock: Clock, stop: threading.Event, sinks: SinkStarter,
              credentials: KrakenCredentials | None, store: BotStore, closers: list[Callable[[], None]]) -> BotProcess:
    """The bot around its claimed books: the adapter, the venue, the trader, the engine, the audit, the runtime."""
    from candlebot.exchanges.kraken import KrakenExchange
    from candlebot.live.backfill import Backfill
    from candlebot.live.recovery import Reconciler
    from candlebot.live.runtime import BotRuntime, RuntimeSettings
    from candlebot.live.userrefs import UserrefSequence

    # the adapter's waits (rate counter, retries, lookups) must not be cut short by a stop: it would spin
    kraken = KrakenExchange(settings.venue, credentials=credentials, clock=LiveClock(), state_dir=settings.state_dir)
    closers.append(kraken.close)
    log = _bot_logger(settings.identity, clock, settings.log_dir, settings.quiet)
    retry = _Retry(log, stop, clock)
    desk = _open_desk(settings, kraken, clock, retry, store)
    _attach_outputs(settings, desk, clock, log, closers)
    secrets = (credentials.key, credentials.secret) if credentials is not None else ()
    tags = sink_tags(settings.identity.label, desk.pair, settings.strategy, settings.mode)
    closers.append(sinks(desk.bus, tags, secrets))
    userrefs = UserrefSequence(settings.state_dir, clock.now)
    closers.append(userrefs.close)
    chart = Chart(desk.pair.altname, settings.period)
    references = MarketReferences(closes=lambda: to_decimal(chart.closes[-1]) if len(chart) else None)
    guard = PriceGuard(settings.max_deviation, references)
    book_feed = BookFeed(desk.exchange, desk.pair.name, clock=clock)
    trader = Trader(exchange=desk.exchange, pair=desk.pair, ledger=desk.ledger, sizing=Sizing(
                    settings.params.num_simultaneous_trades, settings.stake), fee_rate=desk.fee_rate, bus=desk.bus,
                    clock=clock, next_userref=userrefs, journal=desk.store,
                    protection=Protection(desk.pair, settings.max_slippage), guard=guard, books=book_feed)
    if desk.fees is not None:
        desk.fees.bind(lambda rate: setattr(trader, "fee_rate", rate), lambda rate: setattr(desk.exchange, "fee_rate", rate))
        desk.bus.subscribe(desk.fees.poll, TickerPolled)
    reconciler = Reconciler(trader=trader, exchange=desk.exchange, bus=desk.bus,
                            clock=clock, pending=desk.books.pending, lookup_every=settings.lookup_every,
                            absent_after=settings.reconcile_window if settings.mode == "live" else 0.0)
    engine = _warmed_up_engine(settings, desk, chart, trader, clock, log, retry)
    auditor = _auditor(settings, desk, trader, credentials, clock, closers) if settings.mode == "live" else None
    if auditor is not None:
        reconciler.on_absent = auditor.recheck
    runtime = BotRuntime(settings=RuntimeSettings(settings.identity.label, desk.pair.altname, settings.strategy.name,
                                                  settings.mode, settings.poll_s),
                         exchange=desk.exchange, chart=chart, engine=engine, bus=desk.bus, clock=clock,
                         reconciler=reconciler, stop=stop, guard=guard, references=references, books=book_feed,
                         auditor=auditor, backfill=Backfill(desk.exchange, desk.pair.name, chart, engine))
    return BotProcess(runtime, desk.store, log, closers, trader, desk.ledger)


def key_account(key_file: str) -> str:
    """The account a live bot's state file records for the API key in ``key_file``: a fingerprint, never the key."""
    from candlebot.exchanges.kraken import load_credentials
    from candlebot.live.store import kraken_account

    return kraken_account(load_credentials(key_file).key_id)


def _claim_books(settings: BotSettings, credentials: KrakenCredentials | None, clock: Clock,
                 closers: list[Callable[[], None]]) -> BotStore:
    """The bot's lock (one process per bot) and its state file, checked to be this bot's books on this account."""
    from candlebot.live.keyshare import KeyShare
    from candlebot.live.lock import BotLock
    from candlebot.live.store import PAPER_ACCOUNT, BotStore, kraken_account

    path = _store_path(settings)
    if credentials is not None:  # one state dir per key on this machine (its nonce file, the fleet's audit)
        share = KeyShare(credentials.key_id, settings.state_dir).claim()
        closers.append(share.release)
    lock = BotLock.beside(path).acquire(f"bot {settings.identity.name!r}")
    closers.append(lock.release)
    store = BotStore(path, now=clock.now)
    closers.append(store.close)
    account = kraken_account(credentials.key_id) if settings.mode == "live" and credentials is not None else PAPER_ACCOUNT
    store.claim(name=settings.identity.name, bot_id=settings.identity.bot_id, account=account)
    return store


def _open_desk(settings: BotSettings, kraken: KrakenExchange, clock: Clock, retry: _Retry, store: BotStore) -> _Desk:
    """The pair, the fee, the books reloaded from the state file, and the mode's venue around the adapter."""
    from candlebot.exchanges.live import LiveExchange
    from candlebot.exchanges.paper import PaperExchange

    pair = retry("read the pair's metadata", lambda: kraken.pair_info(settings.pair))
    fees = None
    if settings.mode in ("live", "validate"):  # the account's own fee tier (TradeVolume), shown at start
        fees = AccountFee(lambda deferrable: kraken.account_fees(pair.name, deferrable=deferrable), pair,
                          flag=settings.fee, flag_text=settings.fee_text, log=retry.log)
        fee_rate = fees.start(live=settings.mode == "live").rate
    else:
        fee_rate = settings.fee if settings.fee is not None else pair.taker_fee
    account: dict[str, Decimal] | None = None
    # read here, at start: the poll loop placing orders must never wait for the key's budget; validate has a key
    # too, and the account says what there is to trade with unless --cash does
    if settings.mode == "live" or (settings.mode == "validate" and settings.cash is None):
        account = retry("read the account balance", kraken.balances)
    if settings.cash is not None:
        start_cash = settings.cash
    elif account is not None:
        start_cash = account.get(pair.quote, Decimal(0))
    else:
        start_cash = DEFAULT_CASH
    cash = store.bind(pair=pair.name, start_cash=start_cash, base=pair.base)
    books = store.load()
    ledger = Ledger(pair, Decimal(store.meta("start_cash") or cash))
    ledger.restore(books.trades, books.cash)
    exchange: PaperExchange | LiveExchange
    if settings.mode == "live":
        exchange = LiveExchange(kraken, pair, clock, fee_rate=fee_rate, balances=account)
    else:
        exchange = PaperExchange(kraken, pair, fee_rate=fee_rate, clock=clock,
                                 balances={pair.quote: ledger.cash, pair.base: ledger.position},
                                 validate=kraken.validate_market_order if settings.mode == "validate" else None)
    return _Desk(pair, fee_rate, store, books, ledger, exchange, fees=fees)


def _attach_outputs(settings: BotSettings, desk: _Desk, clock: Clock, log: logging.Logger,
                    closers: list[Callable[[], None]]) -> None:
    """Log lines, and the diary that report and status read, written by a worker thread on a second
    connection: never on the order path."""
    from candlebot.live.diary import EVENT_TYPES as DIARY_EVENTS, Diary
    from candlebot.live.store import BotStore
    from candlebot.output.sinks.queued import QueuedSink

    LogSink(log, candles=False).attach(desk.bus)
    pair = desk.pair
    decimals = {"price_decimals": pair.pair_decimals, "volume_decimals": pair.lot_decimals,
                "cost_decimals": pair.cost_decimals}
    diary = QueuedSink(Diary(BotStore(_store_path(settings), now=clock.now, create=False), settings.period,
                             {**{k: str(v) for k, v in decimals.items()}, **_replay_facts(settings, desk)}),
                       capacity=5_000, wake_at=64)
    desk.bus.subscribe(diary, *DIARY_EVENTS)
    closers.append(lambda: diary.close(1.0))


def _replay_facts(settings: BotSettings, desk: _Desk) -> dict[str, str]:
    """What ``candlebot replay`` needs to backtest the bot's own candles as the bot traded them."""
    params = [f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in settings.params.as_dict().items()]
    spec = f"{settings.strategy.__module__}:{settings.strategy.__qualname__}"
    return {"params": json.dumps(params), "strategy_spec": spec, "fee_rate": str(desk.fee_rate), "max_slippage": str(settings.max_slippage),
            "stake": "" if settings.stake is None else str(settings.stake)}


def _warmed_up_engine(settings: BotSettings, desk: _Desk, chart: Chart, trader: Trader, clock: Clock,
                      log: logging.Logger, retry: _Retry) -> Engine:
    """The strategy on the engine, its indicators warmed up on the venue's history (``History``)."""
    indicators, strategy, orders = _strategy(settings, chart, trader)
    needed = max(indicators.history_needed(), 1) + strategy.lookback
    engine = Engine(chart=chart, indicators=indicators, strategy=strategy, desk=orders, ledger=desk.ledger, clock=clock,
                    bus=desk.bus, history_limit=max(4 * needed, 1000))
    count = max(3 * needed, needed + 50)
    history = retry("fetch warm-up history",
                    lambda: desk.exchange.latest_candles(desk.pair.name, settings.period, count, clock.now()))
    engine.warm_up(history)
    desk.store.record(candles=[(c.time, c.open, c.high, c.low, c.close, c.volume, None) for c in history],
                      events=[], status={})  # the warm-up is part of the bot's chart: `candlebot replay` uses it
    log.info("%s: %s on %s (%s mode), %gs candles, polling every %gs; warmed up on %d candles%s",
             settings.identity.label, settings.strategy.name, desk.pair.altname, settings.mode, settings.period,
             settings.poll_s, len(history), "" if engine.ready_index() is not None else " (indicators still warming up)")
    return engine


def _auditor(settings: BotSettings, desk: _Desk, trader: Trader, credentials: KrakenCredentials | None, clock: Clock,
             closers: list[Callable[[], None]]) -> Auditor:
    """Live books against the account, read by its own adapter on a worker thread (the bot's is not shared)."""
    from candlebot.exchanges.kraken import KrakenExchange
    from candlebot.live.audit import Auditor

    from candlebot.live.fleet import FleetBooks, HoldBoard
    from candlebot.live.store import kraken_account

    account = KrakenExchange(settings.venue, credentials=credentials, clock=LiveClock(), state_dir=settings.state_dir)
    closers.append(account.close)
    assert credentials is not None  # live
    path = _store_path(settings)
    fleet = FleetBooks(path.parent, kraken_account(credentials.key_id), path)  # bots on one key share the state dir
    return Auditor(bot=settings.identity.name, pair=desk.pair, account=account, store=desk.store, ledger=desk.ledger,
                   trader=trader, bus=desk.bus, clock=clock, interval_s=settings.audit_interval, fleet=fleet,
                   board=HoldBoard(settings.state_dir, credentials.key_id))


def _store_path(settings: BotSettings) -> Path:
    return settings.state_dir / "bots" / f"{settings.identity.label}.sqlite"


def sink_tags(bot: str, pair: PairInfo, strategy: type[BotStrategy], mode: str) -> SinkTags:
    """What every metric and alert of a bot (or a backtest) is tagged with."""
    return SinkTags(bot=bot, pair=pair.altname, strategy=strategy.name, mode=mode,
                    quote=pair.wsname.rpartition("/")[2] or pair.quote)


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
    library = logging.getLogger("candlebot")  # library loggers (recovery, engine, adapter) share the bot's handlers
    for earlier in list(log.handlers):  # this bot built before in this process (tests, benches): its files are done
        log.removeHandler(earlier)
        library.removeHandler(earlier)
        earlier.close()
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
    library.setLevel(logging.INFO)
    for handler in log.handlers:
        library.addHandler(handler)
    return log
