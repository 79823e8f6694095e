"""Time, injected: nothing in candlebot reads ``time.time()`` directly."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds (UTC)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class LiveClock:
    """Wall-clock time for paper, validate and live bots.

    ``interrupt`` (set by a signal handler) cuts every sleep short, so that a
    stopping bot does not wait out its poll interval.
    """

    def __init__(self, interrupt: threading.Event | None = None) -> None:
        self.interrupt = interrupt

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.interrupt is None:
            time.sleep(seconds)
        else:
            self.interrupt.wait(seconds)


class SimClock:
    """Time that only moves when told to: tests and tick replays set ``at`` (and ``sleep`` advances it).

    A backtest does not use it: its time is the close of the candle its venue is
    at (``candlebot.exchanges.backtest.CandleClock``).
    """

    __slots__ = ("at",)

    def __init__(self, at: float = 0.0) -> None:
        self.at = at

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.at += seconds
