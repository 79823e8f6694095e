"""macd: momentum on the MACD line crossing its signal line.

    macd, signal = MACD(close, fast, slow, signal)              (defaults 12, 26, 9)
    buy   when no trade is open and macd crosses above signal: macd[i] > signal[i] and macd[i-1] <= signal[i-1]
    close the open trades when macd crosses below signal:      macd[i] < signal[i] and macd[i-1] >= signal[i-1]
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, crossed_below, crossings, require


@dataclass(frozen=True)
class MacdParams(StrategyParams):
    fast: int = 12
    slow: int = 26
    signal: int = 9

    def validate(self) -> None:
        super().validate()
        require(2 <= self.fast < self.slow, f"need 2 <= fast < slow, got fast={self.fast} slow={self.slow}")
        require(self.signal >= 1, "signal must be >= 1")


class Macd(BotStrategy):
    name = "macd"
    Params = MacdParams

    def setup(self, indicators: BotIndicators) -> None:
        p = self.params
        self.macd, self.signal, _ = indicators.macd(p.fast, p.slow, p.signal)

    def evaluate_positions(self, i: int) -> None:
        macd, signal = self.macd, self.signal
        if not self.open_trades:
            if crossed_above(macd, signal, i):
                self.buy()
        elif crossed_below(macd, signal, i):
            self.close_all()

    def active_candles(self) -> list[int]:
        """Only a cross of the two lines opens or closes a trade: a backtest ticks those candles alone."""
        return crossings(self.macd, self.signal)
