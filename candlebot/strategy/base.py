"""The base every strategy subclasses, as in the original bot.

A strategy declares its ``Params`` (a frozen dataclass), asks for indicator
lines in ``setup`` and decides in ``evaluate_positions(i)``, reading values at
candle ``i`` (and earlier) only. It never sees an exchange, the clock or a
mode: ``buy()`` and ``close(trade)`` go through the trader the engine gives it,
so the same code runs in backtests, paper, validate and live bots. It writes
nothing out of the process either: the engine reports its positions (ledger
lines) on the event bus after every candle.

``buy``/``close`` are the boundary between the strategy's code and the core's:
an exception from the trader, the ledger, the store or the exchange behind them
is remembered as ``core_failure`` before it reaches the strategy's code, so the
engine stops on it even if that code catches it (``candlebot.trading.engine``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, ClassVar, TypeVar

from candlebot.chart import Chart
from candlebot.errors import ConfigError, OrderArgumentError, StrategyError
from candlebot.strategy.blame import described
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.ledger import Ledger
from candlebot.strategy.params import StrategyParams
from candlebot.trade import BotTrade
from candlebot.trading.trader import Trader

A = TypeVar("A")


@dataclass(frozen=True)
class StrategyContext:
    """What the engine hands a strategy: market data, its books and the order path."""

    chart: Chart
    indicators: BotIndicators
    ledger: Ledger
    trader: Trader


class BotStrategy:
    """Subclass, set ``name`` and ``Params``, implement ``setup`` and ``evaluate_positions``.

    ``lookback`` is how many consecutive values of each line the rule reads
    (2 for a crossover: ``i`` and ``i - 1``; ``setup`` may set it per instance);
    the engine only ticks once every line has that many values, so a strategy
    never acts on NaN warm-up values.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    interface: ClassVar[int] = 1  # the strategy interface a class is written for: candlebot.strategy.INTERFACE_VERSION
    lookback: int = 2

    def __init__(self, params: StrategyParams, context: StrategyContext) -> None:
        if not isinstance(params, self.Params):
            raise TypeError(f"{type(self).__name__} needs {self.Params.__name__}, got {type(params).__name__}")
        self.params = params
        self.chart = context.chart
        self.indicators = context.indicators
        self.ledger = context.ledger
        self.open_trades: list[BotTrade] = context.ledger.open_trades
        self.num_simultaneous_trades = params.num_simultaneous_trades
        self._trader = context.trader
        self._stop_loss = params.stop_loss_pct / 100
        self.stop_loss_exits: set[int] = set()  # ids of the trades the stop closed (exit reasons in reports)
        self.core_failure: Exception | None = None  # what the core raised behind buy/close: the engine stops on it
        try:
            self.setup(context.indicators)
        except ConfigError:
            raise  # a parameter refused (``require``): the user's input, said in one line
        except Exception as exc:  # the strategy's own code: named as such, never as a bug of candlebot's
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

    # -- what the base provides --------------------------------------------------

    def tick(self, i: int) -> None:
        """One closed candle: evaluate, then update positions (the engine then shows them, as the original bot)."""
        held = list(self.open_trades) if self._stop_loss else ()
        self.evaluate_positions(i)
        if held:
            self.update_open_trades(i, held)

    def per_candle(self) -> Callable[[int], None]:
        """What the engine calls per closed candle: ``tick``, or straight ``evaluate_positions``
        when tick would do nothing else (no stop loss) — one call less per candle."""
        if type(self).tick is BotStrategy.tick and not self._stop_loss:
            return self.evaluate_positions
        return self.tick

    def update_open_trades(self, i: int, held: list[BotTrade]) -> None:
        """Close the trades held before candle ``i`` whose close fell below their stop (``stop_loss_pct`` under entry).

        A trade opened on this candle is not checked: its entry is the next candle's open, which this
        candle's close cannot be compared with.
        """
        close = self.chart.closes[i]
        for trade in held:
            if trade in self.open_trades and close <= float(trade.entry_price) * (1 - self._stop_loss):
                if self.close(trade) is not None:
                    self.stop_loss_exits.add(trade.trade_id)

    def buy(self, volume: Decimal | None = None) -> BotTrade | None:
        """Open a trade with a market buy, sized by the ledger's rule unless ``volume`` (a Decimal) is given."""
        return self._to_core(self._trader.buy, volume)

    def close(self, trade: BotTrade) -> BotTrade | None:
        """Close ``trade`` with a market sell of its volume."""
        return self._to_core(self._trader.close, trade)

    def _to_core(self, order: Callable[[A], BotTrade | None], argument: A) -> BotTrade | None:
        """Call the trader; remember what the core raised (not the strategy's own mistake) so that catching it in
        strategy code cannot hide it, and send nothing more once the core has failed."""
        if self.core_failure is not None:
            raise self.core_failure
        try:
            return order(argument)
        except OrderArgumentError:
            raise
        except Exception as exc:
            self.core_failure = exc
            raise

    def close_all(self) -> None:
        for trade in list(self.open_trades):
            self.close(trade)

    def indicator_values(self, i: int) -> dict[str, float]:
        """The values this strategy reads on candle ``i`` (for logs and metrics)."""
        return self.indicators.values_at(i)
