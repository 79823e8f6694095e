"""Events as the original bot's log lines: the ticker line per candle or poll, the ledger lines after every candle,
warnings for failed orders."""

from __future__ import annotations

import logging
import time

from candlebot.clock import Clock
from candlebot.events import (
    BotError,
    BotStarted,
    BotStopped,
    CandleClosed,
    DustLeft,
    Event,
    EventBus,
    Heartbeat,
    OrderFailed,
    OrderSkipped,
    OrderUnfilled,
    PositionsShown,
    PriceRejected,
    TickerPolled,
    TradeClosed,
    TradeOpened,
)
from candlebot.output.lines import ledger_line, plural, ticker_line
from candlebot.output.skips import SkipTally

LOG_FORMAT = "%(asctime)s:%(levelname)s: %(message)s"


class ClockFormatter(logging.Formatter):
    """Stamps records with the injected clock's time (market time in a backtest), in UTC."""

    def __init__(self, clock: Clock, fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        self.clock = clock

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging API)
        now = self.clock.now()
        seconds = int(now)
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + f",{int((now - seconds) * 1000):03d}"


class LogSink:
    """Writes events to a logger; subscribe it with ``attach``."""

    def __init__(self, log: logging.Logger, *, candles: bool = True) -> None:
        self.log = log
        self.candles = candles
        self.strategy_errors = 0
        self.skips = SkipTally()  # for the line that says the bot stopped: what this run did, next to why it stopped
        self.opened = self.closed = 0
        self.failed = 0  # orders refused or left unknown after their retries: a run that only failed is not idle

    def attach(self, bus: EventBus) -> None:
        """Subscribe to what this logger would actually write (a quiet backtest builds no INFO events)."""
        types: list[type] = [OrderFailed, PriceRejected, DustLeft, BotError, Heartbeat]
        if self.log.isEnabledFor(logging.INFO):
            types += [BotStarted, BotStopped, TickerPolled, PositionsShown, OrderSkipped, OrderUnfilled, TradeOpened,
                      TradeClosed]
            if self.candles:
                types.append(CandleClosed)
        bus.subscribe(self, *types)

    def __call__(self, event: Event) -> None:
        log = self.log
        match event:
            case CandleClosed(candle=candle):
                log.info("%s", ticker_line(candle, candle.close, closed=True))
            case TickerPolled(price=price, forming=forming):
                log.info("%s", ticker_line(forming, price))
            case PositionsShown(mark=mark, trades=trades):
                for trade in trades:
                    log.info("%s", ledger_line(trade, mark))
            case TradeOpened(trade=trade, recovered=recovered):
                self.opened += 1
                log.debug("trade %d opened%s: %s %s @ %s", trade.trade_id, " (recovered)" if recovered else "", trade.volume,
                          trade.open_fill.pair, trade.entry_price)
            case TradeClosed(trade=trade, recovered=recovered):
                self.closed += 1
                log.debug("trade %d closed%s: P/L %s", trade.trade_id, " (recovered)" if recovered else "", trade.pnl)
            case OrderSkipped(side=side, reason=reason):
                self.skips(event)
                log.info("%s order skipped: %s", side.value, reason)
            case OrderFailed(side=side, volume=volume, userref=userref, error=error, message=message):
                self.failed += 1
                log.warning("%s order of %s (userref %d) failed: %s: %s", side.value, volume, userref, error, message)
            case OrderUnfilled(side=side, volume=volume, userref=userref, limit=limit):
                log.info("%s order of %s (userref %d) executed nothing within its protection price %s", side.value, volume, userref, limit)
            case PriceRejected(source=source, reason=reason):
                log.warning("price rejected (%s): %s", source, reason)
            case DustLeft(trade=trade):
                log.warning("trade %d: %s left as dust (below the order minimum): kept, never sold", trade.trade_id, trade.volume)
            case BotError(kind="strategy", message=message):
                self.strategy_errors += 1
                if _worth_a_line(self.strategy_errors):  # a rule failing on every candle must not flood the log
                    count = self.strategy_errors
                    log.error("strategy error: %s%s", message, "" if count < 3 else " (3 so far: from now on only the "
                              "10th, 100th, ... are logged)" if count == 3 else f" ({count} so far)")
            case BotError(kind="funds", message=message):  # a start warning: the bot runs, but cannot buy
                log.warning("funds: %s", message)
            case BotError(kind=kind, message=message):
                log.error("%s error: %s", kind, message)
            case BotStarted(bot=bot, pair=pair, strategy=strategy, mode=mode):
                log.info("bot %s started: %s %s (%s)", bot, pair, strategy, mode)
            case BotStopped(reason=reason):
                skips = self.skips
                # "errors in the strategy", not "strategy error": that is the line of an error itself (grep for it)
                log.info("bot stopped: %s; this run: %s opened, %d closed, %s skipped (%d below Kraken's order minimum), "
                         "%s failed, %s in the strategy", reason, plural(self.opened, "trade"), self.closed,
                         plural(skips.total, "order"), skips.below_minimum, plural(self.failed, "order"),
                         plural(self.strategy_errors, "error"))
            case Heartbeat(consecutive_failures=failures) if failures:
                log.warning("heartbeat: %d consecutive exchange failures", failures)


def _worth_a_line(count: int) -> bool:
    """The first three, then the 10th, 100th, 1000th ... (metrics and the report count every one)."""
    if count <= 3:
        return True
    while count % 10 == 0:
        count //= 10
    return count == 1
