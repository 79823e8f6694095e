"""From a strategy's intent to a booked trade: risk checks, sizing, the order, the fill, the books.

    buy()/close(trade)
      -> checks (open-trade cap, cash)                        -> OrderSkipped
      -> the order book: price sanity (guard)                 -> PriceRejected
      -> protection price for the volume (+ max slippage), volume sized at it, ordermin/costmin -> OrderSkipped
      -> OrderRequest with a fresh userref and the protection price, written to the journal BEFORE sending
      -> exchange.place_market_order (Kraken: IOC limit)      -> OrderFailed on refusal / unknown outcome
      -> what executed, written to the journal and booked     -> TradeOpened / TradeClosed (+ DustLeft)
         (nothing executed                                    -> OrderUnfilled)

A partial buy opens a trade of what executed; a partial sell closes that
part and leaves the strategy an open remainder (``Ledger.book_close``).

Business failures are events, not exceptions: the strategy just sees ``None``.
Only errors that must stop the bot (auth, bad config) propagate. An order whose
outcome is unknown (lost reply, or an unexpected error while sending) stays
"unsettled": the trader sends nothing more until it is looked up and booked
(``candlebot.live.recovery``), so a strategy can never double a position it does not
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
from candlebot.events import DustLeft, EventBus, OrderFailed, OrderSkipped, OrderUnfilled, PriceRejected, TradeClosed, TradeOpened
from candlebot.venue import Exchange, Fill, OrderBook, OrderRequest, Side
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.pair import PairInfo
from candlebot.trading.pricecheck import PriceGuard
from candlebot.trading.protection import Protection
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

    def filled(self, order: OrderRequest, fill: Fill, trade: BotTrade, cash: Decimal,
               remainder: BotTrade | None = None) -> None:
        """Written once the fill is booked; ``cash`` is the ledger's cash after it; ``remainder`` is the open
        part a partial sell left (``trade`` is then the closed part)."""

    def failed(self, order: OrderRequest, error: ExchangeError) -> None:
        """The order is known not to exist (refused, or proven absent) or executed nothing."""


class NullJournal:
    """No memory across runs: a backtest starts from nothing every time."""

    def intent(self, order: OrderRequest, trade_id: int | None) -> None:
        pass

    def filled(self, order: OrderRequest, fill: Fill, trade: BotTrade, cash: Decimal,
               remainder: BotTrade | None = None) -> None:
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
        protection: Protection | None = None,
        guard: PriceGuard | None = None,
        books: Callable[[], OrderBook] | None = None,
    ) -> None:
        """``protection``: how far beyond the book an order may go (default --max-slippage 0.5%); ``guard``
        checks every book before an order (running bots; backtest candles are checked when loaded);
        ``books``: the current order book (default: read from the exchange, 100 levels; running bots use a
        ``BookFeed``)."""
        self.protection = protection or Protection(pair)
        self.guard = guard
        self.books = books or (lambda: exchange.order_book(pair.name, 100))
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
        commit = self.sizing.commit(ledger.cash, len(ledger.open_trades)) if volume is None else ledger.cash
        if commit > ledger.cash:
            return self._skip(Side.BUY, f"stake {commit} exceeds cash {ledger.cash} {pair.quote}")
        book = self._book(Side.BUY)
        if book is None:
            return None
        if volume is None:
            volume, limit = self.protection.buy(book.asks, commit, self.fee_rate, ledger.volume_for)
        else:
            volume = pair.floor_volume(volume)
            limit = self.protection.price(book.asks, volume, Side.BUY)
        reason = pair.below_minimum(limit, volume)
        if reason is not None:
            return self._skip(Side.BUY, reason)
        cost = pair.cost(limit, volume)
        if cost + pair.fee(cost, self.fee_rate) > ledger.cash:  # the bot's budget, whatever the account holds
            return self._skip(Side.BUY, f"{volume} {pair.base} at up to {limit} would cost {cost} {pair.quote} plus fee; "
                                        f"cash is {ledger.cash}")
        order = OrderRequest(pair.name, Side.BUY, volume, self.next_userref(), limit)
        self.journal.intent(order, None)
        started = time.perf_counter()
        fill = self._send(order, None)
        if fill is None:
            return None
        trade = ledger.book_open(fill)
        self.journal.filled(order, fill, trade, ledger.cash)
        self.bus.emit(TradeOpened(self.clock.now(), trade, time.perf_counter() - started))
        self.report_dust(trade)
        return trade

    def close(self, trade: BotTrade) -> BotTrade | None:
        """Sell ``trade``; returns the closed trade (only the part that executed when the sell was partial)."""
        if trade not in self.ledger.open_trades:  # closed, dust, or a stale copy from before a partial sell
            raise ValueError(f"trade {trade.trade_id} ({trade.volume} {self.pair.base}) is not open in the books: "
                             "nothing sent")
        if self.paused is not None:
            return self._skip(Side.SELL, self.paused)
        book = self._book(Side.SELL)
        if book is None:
            return None
        limit = self.protection.price(book.bids, trade.volume, Side.SELL)
        order = OrderRequest(self.pair.name, Side.SELL, trade.volume, self.next_userref(), limit)
        self.journal.intent(order, trade.trade_id)
        started = time.perf_counter()
        fill = self._send(order, trade.trade_id)
        if fill is None:
            return None
        closing = self.ledger.book_close(trade, fill)
        self.journal.filled(order, fill, closing.closed, self.ledger.cash, closing.remainder)
        self.bus.emit(TradeClosed(self.clock.now(), closing.closed, time.perf_counter() - started))
        if closing.remainder is not None:
            self.report_dust(closing.remainder)
        return closing.closed

    def _book(self, side: Side) -> OrderBook | None:
        """The current book, or None (reported) when it cannot be read or must not be traded on."""
        try:
            book = self.books()
        except FatalExchangeError:
            raise
        except ExchangeError as exc:
            return self._failed(side, Decimal(0), 0, exc)
        problem = self.guard.book_problem(book) if self.guard is not None else None
        if problem is None and (not book.asks if side is Side.BUY else not book.bids):
            problem = f"no {'asks' if side is Side.BUY else 'bids'} in the book"
        if problem is not None:
            self.bus.emit(PriceRejected(self.clock.now(), "book", f"{side.value} not sent: {problem}"))
            return None
        return book

    def report_dust(self, trade: BotTrade) -> None:
        if trade in self.ledger.dust:
            self.bus.emit(DustLeft(self.clock.now(), trade))

    def _send(self, order: OrderRequest, trade_id: int | None) -> Fill | None:
        """What executed (a fill of volume > 0), or None: refused, unknown (pending), or nothing executed."""
        try:
            fill = self.exchange.place_market_order(order)
            if fill.volume <= 0:
                self.unfilled(order)
                return None
            return fill
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

    def unfilled(self, order: OrderRequest) -> None:
        """The order is over with nothing executed (the book moved beyond its protection price): no trade."""
        self.journal.failed(order, ExchangeError(f"nothing executed within the protection price {order.limit}"))
        self.bus.emit(OrderUnfilled(self.clock.now(), order.side, order.volume, order.userref, order.limit))

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
