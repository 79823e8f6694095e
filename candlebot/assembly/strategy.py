"""The strategy a backtest or bot runs: found by name (shipped or the user's own), put on read-only views of
its books, ordering through the trader's desk (never the trader)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from candlebot.chart import Chart
from candlebot.strategies import STRATEGIES
from candlebot.strategy.base import BotStrategy, StrategyContext
from candlebot.strategy.indicators import BotIndicators
from candlebot.strategy.loader import load_strategy
from candlebot.trading.strategydesk import StrategyDesk

if TYPE_CHECKING:
    from candlebot.assembly.settings import BacktestSettings, BotSettings
    from candlebot.trading.trader import Trader


def resolve_strategy(name: str, search_path: Sequence[str] = ()) -> type[BotStrategy]:
    """A shipped strategy by name, or your own (``--strategy``, ``--strategy-path``: see candlebot.strategy.loader)."""
    return load_strategy(name, STRATEGIES, [Path(p) for p in search_path])


def strategy_on(settings: BacktestSettings | BotSettings, chart: Chart,
                trader: Trader) -> tuple[BotIndicators, BotStrategy, StrategyDesk]:
    """The strategy on read-only views of its books, ordering through the trader's desk (never the trader)."""
    indicators = BotIndicators(chart)
    desk = StrategyDesk(trader)
    return indicators, settings.strategy(settings.params, StrategyContext(chart, indicators, desk.view)), desk
