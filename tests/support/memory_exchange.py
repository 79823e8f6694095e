"""An exchange that lives in memory, for the fast unit layer: an order book and an account the test sets, and
scripted faults (a refused order, a lost reply, an order that has not settled, a deferred lookup).

It implements ``candlebot.venue.Exchange`` and passes the exchange contract suite
(tests/contract/test_exchange_contract.py), so what the trader and the reconciler do against it they do
against every venue. A protected market order behaves as Kraken's IOC limit order: it takes the book's
levels up to its protection price (the shared fill model's walk, the pair's taker fee) and cancels the rest,
so a thin book or a tight protection gives a partial fill, or none (a fill of volume 0). What it takes
leaves the book. It lives under tests/ because it is a test double: no bot can be wired to it.

    exchange = MemoryExchange(XBTUSD, clock=clock, balances={"ZUSD": Decimal(1000)})
    exchange.set_book(bids=[("29990", "1")], asks=[("30000", "0.01"), ("30010", "1")])
    exchange.script_orders(LOST_REPLY)            # the next order executes but its reply is lost
    exchange.script_lookups(RateLimitError("full"))  # the next lookup is deferred
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence

from candlebot.candle import Candle
from candlebot.clock import Clock
from candlebot.errors import FatalExchangeError, OrderOutcomeUnknown, OrderRejected
from candlebot.exchanges.fill_model import fill_market_order, settle
from candlebot.exchanges.kraken_pairs import normalise
from candlebot.money import ZERO, round_to
from candlebot.pair import PairInfo
from candlebot.trading.protection import reach, take
from candlebot.venue import BookLevel, Fill, OhlcPage, OrderBook, OrderRequest, Side, Ticker

Level = tuple[Decimal | str | int, Decimal | str | int]


@dataclass(frozen=True)
class LostReply:
    """A scripted order step: the order is placed and executes, but its reply is lost (``OrderOutcomeUnknown``).

    ``settled=False``: lookups also find it still open (``OrderOutcomeUnknown``) until ``settle(userref)``.
    """

    settled: bool = True


LOST_REPLY = LostReply()


class MemoryExchange:
    name = "memory"

    def __init__(self, pair: PairInfo, *, clock: Clock, balances: dict[str, Decimal], fee_rate: Decimal | None = None,
                 bids: Iterable[Level] = (), asks: Iterable[Level] = (), candles: Sequence[Candle] = ()) -> None:
        self.pair = pair
        self.clock = clock
        self.fee_rate = pair.taker_fee if fee_rate is None else fee_rate
        self.candles = tuple(candles)
        self.sent: list[OrderRequest] = []  # every order that reached the exchange, placed or not
        self._balances = {pair.quote: ZERO, pair.base: ZERO, **balances}
        self._orders: dict[int, Fill] = {}
        self._open: set[int] = set()  # placed, not settled yet
        self._order_steps: deque[LostReply | Exception] = deque()
        self._lookup_steps: deque[Exception] = deque()
        self._bids: list[BookLevel] = []
        self._asks: list[BookLevel] = []
        self.set_book(bids=bids, asks=asks)

    # -- what a test arranges ----------------------------------------------------------------

    def set_book(self, *, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """The book from (price, volume) pairs, in any order: bids are kept highest first, asks lowest first."""
        self._bids = sorted((_level(p, v) for p, v in bids), key=lambda level: level.price, reverse=True)
        self._asks = sorted((_level(p, v) for p, v in asks), key=lambda level: level.price)

    def script_orders(self, *steps: LostReply | Exception) -> None:
        """What the next orders meet, one step each: an exception is raised before anything is placed; ``LostReply``
        places the order and loses its reply. Orders beyond the script are answered normally."""
        self._order_steps.extend(steps)

    def script_lookups(self, *steps: Exception) -> None:
        """Exceptions the next ``find_order`` calls raise, one each (e.g. ``RateLimitError``)."""
        self._lookup_steps.extend(steps)

    def settle(self, userref: int) -> None:
        """An order left open by ``LostReply(settled=False)`` is over: lookups find its fill."""
        self._open.discard(userref)

    # -- market data ----------------------------------------------------------------------------

    def pair_info(self, pair: str) -> PairInfo:
        self._check_pair(pair)
        return self.pair

    def ticker(self, pair: str) -> Ticker:
        self._check_pair(pair)
        bid, ask = self._best(Side.SELL), self._best(Side.BUY)
        last = round_to((bid + ask) / 2, self.pair.pair_decimals)
        return Ticker(self.pair.name, self.clock.now(), last, bid, ask)

    def ohlc(self, pair: str, interval_minutes: int, since: int | None = None) -> OhlcPage:
        self._check_pair(pair)
        candles = tuple(c for c in self.candles if since is None or c.time > since)
        return OhlcPage(candles, None, candles[-1].time if candles else (since or 0))

    def latest_candles(self, pair: str, period: int, count: int, now: float) -> list[Candle]:
        """``History``: the last ``count`` of the test's candles that closed before ``now`` (a bot's warm-up)."""
        self._check_pair(pair)
        return [c for c in self.candles if c.time + period <= now][-count:]

    def order_book(self, pair: str, depth: int = 100) -> OrderBook:
        self._check_pair(pair)
        return OrderBook(self.pair.name, self.clock.now(), tuple(self._bids[:depth]), tuple(self._asks[:depth]))

    def market_price(self, pair: str, side: Side) -> Decimal:
        self._check_pair(pair)
        return self._best(side)

    # -- the account ------------------------------------------------------------------------------

    def balances(self) -> dict[str, Decimal]:
        return dict(self._balances)

    def place_market_order(self, order: OrderRequest) -> Fill:
        self._check_pair(order.pair)
        self.sent.append(order)
        step = self._order_steps.popleft() if self._order_steps else None
        if isinstance(step, Exception):
            raise step
        levels = self._asks if order.side is Side.BUY else self._bids
        if not levels:
            raise OrderRejected(f"no {'asks' if order.side is Side.BUY else 'bids'} in the book", code="memory:empty book")
        worst = order.limit if order.limit is not None else reach(levels, order.volume)
        reason = self.pair.below_minimum(worst, order.volume)
        if reason is not None:
            raise OrderRejected(reason, code="EOrder:Order minimum not met")
        self._check_funds(order, worst)
        fill = fill_market_order(order, levels, self.pair, self.fee_rate,
                                 order_id=f"MEM{len(self._orders) + 1:06d}-{order.side.value.upper()}", time=self.clock.now())
        settle(self._balances, fill, self.pair)
        self._consume(levels, order)
        self._orders[order.userref] = fill
        if isinstance(step, LostReply):
            if not step.settled:
                self._open.add(order.userref)
            raise OrderOutcomeUnknown("the reply was lost (scripted)", userref=order.userref)
        return fill

    def find_order(self, pair: str, userref: int) -> Fill | None:
        self._check_pair(pair)
        if self._lookup_steps:
            raise self._lookup_steps.popleft()
        if userref in self._open:
            raise OrderOutcomeUnknown(f"order userref {userref} has not settled yet", userref=userref)
        return self._orders.get(userref)

    # -- helpers ----------------------------------------------------------------------------------

    def _check_funds(self, order: OrderRequest, worst: Decimal) -> None:
        """As Kraken: a buy must be covered at its limit (cost plus fee), a sell by the base held."""
        quote, base = self.pair.quote, self.pair.base
        if order.side is Side.BUY:
            cost = self.pair.cost(worst, order.volume)
            need = cost + self.pair.fee(cost, self.fee_rate)
            if need > self._balances[quote]:
                raise OrderRejected(f"insufficient funds: need {need} {quote}, have {self._balances[quote]}",
                                    code="EOrder:Insufficient funds")
        elif order.volume > self._balances[base]:
            raise OrderRejected(f"insufficient funds: need {order.volume} {base}, have {self._balances[base]}",
                                code="EOrder:Insufficient funds")

    def _consume(self, levels: list[BookLevel], order: OrderRequest) -> None:
        for price, amount in take(levels, order.volume, order.limit, order.side):
            level = levels.pop(0)
            assert level.price == price
            if level.volume > amount:
                levels.insert(0, BookLevel(price, level.volume - amount))

    def _best(self, side: Side) -> Decimal:
        levels = self._asks if side is Side.BUY else self._bids
        if not levels:
            raise OrderRejected(f"no {'asks' if side is Side.BUY else 'bids'} in the book", code="memory:empty book")
        return levels[0].price

    def _check_pair(self, pair: str) -> None:
        if normalise(pair) not in (normalise(self.pair.name), normalise(self.pair.altname), normalise(self.pair.wsname)):
            raise FatalExchangeError(f"this exchange trades {self.pair.altname}, not {pair}", code="EQuery:Unknown asset pair")


def _level(price: Decimal | str | int, volume: Decimal | str | int) -> BookLevel:
    return BookLevel(Decimal(price), Decimal(volume))
