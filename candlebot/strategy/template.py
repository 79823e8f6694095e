"""my_strategy: follow the trend when two moving averages cross, unless the market is already overbought.

The rule, stated the way every shipped strategy states it (keep this true when you change the code):

    fast = EMA(close, fast), slow = EMA(close, slow)        (defaults 12 and 26)
    rsi  = RSI(close, 14)
    buy   when no trade is open, fast crosses above slow and rsi[i] < max_rsi (default 70)
    close the open trade when fast crosses below slow

Backtest it on generated candles, then on a real file:

    candlebot backtest --data demo -p 60 --strategy my_strategy.py:MyStrategy
    candlebot --data candles.csv --strategy my_strategy.py:MyStrategy --param fast=8 --param slow=21

How to write and load a strategy, and every indicator with its warm-up: docs/strategies.md.
(This file is the template ``candlebot new-strategy NAME`` copies, with your names in it.)
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, crossed_below, require


@dataclass(frozen=True)
class MyStrategyParams(StrategyParams):
    """The strategy's parameters: typed, with defaults; ``--param fast=8`` is converted to the field's type.

    Every strategy also takes ``num_simultaneous_trades`` (default 1) and ``stop_loss_pct`` (0 = off)
    from ``StrategyParams``.
    """

    fast: int = 12
    slow: int = 26
    max_rsi: float = 70.0

    def validate(self) -> None:
        """Runs when the parameters are built: a bad value stops the run with this one line (exit 2)."""
        super().validate()
        require(self.fast >= 2, f"fast must be >= 2, got {self.fast}")
        require(self.slow > self.fast, f"slow ({self.slow}) must be longer than fast ({self.fast})")
        require(0 < self.max_rsi <= 100, f"max_rsi must be within (0, 100], got {self.max_rsi}")


class MyStrategy(BotStrategy):
    name = "my_strategy"  # how logs, reports and metrics name this strategy
    Params = MyStrategyParams
    interface = 2  # the strategy interface this file is written for (candlebot.strategy.INTERFACE_VERSION)
    # lookback = 2: the rule reads each line at i and i - 1 (the default; a crossover needs no more)

    def setup(self, indicators: BotIndicators) -> None:
        """Ask for every indicator line once, here. ``line[i]`` is its value on candle ``i``."""
        p = self.params
        self.fast = indicators.ema(p.fast)
        self.slow = indicators.ema(p.slow)
        self.rsi = indicators.rsi(14)

    def evaluate_positions(self, i: int) -> None:
        """Candle ``i`` has just closed: read values at ``i`` and earlier (never ``i + 1``), then buy or close.

        The engine only calls this once every line is warm (no NaN at ``i - lookback + 1 .. i``).
        ``buy()`` opens a trade sized by ``--stake``/``--cash``; ``close_all()`` closes every open one.
        """
        if not self.open_trades:
            if crossed_above(self.fast, self.slow, i) and self.rsi[i] < self.params.max_rsi:
                self.buy()
        elif crossed_below(self.fast, self.slow, i):
            self.close_all()
