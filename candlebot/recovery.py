"""Start == recovery: reload the books, then settle every order whose outcome was never recorded.

An intent without an outcome means the bot died (or lost the reply) between
writing the intent and booking the fill. The exchange is asked for the order
by its userref: a fill is booked as if it had just arrived; an order that
stays absent for ``absent_after`` seconds after its intent was written is
marked failed (it was never placed). Until every intent is settled the trader
is paused, so the strategy cannot double a position it does not know about.
"""

from __future__ import annotations

import logging

from candlebot.clock import Clock
from candlebot.errors import ExchangeError, FatalExchangeError, OrderOutcomeUnknown
from candlebot.events import BotError, EventBus, TradeClosed, TradeOpened
from candlebot.exchange import Exchange, Side
from candlebot.ledger import Ledger
from candlebot.store import BotStore, PendingIntent
from candlebot.trader import Trader

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(
        self, *, store: BotStore, ledger: Ledger, trader: Trader, exchange: Exchange, bus: EventBus, clock: Clock,
        pending: list[PendingIntent], absent_after: float,
    ) -> None:
        """``ledger`` already holds the stored trades and cash; ``pending`` are the stored intents without outcome."""
        self.store = store
        self.ledger = ledger
        self.trader = trader
        self.exchange = exchange
        self.bus = bus
        self.clock = clock
        self.absent_after = absent_after
        self.pending = list(pending)
        self._pause_if_pending()
        if self.pending:
            log.warning("%d order(s) without a recorded outcome: looking them up by userref", len(self.pending))

    def settle(self) -> bool:
        """Look every pending intent up once; True when none is left."""
        still: list[PendingIntent] = []
        for intent in self.pending:
            if not self._settle_one(intent):
                still.append(intent)
        self.pending = still
        self._pause_if_pending()
        return not still

    def _settle_one(self, intent: PendingIntent) -> bool:
        order = intent.order
        try:
            fill = self.exchange.find_order(order.pair, order.userref)
        except FatalExchangeError:
            raise
        except OrderOutcomeUnknown:
            return False  # exists but has not settled yet
        except ExchangeError as exc:
            self.bus.emit(BotError(self.clock.now(), "reconcile", f"cannot look up userref {order.userref} yet: {exc}"))
            return False
        if fill is None:
            if self.clock.now() - intent.created < self.absent_after:
                return False  # it may still appear
            self.store.failed(order, ExchangeError("not found on the exchange after restart: never placed"))
            log.info("order userref %d was never placed", order.userref)
            return True
        if order.side is Side.BUY:
            trade = self.ledger.book_open(fill)
            self.store.filled(order, fill, trade, self.ledger.cash)
            self.bus.emit(TradeOpened(self.clock.now(), trade))
        else:
            open_trade = next((t for t in self.ledger.open_trades if t.trade_id == intent.trade_id), None)
            if open_trade is None:
                self.store.failed(order, ExchangeError(f"sell for trade {intent.trade_id}, which is not open"))
                self.bus.emit(BotError(self.clock.now(), "reconcile", f"userref {order.userref} sold for a trade that is not open"))
                return True
            trade = self.ledger.book_close(open_trade, fill)
            self.store.filled(order, fill, trade, self.ledger.cash)
            self.bus.emit(TradeClosed(self.clock.now(), trade))
        log.info("recovered fill of userref %d: %s %s @ %s", order.userref, fill.side.value, fill.volume, fill.price)
        return True

    def _pause_if_pending(self) -> None:
        refs = ", ".join(str(p.order.userref) for p in self.pending)
        self.trader.paused = f"waiting for the outcome of order(s) {refs}" if self.pending else None
