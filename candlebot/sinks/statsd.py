"""Events -> DogStatsD metrics (``datadog.DogStatsd`` over UDP), on a sink worker thread.

UDP is fire-and-forget: the socket is non-blocking (``socket_timeout=0``), a
missing agent costs nothing but lost datagrams, and the client's own
telemetry, buffering thread and background sender are off (the worker is the
one thread that sends). Each batch goes out as few datagrams as possible
(``open_buffer``/``close_buffer``).

Per-candle and per-poll events are folded per batch: ``candles.closed`` is
incremented by the number of candles in the batch and the gauges (close, cash,
equity, indicators) are set from the last one. DogStatsD keeps only the last
gauge value of each 10 s flush anyway, so nothing visible is lost, and a
1M-candle backtest costs the worker a few datagrams per batch instead of
several per candle. Trades, failures and errors are sent one by one, in order.

Decimal amounts become float here and nowhere earlier.
"""

from __future__ import annotations

import math
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Sequence

from candlebot.events import (
    BotError,
    BotStarted,
    BotStopped,
    CandleClosed,
    Event,
    Heartbeat,
    OrderFailed,
    OrderSkipped,
    TickerPolled,
    TradeClosed,
    TradeOpened,
)
from candlebot.money import ZERO
from candlebot.sinks import metrics as m
from candlebot.sinks.address import StatsdAddress

if TYPE_CHECKING:
    from datadog.dogstatsd.base import DogStatsd

def statsd_client(address: StatsdAddress, constant_tags: Sequence[str]) -> DogStatsd:
    """A DogStatsd that sends synchronously from the calling thread, never blocks and starts no thread."""
    from datadog.dogstatsd.base import DogStatsd  # 0.1 s to import: only when metrics are on

    return DogStatsd(
        host=address.host,
        port=address.port,
        constant_tags=list(constant_tags),
        socket_timeout=0,
        disable_telemetry=True,
        disable_buffering=True,
        disable_aggregation=True,
        disable_background_sender=True,
        track_instance=False,
    )


class StatsdSink:
    """Turns events into metrics (see ``candlebot.sinks.metrics``); runs behind a ``QueuedSink``."""

    name = "statsd"

    def __init__(self, client: DogStatsd) -> None:
        self.client = client
        self.pnl = ZERO
        self.fees = ZERO
        self._indicator_tags: dict[str, list[str]] = {}
        self._drops: dict[str, int] = {}
        self._drops_lock = threading.Lock()

    def note_drops(self, sink: str, count: int) -> None:
        """Called from any sink worker: sent as ``candlebot.sink.dropped`` with the next batch."""
        with self._drops_lock:
            self._drops[sink] = self._drops.get(sink, 0) + count

    def deliver(self, events: Sequence[Event]) -> None:
        if not events and not self._drops:
            return
        client = self.client
        client.open_buffer()
        try:
            self._send(events)
            self._send_drops()
        finally:
            client.close_buffer()

    def close(self, deadline: float) -> None:
        self.deliver(())
        self.client.close_socket()

    def __repr__(self) -> str:
        return f"StatsdSink({self.client.host}:{self.client.port})"

    # -- per batch ---------------------------------------------------------------

    def _send(self, events: Sequence[Event]) -> None:
        candles = beats = 0
        last_candle: CandleClosed | None = None
        last_ticker: TickerPolled | None = None
        last_beat: Heartbeat | None = None
        for event in events:
            kind = type(event)
            if kind is CandleClosed:
                candles += 1
                last_candle = event  # type: ignore[assignment]
            elif kind is TickerPolled:
                last_ticker = event  # type: ignore[assignment]
            elif kind is Heartbeat:
                beats += 1
                last_beat = event  # type: ignore[assignment]
            else:
                self._one(event)
        client = self.client
        if last_ticker is not None:
            client.gauge(m.PRICE.name, float(last_ticker.price))
        if last_candle is not None:
            client.increment(m.CANDLES_CLOSED.name, candles)
            self._candle(last_candle)
        if last_beat is not None:
            client.increment(m.HEARTBEATS.name, beats)
            client.gauge(m.HEARTBEAT_FAILURES.name, last_beat.consecutive_failures)

    def _candle(self, event: CandleClosed) -> None:
        client = self.client
        client.gauge(m.CANDLE_CLOSE.name, float(event.candle.close))
        client.gauge(m.CASH.name, float(event.cash))
        client.gauge(m.EQUITY.name, float(event.equity))
        client.gauge(m.POSITIONS_OPEN.name, event.open_trades)
        for name, value in event.indicators.items():
            value = float(value)
            if math.isfinite(value):
                client.gauge(m.INDICATOR.name, value, tags=self._indicator_tag(name))

    def _one(self, event: Event) -> None:
        client = self.client
        match event:
            case TradeOpened(trade=trade, latency_s=latency):
                client.increment(m.TRADES_OPENED.name)
                self._fee(trade.open_fill.fee)
                if latency is not None:
                    client.distribution(m.ORDER_LATENCY.name, latency, tags=["side:buy"])
            case TradeClosed(trade=trade, latency_s=latency):
                pnl: Decimal = trade.pnl if trade.pnl is not None else ZERO
                client.increment(m.TRADES_CLOSED.name, tags=["result:win" if pnl > 0 else "result:loss"])
                client.distribution(m.TRADE_PNL.name, float(pnl))
                self.pnl += pnl
                client.gauge(m.PNL_CUMULATIVE.name, float(self.pnl))
                if trade.close_fill is not None:
                    self._fee(trade.close_fill.fee)
                if latency is not None:
                    client.distribution(m.ORDER_LATENCY.name, latency, tags=["side:sell"])
            case OrderSkipped(side=side):
                client.increment(m.ORDERS_SKIPPED.name, tags=[f"side:{side.value}"])
            case OrderFailed(side=side, error=error):
                client.increment(m.ORDERS_FAILED.name, tags=[f"side:{side.value}", f"error:{error}"])
            case BotError(kind=kind):
                client.increment(m.ERRORS.name, tags=[f"kind:{kind}"])
            case BotStarted():
                client.increment(m.BOT_STARTED.name)
            case BotStopped():
                client.increment(m.BOT_STOPPED.name)

    def _fee(self, fee: Decimal) -> None:
        self.fees += fee
        self.client.increment(m.FEES_PAID.name, float(fee))
        self.client.gauge(m.FEES_CUMULATIVE.name, float(self.fees))

    def _indicator_tag(self, name: str) -> list[str]:
        tags = self._indicator_tags.get(name)
        if tags is None:
            tags = self._indicator_tags[name] = [f"indicator:{name}"]
        return tags

    def _send_drops(self) -> None:
        if not self._drops:
            return
        with self._drops_lock:
            drops, self._drops = self._drops, {}
        for sink, count in drops.items():
            self.client.increment(m.SINK_DROPPED.name, count, tags=[f"sink:{sink}"])
