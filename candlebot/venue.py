"""The one interface every venue implements: backtest, paper, validate, live Kraken.

The core (engine, trader, runtime) only ever talks to an ``Exchange``;
``candlebot.assembly`` decides which one. Amounts crossing this interface are ``Decimal`` except
candle prices, which stay float64 for TA-Lib. Implementations raise only the
``candlebot.errors`` tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Protocol

from candlebot.candle import Candle
from candlebot.pair import PairInfo


class Side(str, Enum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class Ticker:
    pair: str
    time: float
    last: Decimal
    bid: Decimal
    ask: Decimal
    volume_24h: Decimal = Decimal(0)
    volume_today: Decimal = Decimal(0)  # since 00:00 UTC: its increments are the volume between polls


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids highest first, asks lowest first."""

    pair: str
    time: float
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]


@dataclass(frozen=True, slots=True)
class OhlcPage:
    """Closed candles, oldest first; ``forming`` is the still-open candle, ``last`` the cursor for the next page."""

    candles: tuple[Candle, ...]
    forming: Candle | None
    last: int


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A market order with price protection that we intend to send; ``userref`` identifies it for lookups after a
    crash or timeout.

    ``limit`` is the protection price: nothing executes beyond it (a buy above it, a sell below it), and what the
    book does not offer within it is canceled (Kraken: an IOC limit order). The trader always sets it; None (a
    bare market order) is left for adapter tests.
    """

    pair: str
    side: Side
    volume: Decimal
    userref: int
    limit: Decimal | None = None

    def __post_init__(self) -> None:
        if self.volume <= 0:
            raise ValueError(f"order volume must be positive, got {self.volume}")
        if self.limit is not None and not self.limit > 0:
            raise ValueError(f"protection price must be positive, got {self.limit}")
        if not -(2**31) <= self.userref < 2**31:
            raise ValueError(f"userref must fit in int32, got {self.userref}")


@dataclass(frozen=True, slots=True)
class Fill:
    """What the exchange executed for one order: average price, executed volume, cost and fee in quote.

    The volume may be less than the order's (a partial fill) or 0 (nothing executed within the protection price).
    """

    order_id: str
    userref: int
    pair: str
    side: Side
    time: float
    price: Decimal
    volume: Decimal
    cost: Decimal
    fee: Decimal


class MarketData(Protocol):
    """Prices of a venue. ``pair`` arguments accept the exchange's id or altname."""

    name: str

    def pair_info(self, pair: str) -> PairInfo: ...

    def ticker(self, pair: str) -> Ticker: ...

    def ohlc(self, pair: str, interval_minutes: int, since: int | None = None) -> OhlcPage: ...

    def order_book(self, pair: str, depth: int = 100) -> OrderBook: ...

    def market_price(self, pair: str, side: Side) -> Decimal:
        """The price a market order of ``side`` would fill at now: what orders are sized with."""
        ...


class Exchange(MarketData, Protocol):
    """A venue seen by one bot: its market data and the account that trades on it."""

    def balances(self) -> dict[str, Decimal]: ...

    def place_market_order(self, order: OrderRequest) -> Fill:
        """Send the order (IOC at ``order.limit``) and wait for what it executed: all, part or nothing (volume 0).

        Raises OrderRejected (refused, nothing placed), OrderOutcomeUnknown
        (may exist: look it up by userref), TemporaryExchangeError (not sent or
        proven absent: safe to try again later) or FatalExchangeError.
        """
        ...

    def find_order(self, pair: str, userref: int) -> Fill | None:
        """The fill of the order carrying ``userref``; None when no such order exists (yet), a fill of volume 0
        when it is over with nothing executed.

        Raises OrderOutcomeUnknown while the order exists but has not settled.
        """
        ...


class History(Protocol):
    """Closed candles from before a bot started, to warm its indicators up on."""

    def latest_candles(self, pair: str, period: int, count: int, now: float) -> list[Candle]:
        """The latest ``count`` candles of ``period`` seconds closed by ``now``, oldest first (fewer when the venue
        has no more); candles of any period, however the venue serves them."""
        ...


class CandleVenue(Protocol):
    """A venue replaying the engine's own chart (the backtest): the engine tells it which candle it is on
    before each tick, so that its prices, fills and time follow the candles."""

    def at(self, index: int) -> None: ...
