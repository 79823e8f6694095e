"""Strategies that exercise the plumbing rather than the market (loaded as ``tests.support.strategies:Flip``)."""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.strategy import StrategyParams, require
from candlebot.strategy.base import BotStrategy


def flip(strategy: BotStrategy) -> None:
    """Sells what is open, else buys: one order a candle (the move most of these strategies make)."""
    if strategy.open_trades:
        strategy.close_all()
    else:
        strategy.buy()


def candle_number(strategy: BotStrategy, i: int) -> int:
    """Candle ``i``'s number by its time, not its index: every bot of a fleet, and a restarted bot, count alike."""
    return int(strategy.chart.times[i] // strategy.chart.period)


class Flip(BotStrategy):
    """Buys on a candle when flat, sells on the next: one order every candle."""

    name = "flip"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        flip(self)


class Boom(BotStrategy):
    """Raises on every other candle and flips on the others: the bot must skip, report and go on."""

    name = "boom"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        if candle_number(self, i) % 2:
            raise RuntimeError("boom: a strategy bug")
        flip(self)


class Accumulate(BotStrategy):
    """Buys on every candle, never sells (the trader caps it at ``num_simultaneous_trades``)."""

    name = "accumulate"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        self.buy()


class Careful(BotStrategy):
    """Flips like ``Flip`` but wraps every order in ``except Exception``: a failure of the core behind ``buy``/``close``
    must stop the bot all the same."""

    name = "careful"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        try:
            flip(self)
        except Exception:
            pass  # "never let an order error kill my bot"


@dataclass(frozen=True)
class EveryParams(StrategyParams):
    every: int = 3

    def validate(self) -> None:
        super().validate()
        require(self.every >= 1, "every must be >= 1")


class Every(BotStrategy):
    """Flips like ``Flip``, on every ``every``-th candle only (by candle time, so a fleet trades on the same candles)."""

    name = "every"
    lookback = 1
    Params = EveryParams

    def evaluate_positions(self, i: int) -> None:
        if candle_number(self, i) % self.params.every:
            return
        flip(self)
