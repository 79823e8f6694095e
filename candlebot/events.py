"""What happened in a bot, as typed events that sinks (log, StatsD, Slack, tests) consume.

The engine and the trader only emit; they never know who listens. A sink that
raises is reported once and skipped: it never stops trading. Sinks that talk to
the network wrap themselves in a bounded queue (``candlebot.output.sinks``) so that a
slow one never blocks the trading thread either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Mapping, Protocol, get_args

from candlebot.candle import Candle
from candlebot.venue import Side
from candlebot.trade import BotTrade

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BotStarted:
    time: float
    bot: str
    pair: str
    strategy: str
    mode: str


@dataclass(frozen=True, slots=True)
class BotStopped:
    time: float
    reason: str


@dataclass(frozen=True, slots=True)
class TickerPolled:
    """A ticker poll (paper/live): the forming candle and the heartbeat of a running bot."""

    time: float
    price: float
    forming: Candle | None


@dataclass(frozen=True, slots=True)
class CandleClosed:
    """A candle closed; books as they stand at its close, before the strategy ticks on it.

    Built only when some sink listens for it (it costs time in long backtests).
    """

    time: float
    candle: Candle
    indicators: Mapping[str, float]
    cash: Decimal
    equity: Decimal
    open_trades: int


@dataclass(frozen=True, slots=True)
class TradeOpened:
    """A buy fill was booked; ``recovered``: found by a userref lookup (restart or lost reply), not as the order's reply."""

    time: float
    trade: BotTrade
    latency_s: float | None = None
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class TradeClosed:
    """A sell fill was booked; ``recovered`` as for ``TradeOpened``; ``reason``: why it was sold (``signal``, ``stop_loss``)."""

    time: float
    trade: BotTrade
    latency_s: float | None = None
    recovered: bool = False
    reason: str = "signal"


@dataclass(frozen=True, slots=True)
class PositionsShown:
    """After a candle's tick: the trades to show (every open one, then those closed since the last showing) marked at
    that candle's close; the log writes them as the original bot's ledger lines.

    Built only when some sink listens for it (it costs time in long backtests).
    """

    time: float
    mark: Decimal
    trades: tuple[BotTrade, ...]


@dataclass(frozen=True, slots=True)
class OrderSkipped:
    """An order the trader decided not to send (cap, minimums, not enough cash)."""

    time: float
    side: Side
    reason: str


@dataclass(frozen=True, slots=True)
class OrderFailed:
    """An order the exchange refused, or whose outcome is unknown and will be reconciled."""

    time: float
    side: Side
    volume: Decimal
    userref: int
    error: str
    message: str


@dataclass(frozen=True, slots=True)
class OrderUnfilled:
    """A protected order that executed nothing: the book held no volume within its protection price."""

    time: float
    side: Side
    volume: Decimal
    userref: int
    limit: Decimal | None


@dataclass(frozen=True, slots=True)
class PriceRejected:
    """A ticker or order book that is impossible or inconsistent; no order was sent on it."""

    time: float
    source: str  # "ticker" or "book"
    reason: str


@dataclass(frozen=True, slots=True)
class DustLeft:
    """An open remainder below the pair's ordermin/costmin: kept in the books, never sent as an order (reported once)."""

    time: float
    trade: BotTrade


@dataclass(frozen=True, slots=True)
class BotError:
    """Something went wrong that the bot survives: a strategy bug, an exchange outage."""

    time: float
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class BooksAudited:
    """The books compared with the account (live): ``problems`` is empty when they agree.

    ``held``: the bot sends no order (closes included) until the hold lifts (``candlebot.live.audit``);
    ``changed``: the problems or the hold differ from the last audit's (alerts are sent once, on a change).
    """

    time: float
    booked_volume: Decimal
    account_volume: Decimal
    problems: tuple[str, ...]
    held: bool
    changed: bool = True


@dataclass(frozen=True, slots=True)
class Heartbeat:
    time: float
    consecutive_failures: int = 0


Sample = tuple[str, float, tuple[str, ...]]  # metric name, value, tags


@dataclass(frozen=True, slots=True)
class MetricsSampled:
    """A process's own pass over its counters (the collector's, once a second), for StatsD as it is: ``counts``
    are summed, ``gauges`` keep their last value, every one of ``distributions`` is sent."""

    time: float
    counts: tuple[Sample, ...] = ()
    gauges: tuple[Sample, ...] = ()
    distributions: tuple[Sample, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedAlert:
    """A data feed needs a person's attention, or no longer does (the collector's unsynced books)."""

    time: float
    text: str


Event = (
    BotStarted
    | BotStopped
    | TickerPolled
    | CandleClosed
    | TradeOpened
    | TradeClosed
    | PositionsShown
    | OrderSkipped
    | OrderFailed
    | OrderUnfilled
    | PriceRejected
    | DustLeft
    | BotError
    | BooksAudited
    | Heartbeat
    | MetricsSampled
    | FeedAlert
)


class Sink(Protocol):
    def __call__(self, event: Event) -> None: ...


@dataclass
class EventBus:
    """Fans events out to the sinks subscribed to their type."""

    _by_type: dict[type, list[Callable[[Event], None]]] = field(default_factory=dict)
    failures: int = 0

    def subscribe(self, sink: Sink, *event_types: type) -> None:
        """Deliver events of ``event_types`` (all types when none are named) to ``sink``."""
        for event_type in event_types or get_args(Event):
            self._by_type.setdefault(event_type, []).append(sink)

    def wants(self, event_type: type) -> bool:
        """Whether building an event of this type is worth it (per-candle events cost time in backtests)."""
        return bool(self._by_type.get(event_type))

    def emit(self, event: Event) -> None:
        for sink in self._by_type.get(type(event), ()):
            try:
                sink(event)
            except Exception:  # a sink never stops trading
                self.failures += 1
                if self.failures <= 3 or self.failures % 1000 == 0:
                    log.exception("event sink %r failed (%d failures so far)", sink, self.failures)
