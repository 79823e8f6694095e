"""A running bot: the mode's venue around the exchange adapter (paper fills on live prices, paper fills of
orders Kraken validated, or real orders), its books reloaded from its state file (start-up is recovery), its
indicators warmed up on the venue's history, all handed to the runtime that polls the ticker.

    chart -> indicators -> strategy -> trader -> exchange -> ledger -> events (bus) -> outputs
             '------------------- Engine: one tick per closed candle -------------------'

The exchange adapter comes from a venue factory (``venues.kraken_venue`` unless a test injects another) and
always gets the bot's safety policy (``venues.bot_policy``); the clock and the stop event are the caller's.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from candlebot.assembly.outputs import SinkStarter, attach_outputs, no_sinks, sink_tags
from candlebot.assembly.settings import BotSettings
from candlebot.assembly.strategy import strategy_on
from candlebot.assembly.venues import VenueFactory, bot_policy, kraken_venue, mode_venue
from candlebot.chart import Chart
from candlebot.clock import Clock
from candlebot.errors import ConfigError, FatalExchangeError, TemporaryExchangeError
from candlebot.events import EventBus, TickerPolled
from candlebot.identity import BotIdentity
from candlebot.live.bookfeed import BookFeed
from candlebot.live.fees import AccountFee
from candlebot.money import to_decimal
from candlebot.output.logsink import ClockFormatter
from candlebot.pair import PairInfo
from candlebot.trading.engine import Engine
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.pricecheck import MarketReferences, PriceGuard
from candlebot.trading.protection import Protection
from candlebot.trading.trader import Trader

if TYPE_CHECKING:  # a running bot's parts, imported where it is built: a backtest never loads requests or SQLite
    from candlebot.exchanges.kraken import KrakenCredentials
    from candlebot.exchanges.live import LiveExchange
    from candlebot.exchanges.paper import PaperExchange
    from candlebot.live.accountread import SharedAccount
    from candlebot.live.audit import Auditor
    from candlebot.live.crashes import CrashRecord
    from candlebot.live.runtime import BotRuntime
    from candlebot.live.store import BotStore, StoredBooks
    from candlebot.output.sinks.queued import QueuedSink

T = TypeVar("T")
DEFAULT_CASH = Decimal("10000")


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
    unfunded: str | None = None  # why no buy can be made, said once at start (log line and alert)


def build_bot(settings: BotSettings, clock: Clock, stop: threading.Event, sinks: SinkStarter = no_sinks, *,
              venue: VenueFactory = kraken_venue) -> BotProcess:
    """A running bot, recovered from its state file and warmed up; temporary Kraken failures are retried (and
    reported) until ``stop``. Raises ConfigError for what a person must fix.

    ``venue`` makes the exchange adapter (the Kraken adapter; tests pass the simulator's URL in the settings, or
    a factory of an in-memory exchange); it always gets ``bot_policy``, whoever made the settings."""
    from candlebot.exchanges.kraken import load_credentials

    closers: list[Callable[[], None]] = []
    try:
        credentials = load_credentials(settings.key_file) if settings.mode != "paper" else None
    except ConfigError as exc:
        raise ConfigError(f"--{settings.mode} needs a Kraken API key: {exc}") from None
    started = False
    try:
        store = _claim_books(settings, credentials, clock, closers, lambda: started)  # before any exchange call
        process = _assemble(settings, clock, stop, sinks, venue, credentials, store, closers)
        started = True
        return process
    except BaseException:
        for close in reversed(closers):  # the locks above all: a failed start leaves the bot free to start again
            try:
                close()
            except Exception:
                pass
        raise


def _assemble(settings: BotSettings, clock: Clock, stop: threading.Event, sinks: SinkStarter, venue: VenueFactory,
              credentials: KrakenCredentials | None, store: BotStore, closers: list[Callable[[], None]]) -> BotProcess:
    """The bot around its claimed books: the adapter, the venue, the trader, the engine, the audit, the runtime."""
    from candlebot.live.backfill import Backfill
    from candlebot.live.recovery import Reconciler
    from candlebot.live.runtime import BotRuntime, RuntimeSettings
    from candlebot.live.userrefs import UserrefSequence

    kraken = venue(bot_policy(settings.venue), credentials, settings.state_dir)
    _close_with(kraken, closers)
    log = _bot_logger(settings.identity, clock, settings.log_dir, settings.quiet)
    retry = _Retry(log, stop, clock)
    shared = _shared_account(settings, venue, credentials, clock, closers) if settings.mode == "live" else None
    desk = _open_desk(settings, kraken, clock, retry, store, shared)
    secrets = (credentials.key, credentials.secret) if credentials is not None else ()
    tags = sink_tags(settings.identity.label, desk.pair, settings.strategy, settings.mode)
    closers.append(attach_outputs(desk.bus, tags, log=log, diary=_diary(settings, desk, clock), sinks=sinks,
                                  secrets=secrets))
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
    auditor = _auditor(settings, desk, trader, shared, credentials, clock) if shared is not None else None
    if auditor is not None:
        reconciler.on_absent = auditor.recheck
    runtime = BotRuntime(settings=RuntimeSettings(settings.identity.label, desk.pair.altname, settings.strategy.name,
                                                  settings.mode, settings.poll_s),
                         exchange=desk.exchange, chart=chart, engine=engine, bus=desk.bus, clock=clock,
                         reconciler=reconciler, stop=stop, guard=guard, references=references, books=book_feed,
                         auditor=auditor, backfill=Backfill(desk.exchange, desk.pair.name, chart, engine),
                         unfunded=desk.unfunded)
    return BotProcess(runtime, desk.store, log, closers, trader, desk.ledger)


def _claim_books(settings: BotSettings, credentials: KrakenCredentials | None, clock: Clock,
                 closers: list[Callable[[], None]], started: Callable[[], bool]) -> BotStore:
    """The bot's lock (one process per bot) and its state file, checked to be this bot's books on this account.
    A state file this start made is removed again if the start is refused before any order (a wrong pair, key or
    flag): ``candlebot status`` would list it as a bot that never ran, with no reason."""
    from candlebot.live.keyshare import KeyShare
    from candlebot.live.lock import BotLock
    from candlebot.live.store import PAPER_ACCOUNT, BotStore, kraken_account

    path = _store_path(settings)
    if credentials is not None:  # one state dir per key on this machine (its nonce file, the fleet's audit)
        share = KeyShare(credentials.key_id, settings.state_dir).claim()
        closers.append(share.release)
    lock = BotLock.beside(path).acquire(f"bot {settings.identity.name!r}")
    closers.append(lock.release)
    crash_record(settings, clock.monotonic).start(f"bot {settings.identity.name!r}")  # under the lock, before all else
    if not path.exists() and not path.is_symlink():  # runs after the store is closed, still under the lock
        closers.append(lambda: None if started() else _discard_unused(path))
    store = BotStore(path, now=clock.now)
    closers.append(store.close)
    account = kraken_account(credentials.key_id) if settings.mode == "live" and credentials is not None else PAPER_ACCOUNT
    store.claim(name=settings.identity.name, bot_id=settings.identity.bot_id, account=account)
    return store


def _discard_unused(path: Path) -> None:
    """Remove a state file a refused start made, unless it holds an order (then it is books, whatever happened)."""
    import sqlite3
    from contextlib import closing

    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]:
                return
    except sqlite3.Error:
        return  # not readable as books: leave it for a person to look at
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


def _open_desk(settings: BotSettings, kraken: Any, clock: Clock, retry: _Retry, store: BotStore,
               shared: SharedAccount | None) -> _Desk:
    """The pair, the fee, the books reloaded from the state file, and the mode's venue around the adapter.

    A live bot with ``--cash`` reads nothing of the account here: its start-up audit reads it (or uses the read of
    another bot on the key) off the poll loop and hands the venue its balances before the first order; without
    ``--cash`` the quote balance is the budget, read here from the key's shared account read."""
    pair = retry("read the pair's metadata", lambda: kraken.pair_info(settings.pair))
    fees = None
    if settings.mode in ("live", "validate"):  # the account's own fee tier (TradeVolume), shown at start
        fees = AccountFee(_fee_reader(kraken, pair, shared, clock), pair, flag=settings.fee, flag_text=settings.fee_text,
                          log=retry.log)
        fee_rate = fees.start(live=settings.mode == "live").rate
    else:
        fee_rate = settings.fee if settings.fee is not None else pair.taker_fee
    account: dict[str, Decimal] | None = None
    # validate has a key too, and the account says what there is to trade with unless --cash does
    if shared is not None and settings.cash is None:
        account = retry("read the account balance", lambda: _start_balances(shared, kraken))
    elif settings.mode == "validate" and settings.cash is None:
        account = retry("read the account balance", kraken.balances)
    if settings.cash is not None:
        start_cash = settings.cash
    elif account is not None:
        start_cash = account.get(pair.quote, Decimal(0))
        if start_cash == 0 and shared is not None:  # the key's shared read may be up to a minute old: a deposit since?
            account = retry("read the account balance", kraken.balances)
            start_cash = account.get(pair.quote, Decimal(0))
    else:
        start_cash = DEFAULT_CASH
    cash = store.bind(pair=pair.name, start_cash=start_cash, base=pair.base)
    books = store.load()
    ledger = Ledger(pair, Decimal(store.meta("start_cash") or cash))
    ledger.restore(books.trades, books.cash)
    exchange = mode_venue(settings.mode, kraken, pair, clock, fee_rate=fee_rate,
                          balances=account if settings.mode == "live" else {pair.quote: ledger.cash, pair.base: ledger.position})
    return _Desk(pair, fee_rate, store, books, ledger, exchange, fees=fees,
                 unfunded=_unfunded(settings.mode, pair, ledger, account))


