"""From a strategy's intent to a booked trade: risk checks, sizing, the order, the fill, the books.

    buy()/close(trade)
      -> checks (open-trade cap, cash, ordermin/costmin)      -> OrderSkipped
      -> OrderRequest with a fresh userref, written to the journal BEFORE sending
      -> exchange.place_market_order                          -> OrderFailed on refusal / unknown outcome
      -> fill written to the journal, booked in the ledger    -> TradeOpened / TradeClosed

Business failures are events, not exceptions: the strategy just sees ``None``.
Only errors that must stop the bot (auth, bad config) propagate.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Callable, Protocol

from candlebot.clock import Clock
from candlebot.errors import ExchangeError, FatalExchangeError, OrderOutcomeUnknown
from candlebot.events import EventBus, OrderFailed, OrderSkipped, TradeClosed, TradeOpened
from candlebot.exchange import Exchange, Fill, OrderRequest, Side
from candlebot.ledger import Ledger, Sizing
from candlebot.pair import PairInfo
from candlebot.trade import BotTrade


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
        self.paused: str | None = None  # why no order may be sent now (unsettled orders after a restart)

    def buy(self, volume: Decimal | None = None) -> BotTrade | None:
        ledger, pair = self.ledger, self.pair
        if self.paused is not None:
            return self._skip(Side.BUY, self.paused)
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
        order = OrderRequest(pair.name, Side.BUY, volume, self.next_userref())
        self.journal.intent(order, None)
        started = time.perf_counter()
        fill = self._send(order)
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
        fill = self._send(order)
        if fill is None:
            return None
        closed = self.ledger.book_close(trade, fill)
        self.journal.filled(order, fill, closed, self.ledger.cash)
        self.bus.emit(TradeClosed(self.clock.now(), closed, time.perf_counter() - started))
        return closed

    def _send(self, order: OrderRequest) -> Fill | None:
        try:
            return self.exchange.place_market_order(order)
        except FatalExchangeError:
            raise
        except OrderOutcomeUnknown as exc:  # stays an open intent: reconciled by userref later
            self._failed(order.side, order.volume, order.userref, exc)
        except ExchangeError as exc:  # refused, or proven never placed
            self.journal.failed(order, exc)
            self._failed(order.side, order.volume, order.userref, exc)
        return None

    def _skip(self, side: Side, reason: str) -> None:
        if self.bus.wants(OrderSkipped):
            self.bus.emit(OrderSkipped(self.clock.now(), side, reason))
        return None

    def _failed(self, side: Side, volume: Decimal, userref: int, exc: ExchangeError) -> None:
        self.bus.emit(OrderFailed(self.clock.now(), side, volume, userref, type(exc).__name__, str(exc)))
        return None
