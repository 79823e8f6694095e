"""Recorded ticks as a market: the ticker is the latest tick at the clock's time, the book one level at it.

Used to run the live code path (runtime, paper fills) over recorded prices with
a simulated clock, e.g. to prove that it trades exactly like the backtester.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Sequence

from candlebot.clock import Clock
from candlebot.errors import FatalExchangeError, TemporaryExchangeError
from candlebot.venue import BookLevel, OhlcPage, OrderBook, Side, Ticker
from candlebot.money import to_decimal
from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_pairs import normalise

_UNLIMITED = Decimal("1e12")


class TickReplay:
    name = "replay"

    def __init__(self, pair: PairInfo, ticks: Sequence[tuple[float, float, float]], clock: Clock) -> None:
        """``ticks``: (time, price, volume) in time order."""
        self.pair = pair
        self.times = [t for t, _, _ in ticks]
        self.prices = [p for _, p, _ in ticks]
        self.cumulative: list[float] = []
        total = 0.0
        for _, _, volume in ticks:
            total += volume
            self.cumulative.append(total)
        self.clock = clock

    def _index(self) -> int:
        k = bisect.bisect_right(self.times, self.clock.now()) - 1
        if k < 0:
            raise TemporaryExchangeError("no tick yet at this time")
        return k

    def pair_info(self, pair: str) -> PairInfo:
        if normalise(pair) not in (normalise(self.pair.name), normalise(self.pair.altname)):
            raise FatalExchangeError(f"the replay trades {self.pair.altname}, not {pair}", code="EQuery:Unknown asset pair")
        return self.pair

    def ticker(self, pair: str) -> Ticker:
        k = self._index()
        price = to_decimal(self.prices[k])
        return Ticker(self.pair.name, self.clock.now(), price, price, price, volume_today=to_decimal(self.cumulative[k]))

    def ohlc(self, pair: str, interval_minutes: int, since: int | None = None) -> OhlcPage:
        return OhlcPage((), None, since or 0)

    def order_book(self, pair: str, depth: int = 100) -> OrderBook:
        price = to_decimal(self.prices[self._index()])
        level = (BookLevel(price, _UNLIMITED),)
        return OrderBook(self.pair.name, self.clock.now(), bids=level, asks=level)

    def market_price(self, pair: str, side: Side) -> Decimal:
        return to_decimal(self.prices[self._index()])
