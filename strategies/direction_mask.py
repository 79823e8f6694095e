"""direction_mask: sell when the recent directions match a mask, buy on its mirror (the Poloniex bot's rule).

    direction[k] = 1 if close[k] > close[k-1] else 0
    d = the last len(mask) directions, oldest first, ending at candle i
    close the open trades when d == mask          (default 1,1,1,1,1,0,0: a rise that has turned)
    buy   when no trade is open and d == mirror   (0,0,0,0,0,1,1: a fall that has turned)
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, require


@dataclass(frozen=True)
class DirectionMaskParams(StrategyParams):
    mask: tuple[int, ...] = (1, 1, 1, 1, 1, 0, 0)

    def validate(self) -> None:
        super().validate()
        require(len(self.mask) >= 2, "mask needs at least two directions, e.g. mask=1,1,1,1,1,0,0")
        require(all(d in (0, 1) for d in self.mask), f"mask holds 0s and 1s only, got {','.join(map(str, self.mask))}")


class DirectionMask(BotStrategy):
    name = "direction_mask"
    Params = DirectionMaskParams

    def setup(self, indicators: BotIndicators) -> None:
        mask = self.params.mask
        self.lookback = len(mask) + 1  # n directions need n + 1 closes
        self.width = len(mask)
        self.sell_code = _code(mask)
        self.buy_code = _code(tuple(1 - d for d in mask))
        self.closes = self.chart.closes

    def evaluate_positions(self, i: int) -> None:
        closes = self.closes
        code = 0
        for k in range(i - self.width + 1, i + 1):
            code = (code << 1) | (closes[k] > closes[k - 1])
        if self.open_trades:
            if code == self.sell_code:
                self.close_all()
        elif code == self.buy_code:
            self.buy()


def _code(mask: tuple[int, ...]) -> int:
    code = 0
    for direction in mask:
        code = (code << 1) | direction
    return code
