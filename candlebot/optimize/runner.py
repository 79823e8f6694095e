"""One trial: the plain backtest (same engine, fees and fill model) on a window of candles loaded once.

A window ``[start, stop)`` is candle indices of the loaded chart. The backtest runs on the chart
cut at ``stop`` (the candles after the window do not exist for it: no fill, no indicator value
can come from them) and trades from ``start``; candles before ``start`` only warm the indicators
up, as a live bot's history would.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from candlebot.chart import Chart
from candlebot.assembly import BacktestSettings, run_backtest
from candlebot.optimize.performance import Performance, of_backtest
from candlebot.optimize.space import SearchSpace
from candlebot.output.equity import EquityCurve
from candlebot.strategy.indicators import share_series


@dataclass(frozen=True)
class Window:
    start: int
    stop: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.stop:
            raise ValueError(f"empty window [{self.start}, {self.stop})")


@dataclass(frozen=True)
class Outcome:
    """A finished trial. Its equity curve is kept only when asked for (out-of-sample runs, to stitch)."""

    performance: Performance
    curve: EquityCurve | None = None


class TrialRunner:
    """Runs backtests of one setup over one loaded chart; lives in every forked worker."""

    def __init__(self, setup: BacktestSettings, chart: Chart, space: SearchSpace) -> None:
        self.setup = setup
        self.chart = chart
        self.space = space
        self._cut: tuple[int, Chart] | None = None
        share_series(chart)  # trials with the same indicator parameters compute it once (per worker, after fork)

    def run(self, window: Window, values: dict[str, Any], keep_equity: bool = False) -> Outcome:
        chart = self._chart_until(window.stop)
        setup = dataclasses.replace(self.setup, params=self.space.build(values), start=float(chart.times[window.start]))
        _, report = run_backtest(setup, chart)
        performance = of_backtest(report.metrics, report.curve)
        return Outcome(performance, report.curve if keep_equity else None)

    def _chart_until(self, stop: int) -> Chart:
        """The chart cut at ``stop``; the last cut is kept, since trials come window by window."""
        chart = self.chart
        if stop >= len(chart):
            return chart
        if self._cut is None or self._cut[0] != stop:
            views = [np.frombuffer(column)[:stop] for column in (chart.opens, chart.highs, chart.lows, chart.closes, chart.volumes)]
            times = np.frombuffer(chart.times, dtype=np.int64)[:stop]
            self._cut = (stop, Chart.from_arrays(chart.pair, chart.period, times, *views))
            share_series(self._cut[1])
        return self._cut[1]
