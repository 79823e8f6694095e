"""Long candle files made on the spot, for tests that need many candles rather than particular ones.

The recorded 2-year Binance file (18 MB) stays out of the repository (../shared/data, for bench/); a test that
wants a big file writes the demo price path (``candlebot.data.pricepath``: regimes of drift and volatility,
deterministic per seed) in the recorded files' format.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from candlebot.data.candlefile import CandleColumns
from candlebot.data.pricepath import demo_candles

HEADER = "time,open,high,low,close,volume\n"


def write_candle_file(path: Path, days: int, seed: int = 7, start: int = 1672531200) -> CandleColumns:
    """``days`` of 1-minute candles from ``start`` written to ``path`` (gzip when it ends in .gz); the columns written."""
    columns = demo_candles(days=days, seed=seed, start=start)
    table = np.column_stack([columns.opens, columns.highs, columns.lows, columns.closes, columns.volumes])
    lines = [f"{t},{o:.1f},{h:.1f},{lo:.1f},{c:.1f},{v:.8f}" for t, (o, h, lo, c, v) in zip(columns.times.tolist(), table.tolist())]
    handle = gzip.open(path, "wt", compresslevel=1) if path.suffix == ".gz" else open(path, "w")
    with handle:
        handle.write(HEADER)
        handle.write("\n".join(lines))
        handle.write("\n")
    return columns
