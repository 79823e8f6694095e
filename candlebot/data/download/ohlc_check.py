"""Candles built from trades, checked against Kraken's own OHLC candles where they overlap.

Kraken's OHLC endpoint has only the newest 720 candles of an interval, the last one still forming, and it
fills minutes without trades with flat zero-volume bars, as the downloaded candles do. So the check compares
every closed OHLC bar inside the downloaded span: each must equal the built candle (open, high, low, close
exactly, volume to 1e-8). Numbers in the messages are plain (``16535.9``), never numpy reprs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from candlebot.data.candlefile import CandleColumns


@dataclass(frozen=True)
class OhlcCheck:
    compared: int
    differences: tuple[str, ...]

    def describe(self) -> str:
        if not self.compared:
            return "no overlap with Kraken's OHLC window (its newest 720 candles): not checked"
        if not self.differences:
            return f"{self.compared} candles equal Kraken's OHLC"
        return f"{len(self.differences)} of {self.compared} candles differ from Kraken's OHLC, first: {self.differences[0]}"


def parse_ohlc(result: Any) -> list[tuple[int, float, float, float, float, float]]:
    """Closed bars (the forming one dropped) from an OHLC ``result`` as (time, open, high, low, close, volume)."""
    [rows] = [value for key, value in result.items() if key != "last"]
    bars = [(int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[6])) for r in rows]
    return bars[:-1]


def check_candles(candles: CandleColumns, bars: list[tuple[int, float, float, float, float, float]],
                  first: int, end: int) -> OhlcCheck:
    """Compare the bars opening in [first, end) (the span the download covers completely)."""
    built = {int(t): k for k, t in enumerate(candles.times)}
    compared = 0
    differences = []
    for time_, o, h, l, c, v in bars:
        if not first <= time_ < end:
            continue
        compared += 1
        k = built.get(time_)
        if k is None:
            differences.append(f"{time_}: no candle built, Kraken has {_plain((o, h, l, c, v))}")
            continue
        ours = tuple(float(x) for x in (candles.opens[k], candles.highs[k], candles.lows[k], candles.closes[k],
                                        candles.volumes[k]))
        if ours[:4] != (o, h, l, c) or abs(ours[4] - v) > 1e-8:
            differences.append(f"{time_}: built {_plain(ours)}, Kraken {_plain((o, h, l, c, v))}")
    return OhlcCheck(compared, tuple(differences))


def _plain(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{float(v)!r}" for v in values) + ")"