def _unfunded(mode: str, pair: PairInfo, ledger: Ledger, account: dict[str, Decimal] | None) -> str | None:
    """A bot whose budget is the account's quote (no ``--cash``), on an account holding none and with nothing to
    sell: its every buy would only be skipped as "volume 0 below ordermin", so it says why once, at start."""
    if account is None or account.get(pair.quote, Decimal(0)) > 0 or ledger.cash > 0 or ledger.position > 0:
        return None
    quote = pair.wsname.rpartition("/")[2] or pair.quote
    fix = (f"give it a paper budget with --cash AMOUNT or fund the account with {quote}" if mode == "validate"
           else f"fund the account with {quote}") + ", then start it again (books that never traded take the new cash)"
    return f"the account holds 0 {quote}, so no buy can be made: {fix}"


def _fee_reader(kraken: Any, pair: PairInfo, shared: SharedAccount | None, clock: Clock) -> Callable[[bool], Any]:
    """The account's TradeVolume on ``pair``: a live bot's is shared by every bot of its key (``SharedFee``)."""
    def read(deferrable: bool) -> Any:
        return kraken.account_fees(pair.name, deferrable=deferrable)

    if shared is None:
        return read
    from candlebot.live.feeshare import SharedFee

    return SharedFee(shared.folder, shared.key_id, pair.name, read, clock.monotonic)


