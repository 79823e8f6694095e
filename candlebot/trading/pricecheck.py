"""Price sanity: a bad tick must never become an order.

A running bot checks every ticker it polls and every book it is about to
size an order on. Refused: a non-positive or non-finite price, a crossed
book (ask <= bid), and a best bid or ask further than ``max_deviation`` from
the references (the last sane trade price polled, the last closed candle's
close). Unparsable prices never get here: the adapter refuses the reply
(a failed poll or a failed order, reported as such).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Sequence

from candlebot.venue import OrderBook, Ticker
from candlebot.money import ZERO

MAX_DEVIATION = Decimal("0.05")


def _bad(price: Decimal) -> bool:
    return not price.is_finite() or price <= ZERO


@dataclass
class PriceGuard:
    """Refuses impossible or inconsistent prices; ``references`` gives the prices a book must stay near."""

    max_deviation: Decimal = MAX_DEVIATION
    references: Callable[[], Sequence[Decimal]] = field(default=lambda: ())

    def __post_init__(self) -> None:
        if not ZERO < self.max_deviation < 1:
            raise ValueError(f"max price deviation must be a fraction within (0, 1), got {self.max_deviation}")

    def ticker_problem(self, ticker: Ticker) -> str | None:
        """Why this ticker must not be used (None: it is sane). Its last trade must sit near its own bid/ask."""
        for name in ("last", "bid", "ask"):
            value = getattr(ticker, name)
            if _bad(value):
                return f"impossible ticker: {name} {value}"
        if ticker.ask <= ticker.bid:
            return f"crossed ticker: ask {ticker.ask} <= bid {ticker.bid}"
        return self._far(ticker.bid, ticker.ask, (ticker.last,), "ticker", "last trade")

    def book_problem(self, book: OrderBook) -> str | None:
        """Why orders must not be sized on this book (None: it is sane)."""
        if not book.asks or not book.bids:
            return "empty order book"
        ask, bid = book.asks[0].price, book.bids[0].price
        for name, value in (("ask", ask), ("bid", bid)):
            if _bad(value):
                return f"impossible book: best {name} {value}"
        if any(_bad(level.price) for level in (*book.asks, *book.bids)):
            return "impossible book: a level with a non-positive or non-finite price"
        if ask <= bid:
            return f"crossed book: ask {ask} <= bid {bid}"
        return self._far(bid, ask, tuple(self.references()), "book", "last trade/close")

    def _far(self, bid: Decimal, ask: Decimal, references: Sequence[Decimal], what: str, named: str) -> str | None:
        limit = self.max_deviation
        for reference in references:
            if _bad(reference):
                continue
            for name, price in (("bid", bid), ("ask", ask)):
                if abs(price - reference) > limit * reference:
                    return (f"{what} {name} {price} is more than {float(limit * 100):g}% from the {named} {reference}")
        return None


@dataclass
class MarketReferences:
    """The prices a book is checked against: the last sane trade polled and the last closed candle's close."""

    closes: Callable[[], Decimal | None] = field(default=lambda: None)
    last_trade: Decimal | None = None

    def __call__(self) -> tuple[Decimal, ...]:
        close = self.closes()
        return tuple(p for p in (self.last_trade, close) if p is not None)
