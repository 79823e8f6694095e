"""QueuedSink: a slow, failing or hung sink never slows the trading thread; drops are counted and reported."""

from __future__ import annotations

import logging
import threading
import time
from typing import Sequence

import pytest

from candlebot.events import Event, EventBus, Heartbeat
from candlebot.output.sinks.queued import QueuedSink
from tests.support.wait import wait_until

EMIT_BOUND_S = 5e-6  # the goal: what a queued sink may add per event on the trading thread


class SleepySink:
    """Takes ``delay_s`` per batch, like a sink talking to a slow server."""

    name = "sleepy"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.events: list[Event] = []
        self.closed = False

    def deliver(self, events: Sequence[Event]) -> None:
        if events:
            time.sleep(self.delay_s)  # the scenario: a slow server's reply time
            self.events.extend(events)

    def close(self, deadline: float) -> None:
        self.closed = True


class RaisingSink:
    name = "raising"

    def __init__(self) -> None:
        self.calls = 0

    def deliver(self, events: Sequence[Event]) -> None:
        self.calls += 1
        raise RuntimeError("sink is broken")

    def close(self, deadline: float) -> None:
        raise RuntimeError("still broken")


class GateSink:
    """Blocks inside its first non-empty delivery until released."""

    name = "gate"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.events: list[Event] = []

    def deliver(self, events: Sequence[Event]) -> None:
        if events:
            self.entered.set()
            self.release.wait(10)
            self.events.extend(events)

    def close(self, deadline: float) -> None:
        pass


class HungSink:
    name = "hung"

    def __init__(self) -> None:
        self.stop = threading.Event()

    def deliver(self, events: Sequence[Event]) -> None:
        if events:
            self.stop.wait(60)

    def close(self, deadline: float) -> None:
        pass


def per_event_cost(bus: EventBus, events: int = 5_000, rounds: int = 7) -> float:
    """Best mean seconds per ``bus.emit`` over a few rounds (the machine is shared)."""
    beat = Heartbeat(0.0)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(events):
            bus.emit(beat)
        best = min(best, (time.perf_counter() - started) / events)
    return best


@pytest.mark.parametrize("sink_factory", [lambda: SleepySink(0.05), RaisingSink, HungSink], ids=["slow", "raising", "hung"])
def test_a_bad_sink_does_not_slow_emit(sink_factory) -> None:
    # Arrange
    sink = sink_factory()
    queued = QueuedSink(sink, capacity=1_000)
    bus = EventBus()
    bus.subscribe(queued, Heartbeat)
    # Act
    cost = per_event_cost(bus)
    # Assert
    assert cost <= EMIT_BOUND_S, f"{cost * 1e6:.2f} µs per event"
    assert bus.failures == 0  # the wrapper never raised into the bus
    if isinstance(sink, HungSink):
        sink.stop.set()
    queued.close(timeout=2)


def test_drops_are_counted_reported_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    # Arrange: the worker is stuck in its first delivery, so the queue can only fill up
    sink = GateSink()
    reported: list[tuple[str, int]] = []
    queued = QueuedSink(sink, capacity=100, on_drops=lambda name, n: reported.append((name, n)))
    queued(Heartbeat(0.0))
    assert sink.entered.wait(5)
    # Act
    with caplog.at_level(logging.WARNING, logger="candlebot.output.sinks.queued"):
        for i in range(1_000):
            queued(Heartbeat(float(i)))
        sink.release.set()
        assert queued.close(timeout=5)
    # Assert
    assert queued.dropped == 900
    assert len(sink.events) == 101
    assert sum(n for _, n in reported) == 900 and {name for name, _ in reported} == {"gate"}
    assert any("gate sink: queue full, dropped 900 events" in r.getMessage() for r in caplog.records)


def test_a_raising_sink_keeps_its_worker_alive() -> None:
    sink = RaisingSink()
    queued = QueuedSink(sink, tick_s=0.01)
    for i in range(10):
        queued(Heartbeat(float(i)))
        time.sleep(0.005)  # the scenario's pace: events spread over several batches, each of which raises
    assert queued.close(timeout=2)  # close() raising inside the worker is contained too
    assert queued.failures >= 2 and sink.calls >= 2


def test_close_delivers_what_is_queued_then_closes_the_sink() -> None:
    sink = SleepySink(0.01)
    queued = QueuedSink(sink)
    for i in range(500):
        queued(Heartbeat(float(i)))
    assert queued.close(timeout=5)
    assert [e.time for e in sink.events] == [float(i) for i in range(500)]  # all of them, in order
    assert sink.closed
    queued(Heartbeat(1.0))  # after close: dropped, not queued
    assert queued.dropped == 1 and queued.pending == 0


@pytest.mark.slow
def test_close_is_bounded_when_the_sink_hangs() -> None:
    sink = HungSink()
    queued = QueuedSink(sink)
    queued(Heartbeat(0.0))
    started = time.monotonic()
    finished = queued.close(timeout=0.5)
    elapsed = time.monotonic() - started
    sink.stop.set()
    assert not finished
    assert elapsed < 1.5


def test_an_idle_worker_ticks_the_sink() -> None:
    calls: list[int] = []

    class Ticking:
        name = "ticking"

        def deliver(self, events: Sequence[Event]) -> None:
            calls.append(len(events))

        def close(self, deadline: float) -> None:
            pass

    queued = QueuedSink(Ticking(), tick_s=0.02)
    wait_until(lambda: calls.count(0) >= 3, "three idle ticks")
    queued.close(1)
    assert calls.count(0) >= 3  # empty deliveries: the sink's timer (rate limits, retries)
