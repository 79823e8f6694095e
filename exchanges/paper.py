"""Paper trading: a real market's data, simulated fills, an account that lives in this process.

A protected market order walks the market's current Depth (asks for a buy,
bids for a sell) up to its protection price through the same fill model as
the backtest exchange, paying the pair's taker fee; what the book does not
offer within the price is canceled, as Kraken cancels the rest of an IOC order. With ``validate`` set (``--validate``), every order is first sent
to Kraken with ``validate=true``: Kraken checks it and places nothing.
The bot's store persists what was filled; on restart the account is rebuilt
from it, so the paper account survives crashes like a real one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Protocol

from candlebot.candle import Candle
from candlebot.clock import Clock
from candlebot.errors import OrderRejected
from candlebot.venue import Fill, History, MarketData, OhlcPage, OrderBook, OrderRequest, Side, Ticker
from candlebot.money import ZERO
from candlebot.pair import PairInfo
from candlebot.exchanges.fill_model import fill_market_order, settle


class Market(MarketData, History, Protocol):
    """What paper trading reads from the real market: prices and warm-up history."""


class PaperExchange:
    name = "paper"

    def __init__(
        self,
        market: Market,
        pair: PairInfo,
        *,
        fee_rate: Decimal,
        balances: dict[str, Decimal],
        clock: Clock,
        depth: int = 100,
        validate: Callable[[OrderRequest], object] | None = None,
    ) -> None:
        self.market = market
        self.pair = pair
        self.fee_rate = fee_rate
        self.clock = clock
        self.depth = depth
        self.validate = validate
        self._balances = {pair.quote: ZERO, pair.base: ZERO, **balances}
        self._fills: dict[int, Fill] = {}

    # -- market data comes from the real market --------------------------------------------

    def pair_info(self, pair: str) -> PairInfo:
        return self.market.pair_info(pair)

    def ticker(self, pair: str) -> Ticker:
        return self.market.ticker(pair)

    def ohlc(self, pair: str, interval_minutes: int, since: int | None = None) -> OhlcPage:
        return self.market.ohlc(pair, interval_minutes, since)

    def order_book(self, pair: str, depth: int = 100) -> OrderBook:
        return self.market.order_book(pair, depth)

    def latest_candles(self, pair: str, period: int, count: int, now: float) -> list[Candle]:
        """``History``: the real market's."""
        return self.market.latest_candles(pair, period, count, now)

    def market_price(self, pair: str, side: Side) -> Decimal:
        book = self.market.order_book(pair, 1)
        levels = book.asks if side is Side.BUY else book.bids
        if not levels:
            raise OrderRejected(f"no {'asks' if side is Side.BUY else 'bids'} in the book", code="paper:empty book")
        return levels[0].price

    # -- the account lives here ------------------------------------------------------------

    def balances(self) -> dict[str, Decimal]:
        return dict(self._balances)

    def place_market_order(self, order: OrderRequest) -> Fill:
        if self.validate is not None:
            self.validate(order)  # Kraken's own checks; raises OrderRejected & co.
        book = self.market.order_book(order.pair, self.depth)
        levels = book.asks if order.side is Side.BUY else book.bids
        if not levels:
            raise OrderRejected(f"no {'asks' if order.side is Side.BUY else 'bids'} in the book", code="paper:empty book")
        reason = self.pair.below_minimum(order.limit or levels[0].price, order.volume)
        if reason is not None:
            raise OrderRejected(reason, code="EOrder:Order minimum not met")
        fill = fill_market_order(order, levels, self.pair, self.fee_rate, order_id=f"PAPER-{order.userref}", time=self.clock.now())
        settle(self._balances, fill, self.pair)
        self._fills[order.userref] = fill
        return fill

    def find_order(self, pair: str, userref: int) -> Fill | None:
        return self._fills.get(userref)
