"""Live trading: Kraken places the orders; this wrapper refuses what the account cannot cover.

The balance is checked before every order against a snapshot that is
refreshed every ``refresh_s`` and updated by every fill, so the check costs no
round trip on the order path. No read of it ever waits for the key's rate
budget (the poll loop that places orders must not): when the budget is kept for
others (several bots on one key), the snapshot, which follows every fill (also
a fill read on a later poll, ``OrderFillPending``), serves until the next
refresh. The first snapshot is the account as read at start (before the poll
loop); with none (after an order whose outcome is unknown) and no budget now,
the order is not sent (``RateBudgetDeferred``) and the strategy's next signal
tries again. The latest polled ticker prices orders for the
same reason; orders themselves go to the adapter (idempotent by userref).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from candlebot.candle import Candle
from candlebot.clock import Clock
from candlebot.errors import OrderFillPending, OrderRejected, RateLimitError
from candlebot.venue import Exchange, Fill, History, OhlcPage, OrderBook, OrderRequest, Side, Ticker
from candlebot.money import ZERO
from candlebot.pair import PairInfo
from candlebot.exchanges.fill_model import settle


class Account(Exchange, History, Protocol):
    """The Kraken adapter as the live wrapper uses it: the venue, its warm-up history, deferrable balance reads."""

    def balances(self, *, deferrable: bool = False) -> dict[str, Decimal]: ...


class LiveExchange:
    name = "live"

    def __init__(self, kraken: Account, pair: PairInfo, clock: Clock, *, fee_rate: Decimal | None = None,
                 refresh_s: float = 30.0, ticker_ttl: float = 10.0, balances: dict[str, Decimal] | None = None) -> None:
        """``balances``: the account as read at start (the first snapshot)."""
        self.kraken = kraken
        self.pair = pair
        self.fee_rate = pair.taker_fee if fee_rate is None else fee_rate
        self.clock = clock
        self.refresh_s = refresh_s
        self.ticker_ttl = ticker_ttl
        self._balances: dict[str, Decimal] | None = dict(balances) if balances is not None else None
        self._balances_at = clock.monotonic() if balances is not None else float("-inf")
        self._ticker: Ticker | None = None
        self._ticker_at = float("-inf")
        self._fill_pending: set[int] = set()  # placed orders whose fill the snapshot has not followed yet

    def pair_info(self, pair: str) -> PairInfo:
        return self.kraken.pair_info(pair)

    def ticker(self, pair: str) -> Ticker:
        ticker = self.kraken.ticker(pair)
        self._ticker, self._ticker_at = ticker, self.clock.monotonic()
        return ticker

    def ohlc(self, pair: str, interval_minutes: int, since: int | None = None) -> OhlcPage:
        return self.kraken.ohlc(pair, interval_minutes, since)

    def order_book(self, pair: str, depth: int = 100) -> OrderBook:
        return self.kraken.order_book(pair, depth)

    def latest_candles(self, pair: str, period: int, count: int, now: float) -> list[Candle]:
        return self.kraken.latest_candles(pair, period, count, now)

    def market_price(self, pair: str, side: Side) -> Decimal:
        ticker = self._ticker
        if ticker is None or self.clock.monotonic() - self._ticker_at > self.ticker_ttl:
            ticker = self.ticker(pair)
        return ticker.ask if side is Side.BUY else ticker.bid

    def balances(self) -> dict[str, Decimal]:
        if self._balances is None or self.clock.monotonic() - self._balances_at > self.refresh_s:
            try:  # a refresh is deferrable: it never makes the order behind it wait for the key's rate budget
                self._balances = dict(self.kraken.balances(deferrable=True))
                self._balances_at = self.clock.monotonic()
            except RateLimitError:
                if self._balances is None:
                    raise
        return dict(self._balances)

    def start_balances(self, balances: dict[str, Decimal], read_at: float) -> None:
        """The account as the start-up audit read it (monotonic ``read_at``), before any order: the first snapshot,
        unless this venue has read its own. Spares every bot of a fleet a Balance read of its own."""
        if self._balances is None:
            self._balances, self._balances_at = dict(balances), read_at

    def place_market_order(self, order: OrderRequest) -> Fill:
        available = self.balances()
        quote, base = self.pair.quote, self.pair.base
        if order.side is Side.BUY:
            price = order.limit if order.limit is not None else self.market_price(order.pair, Side.BUY)
            cost = self.pair.cost(price, order.volume)
            need = cost + self.pair.fee(cost, self.fee_rate)
            if need > available.get(quote, ZERO):
                raise OrderRejected(f"balance check: need about {need} {quote}, account has {available.get(quote, ZERO)}", code="balance check")
        elif order.volume > available.get(base, ZERO):
            raise OrderRejected(f"balance check: selling {order.volume} {base}, account has {available.get(base, ZERO)}", code="balance check")
        try:
            fill = self.kraken.place_market_order(order)
        except OrderFillPending:
            self._fill_pending.add(order.userref)  # placed: the snapshot follows its fill when it is read
            raise
        except Exception:
            self._balances = None  # the order may have executed: read the account again before the next one
            raise
        if self._balances is not None and fill.volume > 0:
            settle(self._balances, fill, self.pair, check=False)  # the snapshot follows the account until refreshed
        return fill

    def find_order(self, pair: str, userref: int) -> Fill | None:
        fill = self.kraken.find_order(pair, userref)
        if fill is not None and userref in self._fill_pending:
            self._fill_pending.discard(userref)
            if self._balances is not None and fill.volume > 0:
                settle(self._balances, fill, self.pair, check=False)
        return fill
