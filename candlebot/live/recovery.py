"""Settle every order whose outcome is unknown: at start-up (start == recovery) and while running.

An intent without an outcome means the bot died between writing the intent
and booking the fill, or the exchange's reply was lost. The exchange is asked
for the order by its userref: a fill is booked by the trader's one booking
method (``Trader.book``, marked recovered), exactly as if it had just arrived;
an order that stays absent for ``absent_after`` seconds after its intent was
written is marked failed (``Trader.never_placed``).

That window is measured on the monotonic clock, from when this process first
knew the intent: a wall-clock step forward must never end it early (the order
may still appear, and a second one would be sent). An intent adopted at start
(written by an earlier process) gets the whole window again: the wall-clock age
stored with it cannot be trusted across a step, and a longer wait only delays
the next trade while a shorter one could double a position. The pending intents belong
to the trader (``Trader.unsettled``): while any is left it sends nothing; this
module only looks them up.

Lookups run inside the bot's poll loop, so they must never hold it up: each
intent is looked up at most every ``lookup_every`` seconds, and a lookup the
exchange defers (``RateLimitError``: the key's rate budget is kept for orders,
or another bot holds the key) is tried again on a later poll, quietly.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from candlebot.clock import Clock
from candlebot.errors import ExchangeError, FatalExchangeError, OrderOutcomeUnknown, RateLimitError
from candlebot.events import BotError, EventBus
from candlebot.venue import Exchange, OrderRequest
from candlebot.trading.trader import PendingIntent, Trader

log = logging.getLogger(__name__)


class Reconciler:
    """Looks the trader's unsettled orders up; the trader books what is found (``Trader.book``) or drops them."""

    def __init__(
        self, *, trader: Trader, exchange: Exchange, bus: EventBus, clock: Clock, pending: Iterable[PendingIntent] = (),
        absent_after: float, lookup_every: float = 0.0, on_absent: Callable[[OrderRequest], None] | None = None,
    ) -> None:
        """``pending``: the stored intents without outcome (a restart), handed to the trader to wait for;
        ``on_absent``: told when an order is declared never placed (a live bot audits the account before its
        next order: the order may still appear, and its coins are then missing: ``candlebot.live.audit``)."""
        self.on_absent = on_absent
        self.trader = trader
        self.exchange = exchange
        self.bus = bus
        self.clock = clock
        self.absent_after = absent_after
        self.lookup_every = lookup_every
        self._not_before: dict[int, float] = {}  # userref -> when (monotonic) it may be looked up again
        # userref -> when (monotonic) this process first knew the intent. Not derivable from the intent: its
        # ``created`` is the calendar (a step would end the window early), and an adopted intent's is an earlier
        # process's, whose monotonic time means nothing here (it gets the whole window again).
        self._known_since: dict[int, float] = {}
        pending = list(pending)
        for intent in pending:
            self._known_since[intent.order.userref] = clock.monotonic()
        trader.adopt(pending)
        if pending:
            log.warning("%d order(s) without a recorded outcome: looking them up by userref", len(pending))

    @property
    def pending(self) -> tuple[PendingIntent, ...]:
        return self.trader.unsettled

    def settle(self) -> bool:
        """Look every pending intent up once; True when none is left."""
        for intent in self.trader.unsettled:
            self._settle_one(intent)
        left = {intent.order.userref for intent in self.trader.unsettled}
        self._not_before = {ref: at for ref, at in self._not_before.items() if ref in left}
        self._known_since = {ref: at for ref, at in self._known_since.items() if ref in left}
        return not left

    def _settle_one(self, intent: PendingIntent) -> None:
        order = intent.order
        now = self.clock.monotonic()
        known_since = self._known_since.setdefault(order.userref, now)
        if now < self._not_before.get(order.userref, now):
            return
        self._not_before[order.userref] = now + self.lookup_every
        try:
            fill = self.exchange.find_order(order.pair, order.userref)
        except FatalExchangeError:
            raise
        except OrderOutcomeUnknown:
            return  # exists but has not settled yet
        except RateLimitError as exc:  # deferred: the poll goes on, the lookup comes back later
            self._not_before[order.userref] = now + max(self.lookup_every, min(exc.retry_after or 0.0, 60.0))
            log.debug("lookup of userref %d deferred: %s", order.userref, exc)
            return
        except ExchangeError as exc:
            self.bus.emit(BotError(self.clock.now(), "reconcile", f"cannot look up userref {order.userref} yet: {exc}"))
            return
        if fill is None:
            if intent.placed or self.clock.monotonic() - known_since < self.absent_after:
                return  # it may still appear; one the exchange took (gave its id) is never replaced, only awaited
            self.trader.never_placed(order, "not found on the exchange after restart: never placed")
            log.info("order userref %d was never placed", order.userref)
            if self.on_absent is not None:
                self.on_absent(order)
            return
        booked = self.trader.book(order, fill, intent.trade_id, recovered=not intent.placed, reason=intent.reason)
        if fill.volume <= 0:
            log.info("order userref %d is over with nothing executed", order.userref)
        elif booked is not None:
            log.info("%s of userref %d: %s %s @ %s", "fill" if intent.placed else "recovered fill", order.userref,
                     fill.side.value, fill.volume, fill.price)
