"""Simulator time: the market's clock, running ``speed`` times faster than the injected one.

``sim = origin + (clock.now() - started) * speed``. A replay's origin is its
first candle (or the chosen start), a generated market's the clock's time at
construction. Market data, order times and the Time endpoint use simulator
time; rate counters and faults use the injected clock itself.
"""

from __future__ import annotations

from candlebot.clock import Clock


class SimTime:
    __slots__ = ("clock", "origin", "speed", "_started")

    def __init__(self, clock: Clock, origin: float, speed: float) -> None:
        self.clock = clock
        self.origin = origin
        self.speed = speed
        self._started = clock.now()

    def now(self) -> float:
        return self.origin + (self.clock.now() - self._started) * self.speed
