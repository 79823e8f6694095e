"""Time, injected: nothing in candlebot reads ``time.time()`` directly.

Two readings, for two questions:
- ``now()``: UTC wall time, for what is *named* by the calendar: candle boundaries, the
  times booked in the ledger and logged, the look-back asked of an exchange;
- ``monotonic()``: seconds that only ever move forward at the rate of real time, for
  every *duration*: timeouts, windows, schedules, back-offs, rate counters. A wall
  clock can step (NTP, a resumed VM) by an hour either way; a poll loop scheduled on
  it would sleep that hour, and a window measured on it would end at once.
  ``time.monotonic`` (``CLOCK_MONOTONIC``) is one clock for every process of a
  machine since boot, so processes may compare it through a shared file.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


def utc(ts: float) -> str:
    """A wall time as people read it in logs and reports: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds (UTC), as the wall clock says: may step back or forward."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never steps (any origin): durations only."""
        ...

    def sleep(self, seconds: float) -> None: ...


class LiveClock:
    """Wall-clock time for paper, validate and live bots; durations on ``time.monotonic``.

    ``interrupt`` (set by a signal handler) cuts every sleep short, so that a
    stopping bot does not wait out its poll interval. Sleeps wait on an event, which
    is monotonic (a wall-clock step does not lengthen them) and, unlike
    ``time.sleep`` (``clock_nanosleep`` with an absolute monotonic deadline), also
    works under libfaketime, the tool the clock-step tests use.
    """

    def __init__(self, interrupt: threading.Event | None = None) -> None:
        self.interrupt = interrupt
        self._never = threading.Event()

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        (self._never if self.interrupt is None else self.interrupt).wait(seconds)


class SimClock:
    """Time that only moves when told to: tests and tick replays set ``at`` (and ``sleep`` advances it).

    Its monotonic reading is ``at`` too (a test that steps ``at`` back is stepping both).
    A backtest does not use it: its time is the close of the candle its venue is
    at (``candlebot.exchanges.backtest.CandleClock``).
    """

    __slots__ = ("at",)

    def __init__(self, at: float = 0.0) -> None:
        self.at = at

    def now(self) -> float:
        return self.at

    def monotonic(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.at += seconds
