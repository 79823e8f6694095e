"""What a strategy is built from, and the one import a strategy needs.

    from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, require

The base class, the TA-Lib indicator facades and typed parameters live in the
modules beside this one; this package re-exports them so that user strategies
depend on one stable name.
"""

from candlebot.strategy.base import BotStrategy, StrategyContext
from candlebot.strategy.indicators import BotIndicators
from candlebot.strategy.params import StrategyParams, require

__all__ = ["BotIndicators", "BotStrategy", "StrategyContext", "StrategyParams", "require"]
