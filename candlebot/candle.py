"""One candlestick: a period's open, high, low, close and traded volume."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candle:
    """A closed candle. ``time`` is the UTC open time in unix seconds, aligned to the period."""

    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    def __post_init__(self) -> None:
        if not (self.low <= min(self.open, self.close) and self.high >= max(self.open, self.close)):
            raise ValueError(f"inconsistent candle at {self.time}: o={self.open} h={self.high} l={self.low} c={self.close}")
        if self.volume < 0:
            raise ValueError(f"negative volume in candle at {self.time}")
