"""A running bot's diary: the candles it saw, the orders it did not send or that failed, and its status.

    trading thread: bus.emit(event) -> QueuedSink (a deque append, never waits)
    worker thread:  Diary.deliver(batch) -> BotStore.record(...) on its own connection, one transaction per batch

Fills and intents are the books themselves (``candlebot.live.store``, written before
and after each order on the trading thread); the diary only adds what
``candlebot report`` and ``candlebot status`` show around them. Losing its last
fraction of a second to a ``kill -9`` is acceptable, so it never slows an order.
The candle still forming is kept too (replaced on each batch, then by the closed
candle), so a fill never lacks its candle in the report. It stays bounded: candles older than ``keep_candles`` periods and all but the
newest ``keep_events`` events are dropped as new ones arrive. The status row is
written at most once per batch (the queue's tick, 0.1 s), and only when a poll,
an error (a failed order is one) or a start/stop changed it.
"""

from __future__ import annotations

import json
import math
from typing import Mapping, Sequence

from candlebot.events import (BooksAudited, BotError, BotStarted, BotStopped, CandleClosed, DustLeft, Event, Heartbeat,
                              OrderFailed, OrderSkipped, OrderUnfilled, PriceRejected, TickerPolled)
from candlebot.live.store import BotStore, CandleRow, EventRow

EVENT_TYPES = (CandleClosed, OrderSkipped, OrderFailed, OrderUnfilled, PriceRejected, BotError, BooksAudited, DustLeft,
               BotStarted, BotStopped, Heartbeat, TickerPolled)


class Diary:
    """A ``BatchSink`` (wrap it in ``QueuedSink``); owns ``store``, a second connection to the bot's file.

    ``facts``: what a report needs and only the running bot knows (the pair's decimals), written at each start."""

    name = "diary"

    def __init__(self, store: BotStore, period_s: int, facts: Mapping[str, str] | None = None, *,
                 keep_candles: int = 200_000, keep_events: int = 100_000) -> None:
        self.store = store
        self.period_s = period_s
        self.facts = {**(facts or {}), "period": str(period_s)}
        self.keep_candles = keep_candles
        self.keep_events = keep_events

    def deliver(self, events: Sequence[Event]) -> None:
        candles: list[CandleRow] = []
        rows: list[EventRow] = []
        status: dict[str, str] = {}
        forming = None
        for event in events:
            if isinstance(event, CandleClosed):
                c = event.candle
                lines = {k: v for k, v in event.indicators.items() if isinstance(v, float) and math.isfinite(v)}
                candles.append((int(c.time), c.open, c.high, c.low, c.close, c.volume, json.dumps(lines) if lines else None))
            elif isinstance(event, Heartbeat):
                status.update(heartbeat=repr(event.time), failures=str(event.consecutive_failures))
            elif isinstance(event, TickerPolled):
                status.update(price=repr(event.price), price_time=repr(event.time))
                forming = event.forming
            else:
                row = _event_row(event)
                if row is not None:
                    rows.append(row)
                if isinstance(event, BotStarted):
                    status.update(self.facts, mode=event.mode, pair=event.pair, strategy=event.strategy,
                                  started=repr(event.time), stopped="", failures="0")
                elif isinstance(event, BotStopped):
                    status.update(stopped=repr(event.time), stop_reason=event.reason)
                elif isinstance(event, BotError):
                    status.update(last_error=f"{event.kind}: {event.message}", last_error_time=repr(event.time))
                elif isinstance(event, OrderFailed):  # a failed order is the bot's error that matters most to its owner
                    status.update(last_error=_failed_order(event), last_error_time=repr(event.time))
        if forming is not None:  # the candle still forming, replaced when it closes: a fill in it has its candle
            candles.append((int(forming.time), forming.open, forming.high, forming.low, forming.close, forming.volume, None))
        if candles or rows or status:
            since = candles[-1][0] - self.keep_candles * self.period_s if candles else None
            self.store.record(candles=candles, events=rows, status=status, candles_since=since, max_events=self.keep_events)

    def close(self, deadline: float) -> None:
        self.store.close()


def _failed_order(event: OrderFailed) -> str:
    """The reason first: ``candlebot status`` shows a last error's first 60 characters. An order whose outcome is
    unknown may yet have filled: never "failed" (its owner must not buy by hand)."""
    side = event.side.value
    if event.error == "OrderOutcomeUnknown":
        return f"{side} order outcome unknown, being looked up: {event.message} (userref {event.userref})"
    return f"{side} order failed: {event.error}: {event.message} (volume {event.volume}, userref {event.userref})"


def _event_row(event: Event) -> EventRow | None:
    if isinstance(event, OrderSkipped):
        return event.time, "skipped", event.side.value, None, event.reason
    if isinstance(event, OrderFailed):
        return event.time, "failed", event.side.value, event.userref, f"volume {event.volume}: {event.error}: {event.message}"
    if isinstance(event, OrderUnfilled):
        return (event.time, "unfilled", event.side.value, event.userref,
                f"volume {event.volume}: nothing executed within the protection price {event.limit}")
    if isinstance(event, PriceRejected):
        return event.time, "rejected", None, None, f"{event.source}: {event.reason}"
    if isinstance(event, BotError):
        return event.time, "error", None, None, f"{event.kind}: {event.message}"
    if isinstance(event, BooksAudited) and event.problems:
        return event.time, "audit", None, None, "; ".join(event.problems) + (" (on hold)" if event.held else "")
    if isinstance(event, DustLeft):
        return event.time, "dust", None, None, f"trade {event.trade.trade_id}: {event.trade.volume} left below the pair's minimums"
    if isinstance(event, BotStarted):
        return event.time, "started", None, None, f"{event.strategy} on {event.pair} ({event.mode})"
    if isinstance(event, BotStopped):
        return event.time, "stopped", None, None, event.reason
    return None
