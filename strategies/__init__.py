"""BotStrategy subclasses, one file each; ``STRATEGIES`` maps the ``--strategy`` name to the class."""

from __future__ import annotations

from candlebot.strategy import BotStrategy
from strategies.bollinger import Bollinger
from strategies.direction_mask import DirectionMask
from strategies.macd import Macd
from strategies.parabolic_sar_stochastic import ParabolicSarStochastic
from strategies.sma_cross import SmaCross
from strategies.stochastic import Stochastic
from strategies.stochastic_sr_ma import StochasticSrMa

STRATEGIES: dict[str, type[BotStrategy]] = {
    cls.name: cls
    for cls in (SmaCross, Macd, Stochastic, ParabolicSarStochastic, StochasticSrMa, Bollinger, DirectionMask)
}
