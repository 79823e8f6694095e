"""What a report is drawn from, as plain data: a backtest fills it today, a bot's store can tomorrow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from candlebot.output.fills import FillMark
from candlebot.output.metrics import Metrics


@dataclass(frozen=True)
class IndicatorLine:
    """One line the strategy reads, aligned with the candles (NaN while warming up)."""

    name: str
    values: np.ndarray

    def overlays(self, closes: np.ndarray) -> bool:
        """Drawn over the candles when it lives on the price's scale (an SMA), in its own pane otherwise (%K)."""
        finite = self.values[np.isfinite(self.values)]
        if not len(finite) or not len(closes):
            return False
        ratio = float(np.median(finite)) / float(np.median(closes))
        return 0.5 <= ratio <= 2.0


@dataclass(frozen=True)
class Decision:
    """A running bot's order or event, as the report's decisions table lists it (empty for a backtest)."""

    time: float
    kind: str  # order, skipped, rejected, unfilled, failed, error, audit, dust, started, stopped
    side: str
    userref: int | None
    sent: str  # what went to the exchange: volume and protection price
    outcome: str  # what happened: the fill, the error, the reason, or still unknown


@dataclass(frozen=True)
class ReportData:
    title: str
    subtitle: str
    pair: str
    period_s: int
    price_decimals: int  # the pair's: fill prices are quoted at these
    volume_decimals: int
    cost_decimals: int
    times: np.ndarray  # int64 unix seconds at each candle's open
    opens: np.ndarray
    highs: np.ndarray
    lows: np.ndarray
    closes: np.ndarray
    lines: tuple[IndicatorLine, ...]
    fills: tuple[FillMark, ...]
    start_cash: float
    metrics: Metrics
    decisions: tuple[Decision, ...] = ()
