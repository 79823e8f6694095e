"""The order book an order is priced on, read just before the ticker poll that closes a candle.

Orders are decided when a candle closes, and pricing them needs the book (a
Depth read, one more round trip). A running bot knows which poll will close
the candle (its clock has passed the candle's end), so it reads the book just
before that ticker and the decision does not wait for it: the book is then one
round trip older than the ticker. A prefetched book serves one order only,
and only while younger than ``max_age``; otherwise the book is read when asked.
"""

from __future__ import annotations

from candlebot.clock import Clock
from candlebot.errors import ExchangeError, FatalExchangeError
from candlebot.venue import MarketData, OrderBook


class BookFeed:
    def __init__(self, market: MarketData, pair: str, *, clock: Clock, depth: int = 100, max_age: float = 1.0) -> None:
        self.market = market
        self.pair = pair
        self.clock = clock
        self.depth = depth
        self.max_age = max_age
        self._ready: tuple[float, OrderBook] | None = None

    def prefetch(self) -> None:
        """Read the book now for an order that may follow; a failed read is left to the order itself."""
        try:
            self._ready = (self.clock.monotonic(), self.market.order_book(self.pair, self.depth))
        except FatalExchangeError:
            raise
        except ExchangeError:
            self._ready = None

    def __call__(self) -> OrderBook:
        ready, self._ready = self._ready, None
        if ready is not None and self.clock.monotonic() - ready[0] <= self.max_age:
            return ready[1]
        return self.market.order_book(self.pair, self.depth)
