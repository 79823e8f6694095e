"""candlebot: candlestick trading bots for Kraken.

The basic types sit here (candles and charts, money, pairs, the clock, events,
errors, trades, the venue interface); each folder answers one question:

    strategy/   what a strategy is built from (base class, indicators, params)
    data/       where candles come from
    trading/    how decisions become orders and books
    live/       what runs and survives a crash
    output/     what leaves the process (logs, metrics, alerts, reports)
    optimize/   which parameters to trust
    cli/        the commands

``strategies``, ``exchanges`` and ``collector`` are the design card's top-level
folders, installed as subpackages of this one. ``candlebot.assembly`` is the one
place that wires them to the core.
"""

__version__ = "0.1.0"
