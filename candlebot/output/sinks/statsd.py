"""Events -> DogStatsD metrics (``datadog.DogStatsd`` over UDP), on a sink worker thread.

UDP is fire-and-forget: the socket is non-blocking (``socket_timeout=0``), a
missing agent costs nothing but lost datagrams, and the client's own
telemetry, buffering thread and background sender are off (the worker is the
one thread that sends).

Each batch the queue hands over is aggregated before anything is sent, the
way the agent would aggregate it anyway: counts are summed per metric and tag
set, gauges keep their last value, distribution values (trade P/L, order
latency) are all kept. Per-candle gauges come from the batch's last
``CandleClosed`` only. The result goes out in as few datagrams as possible
(``open_buffer``/``close_buffer``; 8 KB payloads to a loopback agent, 1432 bytes
elsewhere). A live bot's batches hold one event; a 1M-candle backtest's hold
thousands and still cost a datagram or two: every send releases the GIL and
has to win it back from the trading thread, so fewer sends is what keeps the
worker up with the engine.

Decimal amounts become float here and nowhere earlier.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Sequence

from candlebot.events import (
    BooksAudited,
    BotError,
    BotStarted,
    BotStopped,
    CandleClosed,
    DustLeft,
    MetricsSampled,
    OrderUnfilled,
    PriceRejected,
    Event,
    Heartbeat,
    OrderFailed,
    OrderSkipped,
    TickerPolled,
    TradeClosed,
    TradeOpened,
)
from candlebot.money import ZERO
from candlebot.output.sinks import metrics as m
from candlebot.output.sinks.settings import StatsdAddress

if TYPE_CHECKING:
    from datadog.dogstatsd.base import DogStatsd

LOOPBACK_PAYLOAD = 8192  # the agent reads up to dogstatsd_buffer_size (8192) bytes; loopback does not fragment
REMOTE_PAYLOAD = 1432  # one Ethernet frame

Tags = tuple[str, ...]
NO_TAGS: Tags = ()


def statsd_client(address: StatsdAddress, constant_tags: Sequence[str]) -> DogStatsd:
    """A DogStatsd that sends synchronously from the calling thread, never blocks and starts no thread."""
    from datadog.dogstatsd.base import DogStatsd  # 0.1 s to import: only when metrics are on

    return DogStatsd(
        host=address.host,
        port=address.port,
        constant_tags=list(constant_tags),
        socket_timeout=0,
        max_buffer_len=LOOPBACK_PAYLOAD if _is_loopback(address.host) else REMOTE_PAYLOAD,
        disable_telemetry=True,
        disable_buffering=True,
        disable_aggregation=True,
        disable_background_sender=True,
        track_instance=False,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class StatsdSink:
    """Turns events into metrics (see ``candlebot.output.sinks.metrics``); runs behind a ``QueuedSink``."""

    name = "statsd"

    def __init__(self, client: DogStatsd) -> None:
        self.client = client
        self.pnl = ZERO
        self.fees = ZERO
        self._indicator_tags: dict[str, Tags] = {}
        self._drops: dict[str, int] = {}
        self._drops_lock = threading.Lock()
        self._counts: dict[tuple[str, Tags], int | Decimal] = {}
        self._gauges: dict[tuple[str, Tags], float | int] = {}
        self._values: list[tuple[str, float, Tags]] = []

    def note_drops(self, sink: str, count: int) -> None:
        """Called from any sink worker: sent as ``candlebot.sink.dropped`` with the next batch."""
        with self._drops_lock:
            self._drops[sink] = self._drops.get(sink, 0) + count

    def deliver(self, events: Sequence[Event]) -> None:
        if not events and not self._drops:
            return
        self._aggregate(events)
        self._take_drops()
        self._send()

    def close(self, deadline: float) -> None:
        self.deliver(())
        self.client.close_socket()

    def __repr__(self) -> str:
        return f"StatsdSink({self.client.host}:{self.client.port})"

    # -- one batch -----------------------------------------------------------------

    def _aggregate(self, events: Sequence[Event]) -> None:
        candles = beats = 0
        last_candle: CandleClosed | None = None
        last_beat: Heartbeat | None = None
        for event in events:
            if isinstance(event, CandleClosed):
                candles += 1
                last_candle = event
            elif isinstance(event, TickerPolled):
                self._gauge(m.PRICE.name, float(event.price))
            elif isinstance(event, Heartbeat):
                beats += 1
                last_beat = event
            else:
                self._event(event)
        if last_candle is not None:
            self._count(m.CANDLES_CLOSED.name, candles)
            self._candle(last_candle)
        if last_beat is not None:
            self._count(m.HEARTBEATS.name, beats)
            self._gauge(m.HEARTBEAT_FAILURES.name, last_beat.consecutive_failures)

    def _candle(self, event: CandleClosed) -> None:
        self._gauge(m.CANDLE_CLOSE.name, float(event.candle.close))
        self._gauge(m.CASH.name, float(event.cash))
        self._gauge(m.EQUITY.name, float(event.equity))
        self._gauge(m.POSITIONS_OPEN.name, event.open_trades)
        for name, value in event.indicators.items():
            value = float(value)
            if math.isfinite(value):
                self._gauge(m.INDICATOR.name, value, self._indicator_tag(name))

    def _event(self, event: Event) -> None:
        match event:
            case TradeOpened(trade=trade, latency_s=latency, recovered=recovered):
                self._count(m.TRADES_OPENED.name, 1)
                if recovered:
                    self._count(m.FILLS_RECOVERED.name, 1, ("side:buy",))
                self._fee(trade.open_fill.fee)
                if latency is not None:
                    self._values.append((m.ORDER_LATENCY.name, latency, ("side:buy",)))
            case TradeClosed(trade=trade, latency_s=latency, recovered=recovered, reason=reason):
                pnl: Decimal = trade.pnl if trade.pnl is not None else ZERO
                if recovered:
                    self._count(m.FILLS_RECOVERED.name, 1, ("side:sell",))
                self._count(m.TRADES_CLOSED.name, 1, ("result:win" if pnl > 0 else "result:loss", f"exit:{reason}"))
                self._values.append((m.TRADE_PNL.name, float(pnl), NO_TAGS))
                self.pnl += pnl
                self._gauge(m.PNL_CUMULATIVE.name, float(self.pnl))
                if trade.close_fill is not None:
                    self._fee(trade.close_fill.fee)
                if latency is not None:
                    self._values.append((m.ORDER_LATENCY.name, latency, ("side:sell",)))
            case OrderSkipped(side=side):
                self._count(m.ORDERS_SKIPPED.name, 1, (f"side:{side.value}",))
            case OrderFailed(side=side, error=error):
                self._count(m.ORDERS_FAILED.name, 1, (f"side:{side.value}", f"error:{error}"))
            case OrderUnfilled(side=side):
                self._count(m.ORDERS_UNFILLED.name, 1, (f"side:{side.value}",))
            case PriceRejected(source=source):
                self._count(m.PRICES_REJECTED.name, 1, (f"source:{source}",))
            case DustLeft():
                self._count(m.DUST.name, 1)
            case BotError(kind=kind):
                self._count(m.ERRORS.name, 1, (f"kind:{kind}",))
            case BooksAudited(problems=problems, held=held):
                self._gauge(m.AUDIT_PROBLEMS.name, len(problems))
                self._gauge(m.AUDIT_HOLD.name, int(held))
            case BotStarted():
                self._count(m.BOT_STARTED.name, 1)
            case BotStopped():
                self._count(m.BOT_STOPPED.name, 1)
            case MetricsSampled(counts=counts, gauges=gauges, distributions=distributions):
                for name, value, tags in counts:
                    self._count(name, value, tags)  # type: ignore[arg-type]
                for name, value, tags in gauges:
                    self._gauge(name, value, tags)
                self._values.extend(distributions)

    def _fee(self, fee: Decimal) -> None:
        self.fees += fee
        self._count(m.FEES_PAID.name, fee)
        self._gauge(m.FEES_CUMULATIVE.name, float(self.fees))

    def _count(self, name: str, value: int | Decimal, tags: Tags = NO_TAGS) -> None:
        key = (name, tags)
        self._counts[key] = self._counts.get(key, 0) + value

    def _gauge(self, name: str, value: float | int, tags: Tags = NO_TAGS) -> None:
        self._gauges[(name, tags)] = value

    def _indicator_tag(self, name: str) -> Tags:
        tags = self._indicator_tags.get(name)
        if tags is None:
            tags = self._indicator_tags[name] = (f"indicator:{name}",)
        return tags

    def _take_drops(self) -> None:
        if not self._drops:
            return
        with self._drops_lock:
            drops, self._drops = self._drops, {}
        for sink, count in drops.items():
            self._count(m.SINK_DROPPED.name, count, (f"sink:{sink}",))

    def _send(self) -> None:
        counts, gauges, values = self._counts, self._gauges, self._values
        if not (counts or gauges or values):
            return
        self._counts, self._gauges, self._values = {}, {}, []
        client = self.client
        client.open_buffer()
        try:
            for (name, tags), total in counts.items():
                client.increment(name, total if isinstance(total, int) else float(total), tags=list(tags) or None)
            for (name, tags), value in gauges.items():
                client.gauge(name, value, tags=list(tags) or None)
            for name, value, tags in values:
                client.distribution(name, value, tags=list(tags) or None)
        finally:
            client.close_buffer()
