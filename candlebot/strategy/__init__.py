"""What a strategy is built from, and the one import a strategy needs.

    from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, require

The base class, the TA-Lib indicator facades, typed parameters and the crossover tests live in
the modules beside this one; this package re-exports them so that user strategies depend on one
stable name. ``INTERFACE_VERSION`` is the version of that interface (see docs/strategies.md).
"""

from candlebot.strategy.base import BotStrategy, StrategyContext
from candlebot.strategy.crossing import crossed_above, crossed_below, crossings
from candlebot.strategy.indicators import BotIndicators
from candlebot.strategy.orders import BooksView, OrderDesk
from candlebot.strategy.params import StrategyParams, require

# The interface this candlebot implements; a strategy declares its own as ``interface`` (the base: this one).
INTERFACE_VERSION: int = BotStrategy.interface

__all__ = ["INTERFACE_VERSION", "BooksView", "BotIndicators", "BotStrategy", "OrderDesk", "StrategyContext", "StrategyParams",
           "crossed_above", "crossed_below", "crossings", "require"]
