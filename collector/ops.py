"""Operations: metrics once a second, and an alert when a symbol stays unsynced too long, both as events on the
process's bus (``MetricsSampled``, ``FeedAlert``), where the bots' StatsD and Slack sinks listen on their own
worker threads (``candlebot.assembly.collector`` attaches them): the event loop never waits for a socket.

Counters are read from the feeds and the writer and reset; lags are sampled (at most ``LAG_SAMPLES`` per pair
and second). The alert is raised once when the threshold is crossed and once when the symbol is back.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any, Callable, Sequence

from candlebot.collector import metrics as m
from candlebot.collector.feed import SymbolFeed
from candlebot.collector.records import BookRecord, Record
from candlebot.events import EventBus, MetricsSampled, Sample

log = logging.getLogger(__name__)
LAG_SAMPLES = 50


class MetricsToBus:
    """The metrics pass's client (DogStatsd's calls): one ``MetricsSampled`` per pass, emitted on the bus."""

    def __init__(self, bus: EventBus, clock: Callable[[], float] = time.time) -> None:
        self.bus, self.clock = bus, clock
        self._counts: list[Sample] = []
        self._gauges: list[Sample] = []
        self._distributions: list[Sample] = []

    def open_buffer(self) -> None:
        self._counts, self._gauges, self._distributions = [], [], []

    def close_buffer(self) -> None:
        if self.bus.wants(MetricsSampled) and (self._counts or self._gauges or self._distributions):
            self.bus.emit(MetricsSampled(self.clock(), tuple(self._counts), tuple(self._gauges), tuple(self._distributions)))
        self.open_buffer()

    def increment(self, metric: str, value: float = 1, tags: Sequence[str] | None = None, **kwargs: Any) -> None:
        self._counts.append((metric, value, tuple(tags or ())))

    def gauge(self, metric: str, value: float, tags: Sequence[str] | None = None, **kwargs: Any) -> None:
        self._gauges.append((metric, value, tuple(tags or ())))

    def distribution(self, metric: str, value: float, tags: Sequence[str] | None = None, **kwargs: Any) -> None:
        self._distributions.append((metric, value, tuple(tags or ())))


class Metrics:
    def __init__(self, client: Any, feeds: Sequence[SymbolFeed], writer: Any, clock_us: Any) -> None:
        self.client = client
        self.feeds = feeds
        self.writer = writer
        self.clock_us = clock_us
        self._rows: dict[str, int] = {}
        self._store_lags: dict[str, list[int]] = {}
        self._rng = random.Random(7)
        self._dropped_seen = 0

    def written(self, batch: Sequence[Record], rows: int, seconds: float) -> None:
        """The writer's callback, after a commit."""
        now = self.clock_us()
        counts = self._rows
        for record in batch:
            if type(record) is BookRecord:
                counts[record.pair] = counts.get(record.pair, 0) + len(record.rows)
        lags = self._store_lags
        for record in self._rng.sample(list(batch), min(len(batch), LAG_SAMPLES)):
            if type(record) is BookRecord:
                lags.setdefault(record.pair, []).append(now - record.ts_local)

    def flush(self) -> None:
        client = self.client
        now = self.clock_us()
        client.open_buffer()
        try:
            for feed in self.feeds:
                tags = [f"pair:{feed.pair}"]
                stats = feed.stats
                client.increment(m.MESSAGES.name, stats.messages, tags=tags)
                client.increment(m.ROWS_WRITTEN.name, self._rows.pop(feed.pair, 0), tags=tags)
                if stats.mismatches:
                    client.increment(m.MISMATCHES.name, stats.mismatches, tags=tags)
                for reason, count in stats.reasons.items():
                    client.increment(m.RESYNCS.name, count, tags=[*tags, f"reason:{reason}"])
                for gap_us in stats.gaps_us:  # one per gap closed: the status board counts them (collector.status)
                    client.increment(m.GAP_SECONDS.name, gap_us / 1e6, tags=tags)
                if stats.dropped:
                    client.increment(m.DROPPED.name, stats.dropped, tags=tags)
                lags = stats.lags_us
                for lag in (self._rng.sample(lags, LAG_SAMPLES) if len(lags) > LAG_SAMPLES else lags):
                    client.distribution(m.LAG.name, lag / 1e6, tags=tags)
                for lag in self._store_lags.pop(feed.pair, ())[:LAG_SAMPLES]:
                    client.distribution(m.STORE_LAG.name, lag / 1e6, tags=tags)
                since = feed.unsynced_since
                client.gauge(m.UNSYNCED.name, 0 if since is None else (now - since) / 1e6, tags=tags)
                stats.messages = stats.mismatches = stats.dropped = 0
                stats.gaps_us.clear()
                stats.reasons.clear()
                stats.lags_us.clear()
            client.gauge(m.QUEUE_DEPTH.name, self.writer.pending, tags=["pair:all"])
        finally:
            client.close_buffer()


class UnsyncedAlert:
    """Raises an alert once when a symbol has been unsynced longer than ``threshold_s`` and once when it recovers;
    a longer gap that opened and closed between two checks is reported in one alert. ``raise_alert`` hands the
    text on (a ``FeedAlert`` on the bus); it never blocks."""

    def __init__(self, raise_alert: Callable[[str], None], name: str, feeds: Sequence[SymbolFeed], threshold_s: float,
                 clock_us: Any) -> None:
        self.raise_alert = raise_alert
        self.name = name
        self.feeds = feeds
        self.threshold_us = round(threshold_s * 1e6)
        self.clock_us = clock_us
        self._alerted: set[str] = set()

    def check(self) -> None:
        now = self.clock_us()
        for feed in self.feeds:
            gaps = list(feed.closed_gaps)
            feed.closed_gaps.clear()
            if feed.pair not in self._alerted:
                for gap in gaps:
                    if gap.end - gap.start > self.threshold_us:
                        self._post(f":warning: collector {self.name}: {feed.pair} had no verified book for "
                                   f"{(gap.end - gap.start) / 1e6:.1f} s ({gap.reason}); synced again")
            since = feed.unsynced_since
            if since is not None and now - since > self.threshold_us and feed.pair not in self._alerted:
                self._alerted.add(feed.pair)
                self._post(f":warning: collector {self.name}: {feed.pair} has no verified book for "
                           f"{(now - since) / 1e6:.0f} s (last reason: {feed.gap_reason})")
            elif since is None and feed.pair in self._alerted:
                self._alerted.discard(feed.pair)
                self._post(f":white_check_mark: collector {self.name}: {feed.pair} is synced again")

    def _post(self, text: str) -> None:
        log.warning("%s", text)
        self.raise_alert(text)
