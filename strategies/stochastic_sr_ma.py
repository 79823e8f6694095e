"""stochastic_sr_ma: buy an oversold stochastic turn near support in an uptrend; sell near resistance.

    slowk, slowd = STOCH(high, low, close, 14, 3, 3)
    support, resistance = lowest low, highest high of the last sr_period candles (default 48)
    ma = SMA(close, ma_period)                                    (default 50)
    buy   when fewer than num_simultaneous_trades are open, close[i] > ma[i],
          %K crosses above %D (slowk[i] > slowd[i], slowk[i-1] <= slowd[i-1]) with slowk[i-1] < oversold (20),
          and close[i] <= support[i] * (1 + near_pct/100)         (near_pct default 1.0)
    close every open trade when close[i] >= resistance[i] * (1 - near_pct/100),
          or close[i] < ma[i] * (1 - exit_below_ma_pct/100)       (default 1.0: the uptrend broke)
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, require


@dataclass(frozen=True)
class StochasticSrMaParams(StrategyParams):
    fastk: int = 14
    slowk: int = 3
    slowd: int = 3
    oversold: float = 20.0
    sr_period: int = 48
    ma_period: int = 50
    near_pct: float = 1.0
    exit_below_ma_pct: float = 1.0

    def validate(self) -> None:
        super().validate()
        require(0 < self.oversold < 100, "oversold must be within (0, 100)")
        require(self.sr_period >= 2 and self.ma_period >= 2, "sr_period and ma_period must be >= 2")
        require(0 <= self.near_pct < 50 and 0 <= self.exit_below_ma_pct < 50, "near_pct and exit_below_ma_pct must be within [0, 50)")


class StochasticSrMa(BotStrategy):
    name = "stochastic_sr_ma"
    Params = StochasticSrMaParams

    def setup(self, indicators: BotIndicators) -> None:
        p = self.params
        self.k, self.d = indicators.stoch(p.fastk, p.slowk, p.slowd)
        self.support, self.resistance = indicators.support_resistance(p.sr_period)
        self.ma = indicators.sma(p.ma_period)
        self.closes = self.chart.closes
        self.near = p.near_pct / 100
        self.exit_below = 1 - p.exit_below_ma_pct / 100

    def evaluate_positions(self, i: int) -> None:
        k, d, close = self.k, self.d, self.closes[i]
        if self.open_trades and (close >= self.resistance[i] * (1 - self.near) or close < self.ma[i] * self.exit_below):
            self.close_all()
        elif (
            len(self.open_trades) < self.num_simultaneous_trades
            and close > self.ma[i]
            and crossed_above(k, d, i) and k[i - 1] < self.params.oversold
            and close <= self.support[i] * (1 + self.near)
        ):
            self.buy()
