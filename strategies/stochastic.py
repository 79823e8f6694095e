"""stochastic: buy oversold turns, sell overbought turns of the slow stochastic.

    slowk, slowd = STOCH(high, low, close, fastk, slowk, slowd)   (defaults 14, 3, 3)
    buy   when fewer than num_simultaneous_trades are open and %K crosses above %D
          (slowk[i] > slowd[i], slowk[i-1] <= slowd[i-1]) with slowk[i-1] < oversold (default 20)
    close every open trade when %K crosses below %D with slowk[i-1] > overbought (default 80)
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, crossed_below, require


@dataclass(frozen=True)
class StochasticParams(StrategyParams):
    fastk: int = 14
    slowk: int = 3
    slowd: int = 3
    oversold: float = 20.0
    overbought: float = 80.0

    def validate(self) -> None:
        super().validate()
        require(0 < self.oversold < self.overbought < 100, "need 0 < oversold < overbought < 100")


class Stochastic(BotStrategy):
    name = "stochastic"
    Params = StochasticParams

    def setup(self, indicators: BotIndicators) -> None:
        p = self.params
        self.k, self.d = indicators.stoch(p.fastk, p.slowk, p.slowd)

    def evaluate_positions(self, i: int) -> None:
        k, d, p = self.k, self.d, self.params
        if crossed_above(k, d, i) and k[i - 1] < p.oversold:
            if len(self.open_trades) < self.num_simultaneous_trades:
                self.buy()
        elif self.open_trades and crossed_below(k, d, i) and k[i - 1] > p.overbought:
            self.close_all()
