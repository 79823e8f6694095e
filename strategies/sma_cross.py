"""sma_cross: the reference trend follower on two simple moving averages.

    fast = SMA(close, fast), slow = SMA(close, slow)            (defaults 10 and 30)
    buy   on candle i's close when no trade is open and fast[i] > slow[i] and fast[i-1] <= slow[i-1]
    close the open trade when fast[i] < slow[i] and fast[i-1] >= slow[i-1]
    nothing while any of those four values is NaN (the engine waits for warm lines)
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, crossed_below, crossings, require


@dataclass(frozen=True)
class SmaCrossParams(StrategyParams):
    fast: int = 10
    slow: int = 30

    def validate(self) -> None:
        super().validate()
        require(self.fast >= 2, "fast must be >= 2")
        require(self.slow > self.fast, f"slow ({self.slow}) must be longer than fast ({self.fast})")


class SmaCross(BotStrategy):
    name = "sma_cross"
    Params = SmaCrossParams

    def setup(self, indicators: BotIndicators) -> None:
        self.fast = indicators.sma(self.params.fast)
        self.slow = indicators.sma(self.params.slow)

    def evaluate_positions(self, i: int) -> None:
        fast, slow = self.fast, self.slow
        if not self.open_trades:
            if crossed_above(fast, slow, i):
                self.buy()
        elif crossed_below(fast, slow, i):
            self.close_all()

    def active_candles(self) -> list[int]:
        """Only a cross of the two lines opens or closes a trade: a backtest ticks those candles alone."""
        return crossings(self.fast, self.slow)
