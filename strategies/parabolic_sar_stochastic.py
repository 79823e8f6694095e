"""parabolic_sar_stochastic: trade stochastic turns only in the direction the parabolic SAR allows.

    sar = SAR(high, low, acceleration, maximum)                   (defaults 0.02, 0.2)
    slowk, slowd = STOCH(high, low, close, 14, 3, 3)
    buy   when no trade is open, the SAR is below the close (uptrend: sar[i] < close[i])
          and %K crosses above %D (slowk[i] > slowd[i], slowk[i-1] <= slowd[i-1]) with slowk[i] < entry_below (default 50)
    close the open trade when the SAR flips above the close (sar[i] > close[i])
          or %K crosses below %D with slowk[i-1] > overbought (default 80)
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, crossed_below, require


@dataclass(frozen=True)
class SarStochasticParams(StrategyParams):
    acceleration: float = 0.02
    maximum: float = 0.2
    fastk: int = 14
    slowk: int = 3
    slowd: int = 3
    entry_below: float = 50.0
    overbought: float = 80.0

    def validate(self) -> None:
        super().validate()
        require(0 < self.acceleration <= self.maximum, "need 0 < acceleration <= maximum")
        require(0 < self.entry_below < 100 and 0 < self.overbought < 100, "entry_below and overbought are within (0, 100)")


class ParabolicSarStochastic(BotStrategy):
    name = "parabolic_sar_stochastic"
    Params = SarStochasticParams

    def setup(self, indicators: BotIndicators) -> None:
        p = self.params
        self.sar = indicators.sar(p.acceleration, p.maximum)
        self.k, self.d = indicators.stoch(p.fastk, p.slowk, p.slowd)
        self.closes = self.chart.closes

    def evaluate_positions(self, i: int) -> None:
        k, d, p = self.k, self.d, self.params
        close = self.closes[i]
        if not self.open_trades:
            if self.sar[i] < close and crossed_above(k, d, i) and k[i] < p.entry_below:
                self.buy()
        elif self.sar[i] > close or (crossed_below(k, d, i) and k[i - 1] > p.overbought):
            self.close_all()
