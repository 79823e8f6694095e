"""Walk-forward analysis: optimise on a window, trade the winner on the window after it, move on.

The candles in range are cut into ``in_sample_blocks + folds`` blocks of (nearly) equal candle
counts, at boundaries ``b_j = first + floor(j x candles / blocks)``. Fold k (1-based):

    out-of-sample  [b_{K+k-1}, b_{K+k})                 K = in_sample_blocks
    in-sample      [b_{k-1},   b_{K+k-1})   rolling       (the K blocks just before)
                   [b_0,       b_{K+k-1})   --anchored    (everything before)

so the out-of-sample windows tile the last ``folds`` blocks and are stitched into one equity
curve (each fold's returns compounded on the previous fold's end). Each run sees only candles
before its window's end.

Walk-forward efficiency = mean out-of-sample annual return / mean in-sample annual return of
the winners (Pardo); above ~0.5 the in-sample edge mostly survives. Stability of a parameter:
for numbers, the standard deviation of the chosen values over the width of its range (0 = the
same every fold; a uniform random pick gives about 0.29); for other values, the share of folds
that chose the most common one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from candlebot.errors import ConfigError
from candlebot.optimize.performance import Performance, measure
from candlebot.optimize.runner import Outcome, Window
from candlebot.optimize.space import Dimension

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


def stitch(outcomes: list[Outcome], start_cash: float, period_s: int) -> tuple[np.ndarray, np.ndarray, Performance]:
    """One equity curve from the out-of-sample runs in order, each compounded on the last one's end."""
    times, curves = [], []
    level = start_cash
    for outcome in outcomes:
        assert outcome.times is not None and outcome.equity is not None, "out-of-sample runs keep their equity"
        curve = outcome.equity / start_cash * level
        times.append(outcome.times)
        curves.append(curve)
        level = float(curve[-1]) if len(curve) else level
    all_times, equity = np.concatenate(times), np.concatenate(curves)
    parts = [o.performance for o in outcomes]
    performance = measure(
        times=all_times, equity=equity, period_s=period_s, start_cash=start_cash,
        net_pnl=sum(p.net_pnl for p in parts), gross_pnl=sum(p.gross_pnl for p in parts),
        fees=sum(p.fees for p in parts), trades=sum(p.trades for p in parts),
    )
    return all_times, equity, performance


def efficiency(results: list[FoldResult]) -> float | None:
    in_sample = sum(r.in_sample.annual_return_pct for r in results) / len(results)
    out_of_sample = sum(r.out_of_sample.annual_return_pct for r in results) / len(results)
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
