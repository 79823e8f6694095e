"""A running bot: poll the ticker every ``poll_s``, build candles, drive the engine, survive the exchange.

    poll -> Chart.update(price, volume, now) -> candle closed? -> Engine.candle_closed()

Two clocks: the polls (and back-offs) are scheduled on the monotonic clock, so a
wall-clock step (NTP, a resumed VM) never stops the loop: it goes on every
``poll_s``; candles are named and closed by wall time (UTC boundaries), so after a
step back the forming candle simply stays open until the wall clock reaches its
end again (ticks dated before it are ignored), and after a step forward it closes
at the next poll. The poll never waits for the key's private budget: the lookups
and audits it starts are deferrable or run on a worker thread.

A failed poll is reported and backed off (exponentially, capped), never spun
on; only errors that retrying cannot fix stop the bot: auth, configuration, a
state file that refuses writes, broken books, a bug in the core. Each is
reported (``BotError``) and re-raised; the CLI turns it into one line and a
non-zero exit (``candlebot.cli.stopping``), and the next start recovers.
``stop()`` (from a signal handler) lets the current step finish.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from decimal import Decimal

from candlebot.live.audit import Auditor
from candlebot.live.backfill import Backfill
from candlebot.live.bookfeed import BookFeed
from candlebot.chart import Chart
from candlebot.clock import Clock
from candlebot.trading.engine import Engine
from candlebot.errors import BooksInvariantError, ExchangeError, FatalExchangeError, StateWriteError, TemporaryExchangeError
from candlebot.events import BotError, BotStarted, BotStopped, EventBus, Heartbeat, PriceRejected, TickerPolled
from candlebot.venue import Exchange
from candlebot.trading.pricecheck import MarketReferences, PriceGuard
from candlebot.live.recovery import Reconciler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeSettings:
    bot: str
    pair: str
    strategy: str
    mode: str
    poll_s: float
    max_backoff_s: float = 60.0


class BotRuntime:
    def __init__(
        self, *, settings: RuntimeSettings, exchange: Exchange, chart: Chart, engine: Engine, bus: EventBus,
        clock: Clock, reconciler: Reconciler | None = None, stop: threading.Event | None = None,
        guard: PriceGuard | None = None, references: MarketReferences | None = None, books: BookFeed | None = None,
        auditor: Auditor | None = None, backfill: Backfill | None = None, unfunded: str | None = None,
    ) -> None:
        """``guard`` refuses bad tickers (they never reach the chart); ``references`` learns each sane trade price;
        ``books`` is read just before a poll that closes a candle, for the orders it may bring; ``unfunded``:
        why this bot cannot buy (an account holding no quote), said once after it started as a ``funds`` error: a
        log line, an alert, the last error in status."""
        self.unfunded = unfunded
        self.guard = guard
        self.references = references
        self.books = books
        self._prefetched: int | None = None
        if settings.poll_s <= 0:
            raise ValueError("poll interval must be positive")
        self.settings = settings
        self.exchange = exchange
        self.chart = chart
        self.engine = engine
        self.bus = bus
        self.clock = clock
        self.reconciler = reconciler
        self.auditor = auditor
        self.backfill = backfill  # the candles an outage kept from the chart, from the exchange's OHLC
        self.stopping = stop or threading.Event()
        self.failures = 0
        self.polls = 0
        self._volume_today: Decimal | None = None

    def stop(self) -> None:
        self.stopping.set()

    def run(self, max_polls: int | None = None) -> None:
        """Poll until stopped (or ``max_polls``); the last step always completes."""
        s = self.settings
        self.bus.emit(BotStarted(self.clock.now(), s.bot, s.pair, s.strategy, s.mode))
        if self.unfunded is not None:
            self.bus.emit(BotError(self.clock.now(), "funds", self.unfunded))
        reason = "on request"  # a signal, --stop-after or max_polls: "bot stopped: on request; this run: ..."
        try:
            clock = self.clock
            next_poll = clock.monotonic()  # the schedule never reads the wall clock: a step cannot silence the loop
            while not self.stopping.is_set() and (max_polls is None or self.polls < max_polls):
                delay = self.poll_once()
                next_poll = max(next_poll + s.poll_s, clock.monotonic()) if delay == 0 else clock.monotonic() + delay
                clock.sleep(next_poll - clock.monotonic())
        except FatalExchangeError as exc:
            reason = f"fatal: {exc}"
            raise
        except StateWriteError as exc:  # no intent can be recorded: stop before anything else is sent
            reason = f"fatal: {exc}"
            self.bus.emit(BotError(self.clock.now(), "state", f"{exc}: stopping, no order can be recorded"))
            raise
        except BooksInvariantError as exc:  # crash-only: a person looks before it trades again
            reason = f"fatal: {exc}"
            self.bus.emit(BotError(self.clock.now(), "books", f"{exc}: stopping"))
            raise
        except Exception as exc:  # a bug in the core (the engine already skipped what the strategy's code raised)
            reason = f"fatal: internal error: {type(exc).__name__}: {exc}"
            self.bus.emit(BotError(self.clock.now(), "internal", f"{type(exc).__name__}: {exc}: stopping"))
            raise
        finally:
            self.bus.emit(BotStopped(self.clock.now(), reason))

    def poll_once(self) -> float:
        """One poll. Returns 0, or the back-off delay after a failure."""
        self.polls += 1
        if self.reconciler is not None and self.reconciler.pending:
            self.reconciler.settle()
        if self.auditor is not None:
            self.auditor.poll()
        try:
            forming = self.chart.forming
            if (self.books is not None and forming is not None and not self.failures and forming.time != self._prefetched
                    and self.clock.now() >= forming.time + self.chart.period):
                self._prefetched = forming.time  # once per candle, and never while the exchange is failing
                self.books.prefetch()  # this poll closes the candle: the strategy's orders need the book
            ticker = self.exchange.ticker(self.settings.pair)
            problem = self.guard.ticker_problem(ticker) if self.guard is not None else None
            if problem is not None:
                return self._rejected(problem)
            price = float(ticker.last)
            if not (math.isfinite(price) and price > 0) or ticker.volume_today < 0:
                raise TemporaryExchangeError(f"impossible ticker: last {ticker.last}, volume today {ticker.volume_today}")
            if self.backfill is not None and self.backfill.catch_up(self.clock.now()):
                self._volume_today = None  # the backfilled bars hold the outage's volume: not this candle's
        except FatalExchangeError:
            raise
        except ExchangeError as exc:
            return self._failed(exc)
        now = self.clock.now()
        if self.references is not None:
            self.references.last_trade = ticker.last
        if self.failures:
            log.info("exchange reachable again after %d failed polls", self.failures)
            self.failures = 0
        closed = self.chart.update(price, self._volume_since_last_poll(ticker.volume_today), now)
        if closed is not None:
            self.engine.candle_closed()  # first: orders must not wait for the ticker line to be logged
        self.bus.emit(TickerPolled(now, price, self.chart.forming))
        self.bus.emit(Heartbeat(now, 0))
        return 0.0

    def _rejected(self, problem: str) -> float:
        """A bad tick: reported, kept out of the chart; the exchange answered, so the loop goes on at its pace."""
        now = self.clock.now()
        self.bus.emit(PriceRejected(now, "ticker", problem))
        self.bus.emit(Heartbeat(now, 0))
        return 0.0

    def _failed(self, exc: ExchangeError) -> float:
        self.failures += 1
        now = self.clock.now()
        if self.failures == 1 or self.failures % 10 == 0:
            self.bus.emit(BotError(now, type(exc).__name__, f"ticker poll failed ({self.failures} in a row): {exc}"))
        self.bus.emit(Heartbeat(now, self.failures))
        retry_after = getattr(exc, "retry_after", None) or 0.0
        return max(min(self.settings.poll_s * 2 ** min(self.failures, 16), self.settings.max_backoff_s), retry_after)

    def _volume_since_last_poll(self, volume_today: Decimal) -> float:
        previous, self._volume_today = self._volume_today, volume_today
        if previous is None:
            return 0.0
        return float(volume_today - previous) if volume_today >= previous else float(volume_today)  # a new UTC day
