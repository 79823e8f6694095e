"""Historical candles as a venue.

A market order decided on candle i's close fills at candle i+1's open: the
first price the strategy could not have known. ``spread`` (a fraction of the
price) makes a buy pay the ask and a sell get the bid, half the spread either
side of that open, as a bot's market order does; slippage moves that price
against the trader by ``slippage_bps``, then it is rounded to the pair's price
decimals, again against the trader. That price plays the order book (one
unlimited level per side), so orders are sized and protected by the same rule
as a running bot's, and the fill goes through the same fill model as paper
trading, with the fee on the notional.

The engine moves the venue to each candle before the strategy's tick (``at``):
its prices, its fills and its clock follow the candles, never the wall clock.
"""

from __future__ import annotations

from decimal import Decimal

from candlebot.chart import Chart
from candlebot.errors import FatalExchangeError, OrderRejected
from candlebot.venue import BookLevel, Fill, OhlcPage, OrderBook, OrderRequest, Side, Ticker
from candlebot.money import ZERO, to_decimal
from candlebot.pair import PairInfo
from candlebot.exchanges.fill_model import fill_market_order, settle
from candlebot.exchanges.kraken_pairs import normalise

_UNLIMITED = Decimal("1e12")


class CandleClock:
    """Backtest time: the close of the candle the venue is at, so orders and events are dated in market time."""

    __slots__ = ("chart", "index")

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.index = -1

    def now(self) -> float:
        chart = self.chart
        if self.index < 0:
            return float(chart.times[0]) if len(chart) else 0.0
        return float(chart.times[self.index] + chart.period)

    def monotonic(self) -> float:
        """Market time never steps back in a backtest."""
        return self.now()

    def sleep(self, seconds: float) -> None:
        """Backtest time moves with the candles only."""


class BacktestExchange:
    name = "backtest"

    def __init__(
        self,
        chart: Chart,
        pair: PairInfo,
        clock: CandleClock,
        *,
        cash: Decimal,
        fee_rate: Decimal,
        slippage_bps: Decimal = ZERO,
        spread: Decimal = ZERO,
    ) -> None:
        if slippage_bps < 0:
            raise ValueError("slippage_bps must be >= 0")
        if not ZERO <= spread < 1:
            raise ValueError("spread must be a fraction within [0, 1)")
        self.half_spread = spread / 2
        self.chart = chart
        self.pair = pair
        self.clock = clock
        self.fee_rate = fee_rate
        self.slippage = slippage_bps / 10_000
        self._balances = {pair.quote: cash, pair.base: ZERO}
        self._orders: dict[int, Fill] = {}
        self._pair_names: set[str] = set()  # names already checked to be this backtest's pair (every order asks)
        self._open: tuple[int, Decimal] = (-1, ZERO)  # the last next-candle open read, as a Decimal

    def at(self, index: int) -> None:
        """``CandleVenue``: the engine is on candle ``index``; orders decided now fill at the next one's open."""
        self.clock.index = index

    # -- market data -------------------------------------------------------------

    def pair_info(self, pair: str) -> PairInfo:
        self._check_pair(pair)
        return self.pair

    def ticker(self, pair: str) -> Ticker:
        self._check_pair(pair)
        i = max(self.clock.index, 0)
        last = to_decimal(self.chart.closes[i])
        return Ticker(self.pair.name, self.clock.now(), last, last, last, to_decimal(self.chart.volumes[i]))

    def ohlc(self, pair: str, interval_minutes: int, since: int | None = None) -> OhlcPage:
        """Closed candles up to the current one (the chart's own period only)."""
        self._check_pair(pair)
        if interval_minutes * 60 != self.chart.period:
            raise FatalExchangeError(f"backtest data has {self.chart.period}s candles, not {interval_minutes} min")
        candles = tuple(c for c in (self.chart[k] for k in range(self.clock.index + 1)) if since is None or c.time > since)
        return OhlcPage(candles, None, candles[-1].time if candles else (since or 0))

    def order_book(self, pair: str, depth: int = 100) -> OrderBook:
        """One unlimited level per side at the prices a market order would get now."""
        self._check_pair(pair)
        return OrderBook(
            self.pair.name,
            self.clock.now(),
            bids=(BookLevel(self.market_price(pair, Side.SELL), _UNLIMITED),),
            asks=(BookLevel(self.market_price(pair, Side.BUY), _UNLIMITED),),
        )

    def market_price(self, pair: str, side: Side) -> Decimal:
        next_open = self._next_candle()
        if next_open is None:
            raise OrderRejected("no later candle to fill at (end of data)", code="backtest:end of data")
        if self._open[0] != next_open:  # both sides of a book and the fill read the same open: converted once
            self._open = (next_open, to_decimal(self.chart.opens[next_open]))
        price = self._open[1]
        if self.half_spread:  # the ask for a buy, the bid for a sell
            price = price * (1 + self.half_spread) if side is Side.BUY else price * (1 - self.half_spread)
        if self.slippage:
            price = price * (1 + self.slippage) if side is Side.BUY else price * (1 - self.slippage)
        return self.pair.price_against(price, side.value)

    def least_ask(self) -> float | None:
        """The next candle's open: no buy fills below it now (spread, slippage and rounding only raise a buy's
        price); None at the end of the data. The trader's cheap ``ordermin`` check (``Trader(least_ask=...)``)."""
        following = self.clock.index + 1
        return self.chart.opens[following] if following < len(self.chart) else None

    # -- account -----------------------------------------------------------------

    def balances(self) -> dict[str, Decimal]:
        return dict(self._balances)

    def place_market_order(self, order: OrderRequest) -> Fill:
        self._check_pair(order.pair)
        next_open = self._next_candle()
        if next_open is None:
            raise OrderRejected("no later candle to fill at (end of data)", code="backtest:end of data")
        price = self.market_price(order.pair, order.side)
        reason = self.pair.below_minimum(price, order.volume)
        if reason is not None:
            raise OrderRejected(reason, code="EOrder:Order minimum not met")
        fill = fill_market_order(
            order,
            (BookLevel(price, _UNLIMITED),),
            self.pair,
            self.fee_rate,
            order_id=f"BT{len(self._orders) + 1:06d}-{order.side.value.upper()}",
            time=float(self.chart.times[next_open]),
        )
        settle(self._balances, fill, self.pair)
        self._orders[order.userref] = fill
        return fill

    def find_order(self, pair: str, userref: int) -> Fill | None:
        self._check_pair(pair)
        return self._orders.get(userref)

    # -- helpers -----------------------------------------------------------------

    def _next_candle(self) -> int | None:
        following = self.clock.index + 1
        return following if following < len(self.chart) else None

    def _check_pair(self, pair: str) -> None:
        if pair in self._pair_names:
            return
        if normalise(pair) not in (normalise(self.pair.name), normalise(self.pair.altname)):
            raise FatalExchangeError(f"this backtest trades {self.pair.altname}, not {pair}", code="EQuery:Unknown asset pair")
        self._pair_names.add(pair)

