"""bollinger: mean reversion on Bollinger bands.

    upper, middle, lower = BBANDS(close, period, nbdev, nbdev)   (defaults 20, 2.0)
    buy   when no trade is open and the close crosses below the lower band:
          close[i] < lower[i] and close[i-1] >= lower[i-1]
    close the open trade when the close reaches the exit band (exit=middle, default; or exit=upper):
          close[i] >= band[i]
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_below, require


@dataclass(frozen=True)
class BollingerParams(StrategyParams):
    period: int = 20
    nbdev: float = 2.0
    exit: str = "middle"

    def validate(self) -> None:
        super().validate()
        require(self.period >= 2, "period must be >= 2")
        require(self.nbdev > 0, "nbdev must be > 0")
        require(self.exit in ("middle", "upper"), f"exit must be 'middle' or 'upper', got {self.exit!r}")


class Bollinger(BotStrategy):
    name = "bollinger"
    Params = BollingerParams

    def setup(self, indicators: BotIndicators) -> None:
        bands = indicators.bbands(self.params.period, self.params.nbdev)
        self.lower = bands.lower
        self.exit_band = bands.middle if self.params.exit == "middle" else bands.upper
        self.closes = self.chart.closes

    def evaluate_positions(self, i: int) -> None:
        if not self.open_trades:
            if crossed_below(self.closes, self.lower, i):
                self.buy()
        elif self.closes[i] >= self.exit_band[i]:
            self.close_all()