def _diary(settings: BotSettings, desk: _Desk, clock: Clock) -> QueuedSink:
    """The diary that report, status and replay read, written by a worker thread on a second connection."""
    from candlebot.live.diary import Diary
    from candlebot.live.store import BotStore
    from candlebot.output.sinks.queued import QueuedSink

    pair = desk.pair
    decimals = {"price_decimals": pair.pair_decimals, "volume_decimals": pair.lot_decimals,
                "cost_decimals": pair.cost_decimals}
    return QueuedSink(Diary(BotStore(_store_path(settings), now=clock.now, create=False), settings.period,
                            {**{k: str(v) for k, v in decimals.items()}, **_replay_facts(settings, desk)}),
                      capacity=5_000, wake_at=64)


def _close_with(adapter: Any, closers: list[Callable[[], None]]) -> None:
    """The adapter's connections close with the bot (an in-memory exchange has none)."""
    close = getattr(adapter, "close", None)
    if close is not None:
        closers.append(close)


def _replay_facts(settings: BotSettings, desk: _Desk) -> dict[str, str]:
    """What ``candlebot replay`` needs to backtest the bot's own candles as the bot traded them."""
    params = [f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in settings.params.as_dict().items()]
    spec = f"{settings.strategy.__module__}:{settings.strategy.__qualname__}"
    return {"params": json.dumps(params), "strategy_spec": spec, "fee_rate": str(desk.fee_rate), "max_slippage": str(settings.max_slippage),
            "stake": "" if settings.stake is None else str(settings.stake)}


