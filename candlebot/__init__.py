"""candlebot: candlestick trading bots for Kraken.

The core package: candles, indicators, strategies' base, the ledger and the one
engine loop. It imports nothing from ``strategies``, ``exchanges`` or
``collector``; ``candlebot.cli`` is the one place that wires them together.
"""

__version__ = "0.1.0"
