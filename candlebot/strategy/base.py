"""The base every strategy subclasses, as in the original bot.

A strategy declares its ``Params`` (a frozen dataclass), asks for indicator
lines in ``setup`` and decides in ``evaluate_positions(i)``, reading values at
candle ``i`` (and earlier) only. It never sees an exchange, the clock or a
mode: ``buy()`` and ``close(trade)`` go through the ``OrderDesk`` the engine
gives it (``candlebot.strategy.orders``), so the same code runs in backtests,
paper, validate and live bots. It writes nothing out of the process either:
the engine reports its positions (ledger lines) on the event bus after every
candle.

It sees its books as read-only snapshots (interface 2): ``open_trades`` is a
tuple of frozen trades, ``ledger`` a frozen ``BooksView``; it holds no
reference to the trader, the ledger or the store, and the trader enforces the
caps from its own books whatever the strategy does. Its mistakes and the
core's failures are sorted at the desk (``candlebot.trading.strategydesk``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, ClassVar, Sequence

from candlebot.chart import Chart
from candlebot.errors import ConfigError, StrategyError
from candlebot.strategy.blame import described
from candlebot.strategy.indicators import BotIndicators
from candlebot.strategy.orders import BooksView, OrderDesk
from candlebot.strategy.params import StrategyParams
from candlebot.trade import BotTrade


@dataclass(frozen=True)
class StrategyContext:
    """What the engine hands a strategy: market data and the desk it reads its books from and orders through."""

    chart: Chart
    indicators: BotIndicators
    orders: OrderDesk


class BotStrategy:
    """Subclass, set ``name`` and ``Params``, implement ``setup`` and ``evaluate_positions``.

    ``lookback`` is how many consecutive values of each line the rule reads
    (2 for a crossover: ``i`` and ``i - 1``; ``setup`` may set it per instance);
    the engine only ticks once every line has that many values, so a strategy
    never acts on NaN warm-up values.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    interface: ClassVar[int] = 2  # the strategy interface a class is written for: candlebot.strategy.INTERFACE_VERSION
    lookback: int = 2

    def __init__(self, params: StrategyParams, context: StrategyContext) -> None:
        if not isinstance(params, self.Params):
            raise TypeError(f"{type(self).__name__} needs {self.Params.__name__}, got {type(params).__name__}")
        self.params = params
        self.chart = context.chart
        self.indicators = context.indicators
        self.num_simultaneous_trades = params.num_simultaneous_trades  # the trader enforces its own copy
        self._orders = context.orders
        self.open_trades: tuple[BotTrade, ...] = ()  # kept current by the desk (``_see``): plain attributes, no call
        self.ledger: BooksView
        context.orders.watch(self._see)
        try:
            self.setup(context.indicators)
        except ConfigError:
            raise  # a parameter refused (``require``): the user's input, said in one line
        except (Exception, SystemExit) as exc:  # the strategy's own code: named as such, never as a bug of candlebot's
            raise StrategyError(f"{self.name or type(self).__name__} failed in setup: {described(exc, type(self))}") from exc
        lookback = self.lookback  # setup may set it per instance: checked after it
        if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1:
            raise ConfigError(f"{type(self).__name__}.lookback must be a whole number of candles >= 1 (2: the rule reads "
                              f"i and i - 1), got {lookback!r}")

    # -- what a strategy writes --------------------------------------------------

    def setup(self, indicators: BotIndicators) -> None:
        """Ask for the indicator lines the rule reads (keep them as attributes)."""

    def evaluate_positions(self, i: int) -> None:
        """Open or close trades from the values at candle ``i``."""
        raise NotImplementedError

    def active_candles(self) -> Sequence[int] | None:
        """Optional: the candles (ascending) on which ``evaluate_positions`` may do anything at all, when the rule can
        tell them from its lines in advance (a crossover rule: ``crossings(a, b)``). A backtest without stop loss,
        candle events or ledger lines then ticks those alone: the others would change nothing. None: every candle."""
        return None

    # -- what the base provides --------------------------------------------------

    def candles_to_tick(self) -> Sequence[int] | None:
        """``active_candles``, when it speaks for the rule that runs: it must be defined by the same class as
        ``evaluate_positions`` (a subclass that changes the rule without it ticks every candle), and ``tick`` not
        overridden."""
        kind = type(self)
        if kind.tick is not BotStrategy.tick:
            return None
        owners = [next(c for c in kind.__mro__ if name in c.__dict__) for name in ("active_candles", "evaluate_positions")]
        if owners[0] is BotStrategy or owners[0] is not owners[1]:
            return None
        return self.active_candles()

    def tick(self, i: int) -> None:
        """One closed candle (the engine runs the stop loss after it, as the original bot updated its trades)."""
        self.evaluate_positions(i)

    def per_candle(self) -> Callable[[int], None]:
        """What the engine calls per closed candle: straight ``evaluate_positions`` unless ``tick`` is overridden."""
        if type(self).tick is BotStrategy.tick:
            return self.evaluate_positions
        return self.tick

    def _see(self, books: BooksView) -> None:
        """The books changed: ``open_trades`` (oldest first, a tuple of frozen trades) and ``ledger`` (a frozen
        ``BooksView``) are the new snapshot. Assigning either changes only what this strategy reads."""
        self.open_trades = books.open_trades
        self.ledger = books

    def buy(self, volume: Decimal | None = None) -> BotTrade | None:
        """Open a trade with a market buy, sized by the bot's rule unless ``volume`` (a positive Decimal) is given."""
        return self._orders.buy(volume)

    def close(self, trade: BotTrade) -> BotTrade | None:
        """Close ``trade`` (one of ``open_trades``) with a market sell of its volume."""
        return self._orders.close(trade)

    def close_all(self) -> None:
        for trade in self.open_trades:
            self.close(trade)

    def indicator_values(self, i: int) -> dict[str, float]:
        """The values this strategy reads on candle ``i`` (for logs and metrics)."""
        return self.indicators.values_at(i)
