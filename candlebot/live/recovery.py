"""Settle every order whose outcome is unknown: at start-up (start == recovery) and while running.

An intent without an outcome means the bot died between writing the intent
and booking the fill, or the exchange's reply was lost. The exchange is asked
for the order by its userref: a fill is booked as if it had just arrived; an
order that stays absent for ``absent_after`` seconds after its intent was
written is marked failed (it was never placed). The pending intents are the
trader's ``unsettled`` list: while it is not empty the trader sends nothing.

Lookups run inside the bot's poll loop, so they must never hold it up: each
intent is looked up at most every ``lookup_every`` seconds, and a lookup the
exchange defers (``RateLimitError``: the key's rate budget is kept for orders,
or another bot holds the key) is tried again on a later poll, quietly.
"""

from __future__ import annotations

import logging

from candlebot.clock import Clock
from candlebot.errors import ExchangeError, FatalExchangeError, OrderOutcomeUnknown, RateLimitError
from candlebot.events import BotError, EventBus, TradeClosed, TradeOpened
from candlebot.venue import Exchange, Side
from candlebot.trading.ledger import Ledger
from candlebot.live.store import BotStore
from candlebot.trading.trader import PendingIntent, Trader

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(
        self, *, store: BotStore, ledger: Ledger, trader: Trader, exchange: Exchange, bus: EventBus, clock: Clock,
        pending: list[PendingIntent], absent_after: float, lookup_every: float = 0.0,
    ) -> None:
        """``ledger`` already holds the stored trades and cash; ``pending`` are the stored intents without outcome."""
        self.store = store
        self.ledger = ledger
        self.trader = trader
        self.exchange = exchange
        self.bus = bus
        self.clock = clock
        self.absent_after = absent_after
        self.lookup_every = lookup_every
        self._not_before: dict[int, float] = {}  # userref -> when it may be looked up again
        trader.unsettled.extend(pending)
        if pending:
            log.warning("%d order(s) without a recorded outcome: looking them up by userref", len(pending))

    @property
    def pending(self) -> list[PendingIntent]:
        return self.trader.unsettled

    def settle(self) -> bool:
        """Look every pending intent up once; True when none is left."""
        self.trader.unsettled[:] = [intent for intent in list(self.trader.unsettled) if not self._settle_one(intent)]
        pending = {intent.order.userref for intent in self.trader.unsettled}
        self._not_before = {ref: at for ref, at in self._not_before.items() if ref in pending}
        return not self.trader.unsettled

    def _settle_one(self, intent: PendingIntent) -> bool:
        order = intent.order
        now = self.clock.now()
        if now < self._not_before.get(order.userref, now):
            return False
        self._not_before[order.userref] = now + self.lookup_every
        try:
            fill = self.exchange.find_order(order.pair, order.userref)
        except FatalExchangeError:
            raise
        except OrderOutcomeUnknown:
            return False  # exists but has not settled yet
        except RateLimitError as exc:  # deferred: the poll goes on, the lookup comes back later
            self._not_before[order.userref] = now + max(self.lookup_every, min(exc.retry_after or 0.0, 60.0))
            log.debug("lookup of userref %d deferred: %s", order.userref, exc)
            return False
        except ExchangeError as exc:
            self.bus.emit(BotError(self.clock.now(), "reconcile", f"cannot look up userref {order.userref} yet: {exc}"))
            return False
        if fill is None:
            if self.clock.now() - intent.created < self.absent_after:
                return False  # it may still appear
            self.store.failed(order, ExchangeError("not found on the exchange after restart: never placed"))
            log.info("order userref %d was never placed", order.userref)
            return True
        if fill.volume <= 0:
            self.trader.unfilled(order)
            log.info("order userref %d is over with nothing executed", order.userref)
            return True
        if order.side is Side.BUY:
            trade = self.ledger.book_open(fill)
            self.store.filled(order, fill, trade, self.ledger.cash)
            self.bus.emit(TradeOpened(self.clock.now(), trade, recovered=True))
            self.trader.report_dust(trade)
        else:
            open_trade = next((t for t in self.ledger.open_trades if t.trade_id == intent.trade_id), None)
            if open_trade is None:
                self.store.failed(order, ExchangeError(f"sell for trade {intent.trade_id}, which is not open"))
                self.bus.emit(BotError(self.clock.now(), "reconcile", f"userref {order.userref} sold for a trade that is not open"))
                return True
            closing = self.ledger.book_close(open_trade, fill)  # partial or whole, as when the reply arrives
            self.store.filled(order, fill, closing.closed, self.ledger.cash, closing.remainder)
            self.bus.emit(TradeClosed(self.clock.now(), closing.closed, recovered=True))
            if closing.remainder is not None:
                self.trader.report_dust(closing.remainder)
        log.info("recovered fill of userref %d: %s %s @ %s", order.userref, fill.side.value, fill.volume, fill.price)
        return True
