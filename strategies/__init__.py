"""BotStrategy subclasses, one file each; ``STRATEGIES`` maps the ``--strategy`` name to the class."""

from __future__ import annotations

from candlebot.strategy import BotStrategy
from candlebot.strategies.bollinger import Bollinger
from candlebot.strategies.direction_mask import DirectionMask
from candlebot.strategies.macd import Macd
from candlebot.strategies.parabolic_sar_stochastic import ParabolicSarStochastic
from candlebot.strategies.sma_cross import SmaCross
from candlebot.strategies.stochastic import Stochastic
from candlebot.strategies.stochastic_sr_ma import StochasticSrMa

STRATEGIES: dict[str, type[BotStrategy]] = {
    cls.name: cls
    for cls in (SmaCross, Macd, Stochastic, ParabolicSarStochastic, StochasticSrMa, Bollinger, DirectionMask)
}
