"""Candles from downloaded trades, written in the candle CSV the backtester reads, in the bot's convention.

The one aggregator (``candlebot.data.resample.candles_from_trades``) builds them, and a period without trades
becomes a flat candle at the previous close with volume 0 (``candlebot.data.gaps``), as Kraken's REST OHLC and
a polling bot make it; ``Gaps`` counts those filled periods. The bucket holding the newest
trade is left out (it may still be forming), and so is a bucket that ``--until`` cuts. Files are written to a temporary
name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from candlebot.data.candlefile import CANDLE_HEADER, CandleColumns, load_trades
from candlebot.data.gaps import fill_gaps
from candlebot.data.resample import candles_from_trades


@dataclass(frozen=True)
class Gaps:
    """Buckets without a candle between the first and the last candle."""

    missing: int
    runs: int
    longest: int  # buckets
    longest_at: int | None  # open time of the first missing bucket of the longest run

    def describe(self, period: int) -> str:
        if not self.missing:
            return "no gaps"
        return (f"{self.missing} missing candles in {self.runs} gaps (longest {period_label(self.longest * period)} "
                f"from {utc_text(self.longest_at)})")

    def describe_flat(self, period: int) -> str:
        """For the flat candles of periods without trades (``flat_candles``)."""
        if not self.missing:
            return "every period had trades"
        return (f"{self.missing} periods without trades as flat candles, in {self.runs} runs (longest "
                f"{period_label(self.longest * period)} from {utc_text(self.longest_at)})")


def utc_text(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def period_label(period: int) -> str:
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if period % seconds == 0:
            return f"{period // seconds}{unit}"
    return f"{period}s"


def candles_from_download(trades_csv: Path, period: int, since: float, until: float | None) -> CandleColumns:
    trades = load_trades(trades_csv)
    candles = candles_from_trades(trades.before(until), period)
    candles = candles.between(math.ceil(since / period) * period, None)  # a bucket cut by --since is incomplete
    if until is not None:  # a bucket cut by --until is incomplete
        candles = candles.between(None, until // period * period)
    elif len(candles):  # the newest bucket may still be forming
        candles = candles.between(None, float(candles.times[-1]))
    candles = fill_gaps(candles, period).candles
    places = volume_decimals(trades.volumes)
    if places is None:
        return candles
    return replace(candles, volumes=np.round(candles.volumes, places))


MAX_VOLUME_DECIMALS = 12


def volume_decimals(volumes: np.ndarray) -> int | None:
    """The fewest decimals that write every trade's volume exactly (Kraken's strings have up to 8), None beyond
    ``MAX_VOLUME_DECIMALS``. A candle's volume is a float sum of them (0.5387711400000001): rounded to these
    decimals it is the exact decimal sum again, as long as the float error stays under half the last place."""
    for places in range(MAX_VOLUME_DECIMALS + 1):
        scaled = volumes * 10.0 ** places
        if np.all(np.abs(scaled - np.rint(scaled)) <= 8 * np.spacing(np.abs(scaled))):  # relative: dust is not noise
            return places
    return None


def flat_candles(candles: CandleColumns) -> Gaps:
    """The periods without trades (flat, zero volume, at the previous close) that filling gave ``candles``."""
    flat = np.r_[False, (candles.volumes[1:] == 0) & (candles.opens[1:] == candles.closes[:-1])
                 & (candles.highs[1:] == candles.closes[:-1]) & (candles.lows[1:] == candles.closes[:-1])
                 & (candles.closes[1:] == candles.closes[:-1])]
    if not flat.any():
        return Gaps(0, 0, 0, None)
    edges = np.flatnonzero(np.diff(np.r_[0, flat.astype(np.int8), 0]))
    starts, ends = edges[::2], edges[1::2]
    widest = int(np.argmax(ends - starts))
    return Gaps(int(flat.sum()), len(starts), int(ends[widest] - starts[widest]), int(candles.times[starts[widest]]))


def find_gaps(times: np.ndarray, period: int) -> Gaps:
    steps = np.diff(times) // period - 1
    holes = np.flatnonzero(steps > 0)
    if not len(holes):
        return Gaps(0, 0, 0, None)
    widest = holes[int(np.argmax(steps[holes]))]
    return Gaps(int(steps[holes].sum()), len(holes), int(steps[widest]), int(times[widest] + period))


def write_candles(path: Path, candles: CandleColumns) -> None:
    """Atomically; floats in their shortest exact form, so the file reads back bit for bit."""
    staging = path.with_name(f".{path.name}.tmp")
    with open(staging, "w", encoding="ascii") as handle:
        handle.write(",".join(CANDLE_HEADER) + "\n")
        columns = (candles.times.tolist(), candles.opens.tolist(), candles.highs.tolist(), candles.lows.tolist(),
                   candles.closes.tolist(), candles.volumes.tolist())
        handle.writelines(f"{t},{o!r},{h!r},{l!r},{c!r},{v!r}\n" for t, o, h, l, c, v in zip(*columns))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)
