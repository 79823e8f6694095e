"""A sink off the trading thread: a bounded queue in front of a worker thread.

    trading thread:  bus.emit(event) -> QueuedSink(event)      append, or drop and count; never waits
    worker thread:   wakes every ``tick_s`` or when ``wake_at`` events wait
                     drain up to ``max_batch`` events -> sink.deliver(batch)
                     nothing queued: sink.deliver([]) (time-based work: rate limits, retries)

The producer side is a length check and a ``deque.append`` (atomic under the
GIL); it signals the worker only when ``wake_at`` events are waiting, so a
backtest's stream of events costs one wake-up per few hundred events instead
of a thread hand-off per event, and a live bot's rare events wait at most
``tick_s`` (0.1 s). Well under a microsecond per event. A sink that is slow, raises or hangs only fills the
queue; what does not fit is dropped and counted, reported in a log line at
most every ``report_every_s`` and handed to ``on_drops`` (the StatsD sink turns
that into ``candlebot.sink.dropped``).

``close(timeout)`` delivers what is queued, calls ``sink.close()`` and waits
for the worker at most ``timeout`` seconds; the worker is a daemon thread, so a
sink stuck in a network call cannot keep the process alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable, Protocol, Sequence

from candlebot.events import Event

log = logging.getLogger(__name__)


class BatchSink(Protocol):
    """A sink that runs on a worker thread and receives events in batches (possibly empty: a timer tick)."""

    name: str

    def deliver(self, events: Sequence[Event]) -> None: ...

    def close(self, deadline: float) -> None:
        """Last call on the worker thread: flush what is left before ``deadline`` (``time.monotonic()``)."""
        ...


DropListener = Callable[[str, int], None]


class QueuedSink:
    """Subscribe this to a bus in place of the sink it wraps; call ``close`` once at exit."""

    def __init__(
        self,
        sink: BatchSink,
        *,
        capacity: int = 10_000,
        max_batch: int = 5_000,
        tick_s: float = 0.1,
        wake_at: int = 256,
        report_every_s: float = 60.0,
        on_drops: DropListener | None = None,
    ) -> None:
        if capacity < 1 or max_batch < 1 or wake_at < 1 or tick_s <= 0:
            raise ValueError("capacity, max_batch, wake_at and tick_s must be positive")
        self.sink = sink
        self.name = sink.name
        self.capacity = capacity
        self.max_batch = max_batch
        self.tick_s = tick_s
        self.wake_at = min(wake_at, capacity)
        self.report_every_s = report_every_s
        self.on_drops = on_drops
        self.dropped = 0
        self.delivered = 0
        self.failures = 0
        self._queue: deque[Event] = deque()
        self._wake = threading.Event()
        self._idle = False
        self._closing = False
        self._logged = 0
        self._counted = 0
        self._last_log = float("-inf")
        self._deadline = float("inf")
        self._thread = threading.Thread(target=self._run, name=f"candlebot-sink-{self.name}", daemon=True)
        self._thread.start()

    # -- trading thread ----------------------------------------------------------

    def __call__(self, event: Event) -> None:
        queue = self._queue
        if len(queue) >= self.capacity or self._closing:
            self.dropped += 1
            return
        queue.append(event)
        if self._idle and len(queue) >= self.wake_at:
            self._idle = False
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def begin_close(self, deadline: float) -> None:
        """Stop accepting events; the worker delivers the rest and calls ``sink.close(deadline)``."""
        self._deadline = deadline
        self._closing = True
        self._wake.set()

    def join(self, deadline: float) -> bool:
        """Wait for the worker until ``deadline``; False (and a log line) when it did not finish."""
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            log.warning("%s sink: still busy at exit, gave up waiting (%d events not delivered)", self.name, len(self._queue))
            return False
        return True

    def close(self, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        self.begin_close(deadline)
        return self.join(deadline)

    def __repr__(self) -> str:
        return f"QueuedSink({self.name}, {len(self._queue)}/{self.capacity} queued, {self.dropped} dropped)"

    # -- worker thread -----------------------------------------------------------

    def _run(self) -> None:
        queue, wake = self._queue, self._wake
        while True:
            if queue:
                self._deliver(self._drain())
            elif self._closing:
                break
            else:
                self._idle = True
                if len(queue) < self.wake_at and not self._closing:  # re-check: an append may have raced the flag
                    wake.wait(self.tick_s)
                wake.clear()
                self._idle = False
                self._deliver(())
            self._report_drops(time.monotonic())
        try:
            self.sink.close(self._deadline)
        except Exception as exc:  # noqa: BLE001 - a sink never takes the process down
            log.warning("%s sink: close failed: %s: %s", self.name, type(exc).__name__, exc)
        self._report_drops(float("inf"))

    def _drain(self) -> list[Event]:
        queue = self._queue
        popleft = queue.popleft
        return [popleft() for _ in range(min(len(queue), self.max_batch))]

    def _deliver(self, batch: Sequence[Event]) -> None:
        try:
            self.sink.deliver(batch)
        except Exception as exc:  # noqa: BLE001 - a sink never stops the worker
            self.failures += 1
            if self.failures <= 3 or self.failures % 1000 == 0:
                log.warning("%s sink: failed (%d failures so far): %s: %s", self.name, self.failures, type(exc).__name__, exc)
        else:
            self.delivered += len(batch)

    def _report_drops(self, now: float) -> None:
        """Every new drop goes to ``on_drops`` at once; the log line comes at most every ``report_every_s``."""
        dropped = self.dropped
        if dropped != self._counted:
            if self.on_drops is not None:
                try:
                    self.on_drops(self.name, dropped - self._counted)
                except Exception as exc:  # noqa: BLE001
                    log.warning("%s sink: drop listener failed: %s: %s", self.name, type(exc).__name__, exc)
            self._counted = dropped
        if dropped != self._logged and now - self._last_log >= self.report_every_s:
            log.warning("%s sink: queue full, dropped %d events (%d in total, capacity %d)",
                        self.name, dropped - self._logged, dropped, self.capacity)
            self._logged = dropped
            self._last_log = now
