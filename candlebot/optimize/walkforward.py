"""Walk-forward analysis: optimise on a window, trade the winner on the window after it, move on.

The candles in range are cut into ``in_sample_blocks + folds`` blocks of (nearly) equal candle
counts, at boundaries ``b_j = first + floor(j x candles / blocks)``. Fold k (1-based):

    out-of-sample  [b_{K+k-1}, b_{K+k})                 K = in_sample_blocks
    in-sample      [b_{k-1},   b_{K+k-1})   rolling       (the K blocks just before)
                   [b_0,       b_{K+k-1})   --anchored    (everything before)

so the out-of-sample windows tile the last ``folds`` blocks and are stitched into one equity
curve (each fold's returns compounded on the previous fold's end). Each run sees only candles
before its window's end.

Walk-forward efficiency = the stitched out-of-sample CAGR / mean in-sample CAGR of the winners (Pardo;
CAGR as a backtest reports it); above ~0.5 the in-sample edge mostly survives. The stitched total P/L,
return and verdict are all of the one compounded curve (see ``stitch``). Stability of a parameter:
for numbers, the standard deviation of the chosen values over the width of its range (0 = the
same every fold; a uniform random pick gives about 0.29); for other values, the share of folds
that chose the most common one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from candlebot.errors import ConfigError
from candlebot.optimize.performance import Performance, of_stitched
from candlebot.optimize.runner import Outcome, Window
from candlebot.optimize.space import Dimension
from candlebot.output.equity import EquityCurve

STABLE_SPREAD = 0.15
STABLE_SHARE = 0.75
MIN_BLOCK_CANDLES = 2


@dataclass(frozen=True)
class Fold:
    number: int
    in_sample: Window
    out_of_sample: Window


@dataclass(frozen=True)
class FoldResult:
    fold: Fold
    values: dict[str, Any]
    in_sample: Performance
    out_of_sample: Performance
    trials: int
    deflated_sharpe: float | None


@dataclass(frozen=True)
class Stability:
    name: str
    chosen: tuple[Any, ...]
    score: float
    numeric: bool

    @property
    def stable(self) -> bool:
        return self.score <= STABLE_SPREAD if self.numeric else self.score >= STABLE_SHARE


def plan_folds(first: int, stop: int, folds: int, in_sample_blocks: int, anchored: bool) -> tuple[Fold, ...]:
    if folds < 1 or in_sample_blocks < 1:
        raise ConfigError("--walk-forward and --in-sample-blocks must be >= 1")
    blocks = in_sample_blocks + folds
    candles = stop - first
    if candles < blocks * MIN_BLOCK_CANDLES:
        raise ConfigError(f"{candles} candles are too few for {folds} folds of {blocks} blocks; use fewer folds or more data")
    edges = [first + j * candles // blocks for j in range(blocks + 1)]
    return tuple(
        Fold(
            number=k,
            in_sample=Window(edges[0] if anchored else edges[k - 1], edges[in_sample_blocks + k - 1]),
            out_of_sample=Window(edges[in_sample_blocks + k - 1], edges[in_sample_blocks + k]),
        )
        for k in range(1, folds + 1)
    )


def stitch(outcomes: list[Outcome], start_cash: float) -> tuple[EquityCurve, Performance]:
    """One equity curve from the out-of-sample runs in order, each compounded on the last one's end,
    measured by the backtest's own metrics.

    Every figure is of that one compounded curve, so total P/L, return and the verdict agree: total P/L is the
    curve's change (``return_pct`` of the start cash), and gross P/L, fees and net P/L (closed trades) are each
    fold's scaled by the same factor as its equity. A trade still open at a fold's end is marked at the fold's last
    close without an exit fee, as a backtest's final equity marks it (docs/metrics.md), in total P/L alone.
    """
    runs = [o.curve for o in outcomes]
    assert all(run is not None for run in runs), "out-of-sample runs keep their equity"
    equity, positions, scales = [], [], []
    level = start_cash
    for run in runs:
        assert run is not None
        scale = level / start_cash
        scales.append(scale)
        equity.append(run.equity * scale)
        positions.append(run.position * scale)
        level = float(equity[-1][-1]) if len(equity[-1]) else level
    curve = EquityCurve(runs[0].start_time, np.concatenate([run.close_times for run in runs if run is not None]),
                        np.concatenate(equity), np.concatenate(positions), start_cash)
    compounded = [replace(o.performance, net_pnl=o.performance.net_pnl * scale, gross_pnl=o.performance.gross_pnl * scale,
                          fees=o.performance.fees * scale) for o, scale in zip(outcomes, scales)]
    return curve, of_stitched(curve, compounded)


def efficiency(results: list[FoldResult], stitched: Performance | None = None) -> float | None:
    """Out-of-sample CAGR / mean in-sample CAGR; None when a CAGR is undefined or the in-sample mean is <= 0.

    The out-of-sample CAGR is the stitched curve's (``stitched``), so its sign is the stitched return's: a
    walk-forward that lost money never shows a positive efficiency. Without it, the mean of the folds' CAGRs.
    """
    in_cagr = [r.in_sample.cagr_pct for r in results]
    out_cagr = [r.out_of_sample.cagr_pct for r in results] if stitched is None else [stitched.cagr_pct]
    if any(c is None for c in in_cagr + out_cagr):
        return None
    in_sample = sum(c for c in in_cagr if c is not None) / len(in_cagr)
    out_of_sample = sum(c for c in out_cagr if c is not None) / len(out_cagr)
    return out_of_sample / in_sample if in_sample > 0 else None


def stability(results: list[FoldResult], dimensions: tuple[Dimension, ...]) -> tuple[Stability, ...]:
    scores = []
    for dimension in dimensions:
        chosen = tuple(r.values[dimension.name] for r in results)
        span = dimension.span
        if span is not None:
            score = float(np.std(np.array(chosen, dtype=float))) / span if span > 0 else 0.0
            scores.append(Stability(dimension.name, chosen, score, True))
        else:
            share = Counter(chosen).most_common(1)[0][1] / len(chosen)
            scores.append(Stability(dimension.name, chosen, share, False))
    return tuple(scores)
