"""From a strategy's intent to a booked trade: risk checks, sizing, the order, the fill, the books.

    buy()/close(trade)
      -> the arguments (a positive, finite Decimal volume; an open trade) -> OrderArgumentError (the strategy's mistake)
      -> checks (open-trade cap, cash, --stake)               -> OrderSkipped
      -> the order book: price sanity (guard)                 -> PriceRejected
      -> protection price for the volume (+ max slippage), volume sized at it, ordermin/costmin -> OrderSkipped
      -> OrderRequest with a fresh userref and the protection price, written to the journal BEFORE sending
      -> exchange.place_market_order (Kraken: IOC limit)      -> OrderFailed on refusal / unknown outcome
      -> what executed, written to the journal and booked     -> TradeOpened / TradeClosed (+ DustLeft)
         (nothing executed                                    -> OrderUnfilled)

A partial buy opens a trade of what executed; a partial sell closes that
part and leaves the strategy an open remainder (``Ledger.book_close``).

The caps come from the trader's own books and settings (``Sizing``), never from what a strategy was shown:
at most ``max_open`` trades, no order costing more than the cash (fee included), and with a ``stake`` none
costing more than the stake, whether the volume is sized here or given by the strategy.

Business failures are events, not exceptions: the strategy just sees ``None``.
Only errors that must stop the bot (auth, bad config, a broken invariant, a
state file that refuses writes) propagate. An order whose outcome is unknown
(lost reply, or an unexpected error while sending) stays "unsettled": the
trader sends nothing more until it is looked up (``candlebot.live.recovery``)
and booked, so a strategy can never double a position it does not know about.

The trader is the one owner of orders in flight: it alone adds, settles and
drops unsettled intents, and every fill (fresh, partial or recovered) is booked
by ``book``, so a recovered fill is booked, journaled and reported exactly as
the order's own reply would have been.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, Protocol

from candlebot.clock import Clock
from candlebot.errors import ExchangeError, FatalExchangeError, OrderArgumentError, OrderFillPending, OrderOutcomeUnknown
from candlebot.events import (BotError, DustLeft, EventBus, OrderFailed, OrderSkipped, OrderUnfilled, PriceRejected,
                              TradeClosed, TradeOpened)
from candlebot.venue import Exchange, Fill, OrderBook, OrderRequest, Side
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.minimum import OrderminBound
from candlebot.pair import PairInfo
from candlebot.trading.pricecheck import PriceGuard
from candlebot.trading.protection import Protection
from candlebot.trade import SIGNAL, STOP_LOSS, BotTrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingIntent:
    """An order that was (perhaps) sent but whose outcome is not recorded; ``trade_id`` is the trade a sell closes,
    ``reason`` why a sell was sent (``candlebot.trade.SIGNAL`` or ``STOP_LOSS``)."""

    order: OrderRequest
    trade_id: int | None
    created: float
    reason: str | None = None
    placed: bool = False  # the exchange took it (OrderFillPending): only its fill is to be read


class OrderJournal(Protocol):
    """Durable memory of orders (the bot runtime's SQLite store); backtests use ``NullJournal``."""

    def intent(self, order: OrderRequest, trade_id: int | None, reason: str | None = None) -> None:
        """Written before the order is sent; ``trade_id`` is the trade a sell closes, ``reason`` why it is sold."""

    def filled(self, order: OrderRequest, fill: Fill, trade: BotTrade, cash: Decimal,
               remainder: BotTrade | None = None) -> None:
        """Written once the fill is booked; ``cash`` is the ledger's cash after it; ``remainder`` is the open
        part a partial sell left (``trade`` is then the closed part)."""

    def failed(self, order: OrderRequest, error: ExchangeError) -> None:
        """The order is known not to exist (refused, or proven absent) or executed nothing."""


class NullJournal:
    """No memory across runs: a backtest starts from nothing every time."""

    def intent(self, order: OrderRequest, trade_id: int | None, reason: str | None = None) -> None:
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
        least_ask: Callable[[], float | None] | None = None,
    ) -> None:
        """``protection``: how far beyond the book an order may go (default --max-slippage 0.5%); ``guard``
        checks every book before an order (running bots; backtest candles are checked when loaded);
        ``books``: the current order book (default: read from the exchange, 100 levels; running bots use a
        ``BookFeed``); ``least_ask``: a float no buy can fill below now, read without a book (a backtest's next
        open), or None: a buy it proves below ``ordermin`` is skipped before the book is read and sized."""
        self.protection = protection or Protection(pair)
        self._least_ask = least_ask
        self._ordermin = OrderminBound(pair, fee_rate, self.protection.max_slippage)
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
        self._unsettled: list[PendingIntent] = []
        self.stop_loss_exits: set[int] = set()  # ids of the trades a stop-loss sell closed (exit reasons in reports)
        self.on_booked: list[Callable[[], None]] = []  # told after every booking (the strategy's view of the books)
        # told of every order not sent, with whether it was below the pair's minimum (a backtest's summary counts them):
        # far cheaper than OrderSkipped, which is built, its reason worded, only when a sink subscribes to it
        self.on_skipped: list[Callable[[bool], None]] = []
        self._holds: dict[str, str] = {}  # why no order may be sent now (an audit found the books wrong): closes neither

    # -- what others may read and ask ------------------------------------------------------

    @property
    def unsettled(self) -> tuple[PendingIntent, ...]:
        """Orders whose outcome is unknown, oldest first: they pause the trader until ``book``ed or ``never_placed``."""
        return tuple(self._unsettled)

    @property
    def paused(self) -> str | None:
        """Why no order may be sent now: orders whose outcome is still unknown."""
        if not self._unsettled:
            return None
        return "waiting for the outcome of order(s) " + ", ".join(str(p.order.userref) for p in self._unsettled)

    @property
    def holds(self) -> Mapping[str, str]:
        return MappingProxyType(self._holds)

    def hold(self, key: str, reason: str) -> None:
        """Send no order at all until ``lift(key)`` (an audit found the books wrong). Closes are held too: with the
        account short, a sale may spend coins that are another bot's or the person's (issue 17)."""
        self._holds[key] = reason

    def lift(self, key: str) -> None:
        self._holds.pop(key, None)

    def adopt(self, intents: Iterable[PendingIntent]) -> None:
        """Intents stored without an outcome (a restart): waited for exactly like the trader's own."""
        self._unsettled.extend(intents)

    # -- the strategy's orders -------------------------------------------------------------

    def buy(self, volume: Decimal | None = None) -> BotTrade | None:
        """Open a trade: sized by ``sizing`` when ``volume`` is None, else that volume (floored to the lot decimals)."""
        ledger, pair = self.ledger, self.pair
        if volume is not None:
            volume = self._volume(volume)
        if self._unsettled:  # ``paused``, without its call: after the cash ran out, every buy signal comes this way
            return self._skip(Side.BUY, self.paused)
        if self._holds:
            return self._skip(Side.BUY, "; ".join(self._holds.values()))
        open_count = len(ledger.open_trades)
        if open_count >= self.sizing.max_open:
            return self._skip(Side.BUY, f"{open_count} trades open (num_simultaneous_trades={self.sizing.max_open})")
        stake = self.sizing.stake
        commit = self.sizing.commit(ledger.cash, open_count) if volume is None else ledger.cash
        if commit > ledger.cash:
            return self._skip(Side.BUY, f"stake {commit} exceeds cash {ledger.cash} {pair.quote}")
        if volume is None and self._least_ask is not None and self.guard is None:
            ask = self._least_ask()  # the same skip as sizing would reach below, without its Decimal work
            if ask is not None and ask > self._ordermin.short_above(commit):
                return self._skip_short(commit, ask)
        book = self._order_book(Side.BUY)
        if book is None:
            return None
        if volume is None:
            volume, limit = self.protection.buy(book.asks, commit, self.fee_rate, ledger.volume_for)
        elif volume * book.asks[0].price > ledger.cash:  # before any rounding: a huge volume costs nothing to refuse
            return self._skip(Side.BUY, f"{volume} {pair.base} at {book.asks[0].price} or more costs more than the cash "
                                        f"{ledger.cash} {pair.quote}")
        else:
            limit = self.protection.price(book.asks, volume, Side.BUY)
        reason = pair.below_minimum(limit, volume)
        if reason is not None:
            return self._skip(Side.BUY, reason, below_minimum=True)
        cost = pair.cost(limit, volume)
        fee = pair.fee(cost, self.fee_rate)
        if cost + fee > ledger.cash:  # the bot's budget, whatever the account holds
            return self._skip(Side.BUY, f"{volume} {pair.base} at up to {limit} would cost {cost} {pair.quote} plus fee; "
                                        f"cash is {ledger.cash}")
        if stake is not None and cost + fee > stake:  # --stake caps every trade, whoever chose its volume
            return self._skip(Side.BUY, f"{volume} {pair.base} at up to {limit} would cost {cost} {pair.quote} plus fee; "
                                        f"the stake is {stake}")
        order = OrderRequest(pair.name, Side.BUY, volume, self.next_userref(), limit)
        return self._place(order, None)

    def close(self, trade: BotTrade, *, reason: str = SIGNAL) -> BotTrade | None:
        """Sell ``trade``; returns the closed trade (only the part that executed when the sell was partial).
        ``reason``: why (``SIGNAL``: the strategy's rule; ``STOP_LOSS``: the core's stop), stored with the order."""
        if not isinstance(trade, BotTrade):
            raise OrderArgumentError(f"close(trade) takes one of open_trades, got {_shown(trade)}: nothing sent")
        if trade not in self.ledger.open_trades:  # closed, dust, or a stale copy from before a partial sell
            raise OrderArgumentError(f"trade {trade.trade_id} ({trade.volume} {self.pair.base}) is not open in the books: "
                                     "nothing sent")
        if self.paused is not None:
            return self._skip(Side.SELL, self.paused)
        if self._holds:
            return self._skip(Side.SELL, "; ".join(self._holds.values()))
        book = self._order_book(Side.SELL)
        if book is None:
            return None
        limit = self.protection.price(book.bids, trade.volume, Side.SELL)
        order = OrderRequest(self.pair.name, Side.SELL, trade.volume, self.next_userref(), limit)
        return self._place(order, trade.trade_id, reason)

    def _volume(self, volume: object) -> Decimal:
        """A volume a strategy gave, floored to the lot decimals; ``OrderArgumentError`` (its mistake) for what cannot
        be an order: not a Decimal, not finite, not positive, or beyond what a Decimal of the pair's lot can hold."""
        if not isinstance(volume, Decimal) or not volume.is_finite():
            raise OrderArgumentError(f"buy(volume) takes a finite Decimal, got {_shown(volume)}: nothing sent")
        if volume <= 0:
            raise OrderArgumentError(f"buy(volume) takes a volume above 0, got {volume}: nothing sent")
        try:
            floored = self.pair.floor_volume(volume)
        except ArithmeticError:  # more digits than any order can have (1E+30 at 8 lot decimals)
            raise OrderArgumentError(f"buy(volume): {volume} {self.pair.base} is beyond any order: nothing sent") from None
        return floored

    # -- booking: the one way a fill enters the books --------------------------------------

    def book(self, order: OrderRequest, fill: Fill, trade_id: int | None = None, *, recovered: bool = False,
             started: float | None = None, reason: str | None = None) -> BotTrade | None:
        """Book what ``order`` executed, as its reply or found by a lookup (``recovered``); settles its intent.

        A buy opens a trade; a sell closes trade ``trade_id`` (whole, or the executed part: the remainder stays open
        or becomes dust); nothing executed is ``OrderUnfilled``. Returns the trade opened or closed, or None.
        ``started``: ``time.perf_counter()`` when the order was sent (the latency reported with the trade);
        ``reason``: why a sell was sent (as journaled with its intent).
        """
        booked = self._enter(order, fill, trade_id, recovered, started, reason or SIGNAL)
        self._settle(order)
        for told in self.on_booked:
            told()
        return booked

    def never_placed(self, order: OrderRequest, reason: str) -> None:
        """An unsettled order proven absent from the exchange: recorded as failed, the trader resumes."""
        self.journal.failed(order, ExchangeError(reason))
        self._settle(order)

    # -- internals ---------------------------------------------------------------------------

    def _enter(self, order: OrderRequest, fill: Fill, trade_id: int | None, recovered: bool,
               started: float | None, reason: str) -> BotTrade | None:
        if fill.volume <= 0:
            self._unfilled(order)
            return None
        ledger = self.ledger
        if order.side is Side.BUY:
            trade = ledger.book_open(fill)
            self.journal.filled(order, fill, trade, ledger.cash)
            self.bus.emit(TradeOpened(self.clock.now(), trade, _latency(started), recovered))
            self._report_dust(trade)
            return trade
        held = next((t for t in ledger.open_trades if t.trade_id == trade_id), None)
        if held is None:  # only a recovered sell can find its trade gone
            self.journal.failed(order, ExchangeError(f"sell for trade {trade_id}, which is not open"))
            self.bus.emit(BotError(self.clock.now(), "reconcile", f"userref {order.userref} sold for a trade that is not open"))
            return None
        closing = ledger.book_close(held, fill)  # partial or whole
        self.journal.filled(order, fill, closing.closed, ledger.cash, closing.remainder)
        if reason == STOP_LOSS:
            self.stop_loss_exits.add(closing.closed.trade_id)
        self.bus.emit(TradeClosed(self.clock.now(), closing.closed, _latency(started), recovered, reason))
        if closing.remainder is not None:
            self._report_dust(closing.remainder)
        return closing.closed

    def _place(self, order: OrderRequest, trade_id: int | None, reason: str | None = None) -> BotTrade | None:
        """Journal the intent, send, book whatever executed."""
        self.journal.intent(order, trade_id, reason)
        started = time.perf_counter()
        fill = self._send(order, trade_id, reason)
        if fill is None:
            return None
        return self.book(order, fill, trade_id, started=started, reason=reason)

    def _order_book(self, side: Side) -> OrderBook | None:
        """The current book, or None (reported) when it cannot be read or must not be traded on."""
        try:
            book = self.books()
        except FatalExchangeError:
            raise
        except ExchangeError as exc:  # no order was sent: a price that could not be had, not a failed order
            self.bus.emit(PriceRejected(self.clock.now(), "book", f"{side.value} not sent: the order book could not be "
                                                                  f"read: {type(exc).__name__}: {exc}"))
            return None
        problem = self.guard.book_problem(book) if self.guard is not None else None
        if problem is None and (not book.asks if side is Side.BUY else not book.bids):
            problem = f"no {'asks' if side is Side.BUY else 'bids'} in the book"
        if problem is not None:
            self.bus.emit(PriceRejected(self.clock.now(), "book", f"{side.value} not sent: {problem}"))
            return None
        return book

    def _report_dust(self, trade: BotTrade) -> None:
        if trade in self.ledger.dust:
            self.bus.emit(DustLeft(self.clock.now(), trade))

    def _send(self, order: OrderRequest, trade_id: int | None, reason: str | None) -> Fill | None:
        """What executed (all, part or nothing), or None: refused, or unknown (then pending)."""
        try:
            return self.exchange.place_market_order(order)
        except FatalExchangeError:
            raise
        except OrderOutcomeUnknown as exc:
            self._pending(order, trade_id, exc, reason)
        except ExchangeError as exc:  # refused, or proven never placed
            self.journal.failed(order, exc)
            self._failed(order.side, order.volume, order.userref, exc)
        except Exception as exc:  # an unexpected error while sending: the order may exist all the same
            log.exception("unexpected error while sending order userref %d", order.userref)
            self._pending(order, trade_id, OrderOutcomeUnknown(f"{type(exc).__name__}: {exc}", userref=order.userref),
                          reason)
        return None

    def _unfilled(self, order: OrderRequest) -> None:
        """The order is over with nothing executed (the book moved beyond its protection price): no trade."""
        self.journal.failed(order, ExchangeError(f"nothing executed within the protection price {order.limit}"))
        self.bus.emit(OrderUnfilled(self.clock.now(), order.side, order.volume, order.userref, order.limit))

    def _pending(self, order: OrderRequest, trade_id: int | None, exc: OrderOutcomeUnknown, reason: str | None) -> None:
        """The intent stays open in the journal and pauses the trader until it is looked up by userref."""
        placed = isinstance(exc, OrderFillPending)
        self._unsettled.append(PendingIntent(order, trade_id, self.clock.now(), reason, placed))
        if placed:  # not a failure: the fill is read on a later poll, when the key's shared budget allows
            log.info("%s order userref %d placed; its fill is read on a later poll", order.side.value, order.userref)
        else:
            self._failed(order.side, order.volume, order.userref, exc)

    def _settle(self, order: OrderRequest) -> None:
        if self._unsettled:
            self._unsettled[:] = [p for p in self._unsettled if p.order.userref != order.userref]

    def _skip(self, side: Side, reason: str, *, below_minimum: bool = False) -> None:
        for told in self.on_skipped:
            told(below_minimum)
        if self.bus.wants(OrderSkipped):
            self.bus.emit(OrderSkipped(self.clock.now(), side, reason))
        return None

    def _skip_short(self, commit: Decimal, ask: float) -> None:
        """A buy ``commit`` cannot bring to ``ordermin`` at ``ask`` or more: after a backtest's cash ran out, every buy
        signal ends here (tens of thousands), so its reason is worded only for a sink that reads it."""
        for told in self.on_skipped:
            told(True)
        if self.bus.wants(OrderSkipped):
            self.bus.emit(OrderSkipped(self.clock.now(), Side.BUY, self._ordermin.reason(commit, ask)))
        return None

    def _failed(self, side: Side, volume: Decimal, userref: int, exc: ExchangeError) -> None:
        self.bus.emit(OrderFailed(self.clock.now(), side, volume, userref, type(exc).__name__, str(exc)))
        return None


def _shown(value: object) -> str:
    """A strategy's wrong argument, named without running its own code (``repr`` of a hostile object could raise)."""
    if isinstance(value, (int, float, str, Decimal)) or value is None:
        return repr(value)[:40]
    return f"a {type(value).__name__}"


def _latency(started: float | None) -> float | None:
    return None if started is None else time.perf_counter() - started
