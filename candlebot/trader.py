"""From a strategy's intent to a booked trade: risk checks, sizing, the order, the fill, the books.

    buy()/close(trade)
      -> checks (open-trade cap, cash, ordermin/costmin)      -> OrderSkipped
      -> OrderRequest with a fresh userref, written to the journal BEFORE sending
      -> exchange.place_market_order                          -> OrderFailed on refusal / unknown outcome
      -> fill written to the journal, booked in the ledger    -> TradeOpened / TradeClosed

Business failures are events, not exceptions: the strategy just sees ``None``.
Only errors that must stop the bot (auth, bad config) propagate. An order whose
outcome is unknown (lost reply, or an unexpected error while sending) stays
"unsettled": the trader sends nothing more until it is looked up and booked
(``candlebot.recovery``), so a strategy can never double a position it does not
know about.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Protocol

from candlebot.clock import Clock
from candlebot.errors import ExchangeError, FatalExchangeError, OrderOutcomeUnknown
from candlebot.events import EventBus, OrderFailed, OrderSkipped, TradeClosed, TradeOpened
from candlebot.exchange import Exchange, Fill, OrderRequest, Side
from candlebot.ledger import Ledger, Sizing
from candlebot.pair import PairInfo
from candlebot.trade import BotTrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingIntent:
    """An order that was (perhaps) sent but whose outcome is not recorded; ``trade_id`` is the trade a sell closes."""

    order: OrderRequest
    trade_id: int | None
    created: float


class OrderJournal(Protocol):
    """Durable memory of orders (the bot runtime's SQLite store); backtests use ``NullJournal``."""

    def intent(self, order: OrderRequest, trade_id: int | None) -> None:
        """Written before the order is sent; ``trade_id`` is the trade a sell closes."""

    def filled(self, order: OrderRequest, fill: Fill, trade: BotTrade, cash: Decimal) -> None:
        """Written once the fill is booked; ``cash`` is the ledger's cash after it."""

    def failed(self, order: OrderRequest, error: ExchangeError) -> None:
        """The order is known not to exist (refused, or proven absent)."""


class NullJournal:
    """No memory across runs: a backtest starts from nothing every time."""

    def intent(self, order: OrderRequest, trade_id: int | None) -> None:
        pass

    def filled(self, order: OrderRequest, fill: Fill, trade: BotTrade, cash: Decimal) -> None:
        pass

    def failed(self, order: OrderRequest, error: ExchangeError) -> None:
        pass


class Trader:
    """The one order path for every mode; what differs between modes is only the exchange object."""

    def __init__(
        self,
        *,
        exchange: Exchange,
        pair: PairInfo,
        ledger: Ledger,
        sizing: Sizing,
        fee_rate: Decimal,
        bus: EventBus,
        clock: Clock,
        next_userref: Callable[[], int],
        journal: OrderJournal | None = None,
    ) -> None:
        self.exchange = exchange
        self.pair = pair
        self.ledger = ledger
        self.sizing = sizing
        self.fee_rate = fee_rate
        self.bus = bus
        self.clock = clock
        self.next_userref = next_userref
        self.journal: OrderJournal = journal or NullJournal()
        self.unsettled: list[PendingIntent] = []
        self.holds: dict[str, str] = {}  # why no trade may be opened now (an audit found the books wrong); closing is allowed

    @property
    def paused(self) -> str | None:
        """Why no order may be sent now: orders whose outcome is still unknown."""
        if not self.unsettled:
            return None
        return "waiting for the outcome of order(s) " + ", ".join(str(p.order.userref) for p in self.unsettled)

    def buy(self, volume: Decimal | None = None) -> BotTrade | None:
        ledger, pair = self.ledger, self.pair
        if self.paused is not None:
            return self._skip(Side.BUY, self.paused)
        if self.holds:
            return self._skip(Side.BUY, "; ".join(self.holds.values()))
        if len(ledger.open_trades) >= self.sizing.max_open:
            return self._skip(Side.BUY, f"{len(ledger.open_trades)} trades open (num_simultaneous_trades={self.sizing.max_open})")
        try:
            price = self.exchange.market_price(pair.name, Side.BUY)
        except FatalExchangeError:
            raise
        except ExchangeError as exc:
            return self._failed(Side.BUY, Decimal(0), 0, exc)
        if volume is None:
            commit = self.sizing.commit(ledger.cash, len(ledger.open_trades))
            if commit > ledger.cash:
                return self._skip(Side.BUY, f"stake {commit} exceeds cash {ledger.cash} {pair.quote}")
            volume = ledger.volume_for(commit, price, self.fee_rate)
        else:
            volume = pair.floor_volume(volume)
        reason = pair.below_minimum(price, volume)
        if reason is not None:
            return self._skip(Side.BUY, reason)
        cost = pair.cost(price, volume)
        if cost + pair.fee(cost, self.fee_rate) > ledger.cash:  # the bot's budget, whatever the account holds
            return self._skip(Side.BUY, f"{volume} {pair.base} would cost about {cost} {pair.quote} plus fee; cash is {ledger.cash}")
        order = OrderRequest(pair.name, Side.BUY, volume, self.next_userref())
        self.journal.intent(order, None)
        started = time.perf_counter()
        fill = self._send(order, None)
        if fill is None:
            return None
        trade = ledger.book_open(fill)
        self.journal.filled(order, fill, trade, ledger.cash)
        self.bus.emit(TradeOpened(self.clock.now(), trade, time.perf_counter() - started))
        return trade

    def close(self, trade: BotTrade) -> BotTrade | None:
        if not trade.is_open:
            raise ValueError(f"trade {trade.trade_id} is already closed")
        if self.paused is not None:
            return self._skip(Side.SELL, self.paused)
        order = OrderRequest(self.pair.name, Side.SELL, trade.volume, self.next_userref())
        self.journal.intent(order, trade.trade_id)
        started = time.perf_counter()
        fill = self._send(order, trade.trade_id)
        if fill is None:
            return None
        closed = self.ledger.book_close(trade, fill)
        self.journal.filled(order, fill, closed, self.ledger.cash)
        self.bus.emit(TradeClosed(self.clock.now(), closed, time.perf_counter() - started))
        return closed

    def _send(self, order: OrderRequest, trade_id: int | None) -> Fill | None:
        try:
            return self.exchange.place_market_order(order)
        except FatalExchangeError:
            raise
        except OrderOutcomeUnknown as exc:
            self._unsettled(order, trade_id, exc)
        except ExchangeError as exc:  # refused, or proven never placed
            self.journal.failed(order, exc)
            self._failed(order.side, order.volume, order.userref, exc)
        except Exception as exc:  # an unexpected error while sending: the order may exist all the same
            log.exception("unexpected error while sending order userref %d", order.userref)
            self._unsettled(order, trade_id, OrderOutcomeUnknown(f"{type(exc).__name__}: {exc}", userref=order.userref))
        return None

    def _unsettled(self, order: OrderRequest, trade_id: int | None, exc: OrderOutcomeUnknown) -> None:
        """The intent stays open in the journal and pauses the trader until it is looked up by userref."""
        self.unsettled.append(PendingIntent(order, trade_id, self.clock.now()))
        self._failed(order.side, order.volume, order.userref, exc)

    def _skip(self, side: Side, reason: str) -> None:
        if self.bus.wants(OrderSkipped):
            self.bus.emit(OrderSkipped(self.clock.now(), side, reason))
        return None

    def _failed(self, side: Side, volume: Decimal, userref: int, exc: ExchangeError) -> None:
        self.bus.emit(OrderFailed(self.clock.now(), side, volume, userref, type(exc).__name__, str(exc)))
        return None