def _warmed_up_engine(settings: BotSettings, desk: _Desk, chart: Chart, trader: Trader, clock: Clock,
                      log: logging.Logger, retry: _Retry) -> Engine:
    """The strategy on the engine, its indicators warmed up on the venue's history (``History``)."""
    indicators, strategy, orders = strategy_on(settings, chart, trader)
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


def _shared_account(settings: BotSettings, venue: VenueFactory, credentials: KrakenCredentials | None, clock: Clock,
                    closers: list[Callable[[], None]]) -> SharedAccount:
    """The key's account reads, shared by its bots (``candlebot.live.accountread``), through an adapter of their
    own: the audit reads on a worker thread, and the bot's adapter is not shared between threads."""
    from candlebot.live.accountread import SharedAccount
    from candlebot.live.fleet import FleetBooks
    from candlebot.live.store import kraken_account

    account = venue(bot_policy(settings.venue), credentials, settings.state_dir)
    _close_with(account, closers)
    assert credentials is not None  # live
    path = _store_path(settings)
    fleet = FleetBooks(path.parent, kraken_account(credentials.key_id), path)  # bots on one key share the state dir
    return SharedAccount(settings.state_dir / "fleet", credentials.key_id, account, fleet, clock)


def _start_balances(shared: SharedAccount, kraken: Any) -> dict[str, Decimal]:
    """The account's balances at start from the key's shared read (the first audit then needs no read of its
    own); a state file of the fleet that cannot be read now leaves that to the audit, and reads Balance alone."""
    import sqlite3

    from candlebot.live.audit import FIRST_WINDOW_S

    try:
        return shared.read(lambda now: now - FIRST_WINDOW_S).balances
    except (sqlite3.Error, OSError):
        return kraken.balances()


def _auditor(settings: BotSettings, desk: _Desk, trader: Trader, shared: SharedAccount,
             credentials: KrakenCredentials | None, clock: Clock) -> Auditor:
    """Live books against the account (the fleet's), read on a worker thread; the venue's first balances are the
    start-up audit's read."""
    from candlebot.live.audit import Auditor
    from candlebot.live.fleet import HoldBoard

    from candlebot.exchanges.live import LiveExchange

    assert credentials is not None  # live
    started = desk.exchange.start_balances if isinstance(desk.exchange, LiveExchange) else None
    return Auditor(bot=settings.identity.name, pair=desk.pair, shared=shared,
                   board=HoldBoard(settings.state_dir, credentials.key_id), store=desk.store, ledger=desk.ledger,
                   trader=trader, bus=desk.bus, clock=clock, interval_s=settings.audit_interval, started=started)


def crash_record(settings: BotSettings, monotonic: Callable[[], float]) -> CrashRecord:
    """The bot's crash count beside its state file (``candlebot.live.crashes``): marked at start, cleared by the
    CLI when the process ends by design (exit 0 or 2)."""
    from candlebot.live.crashes import CrashRecord

    return CrashRecord.beside(_store_path(settings), monotonic, limit=settings.crash_limit,
                              window_s=settings.crash_window_s)


def _store_path(settings: BotSettings) -> Path:
    return settings.state_dir / "bots" / f"{settings.identity.label}.sqlite"


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
