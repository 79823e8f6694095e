"""What a person watching the collector sees: a status line every ``every_s`` seconds and a summary when it stops.

The collector's once-a-second metrics pass (``ops.Metrics``) reads and resets the feeds' counters and hands them to
a StatsD client. Gaps are counted as the gaps table holds them: one per gap closed (``ops.Metrics`` sends one
``gap.seconds`` increment per gap; a restart's gap closes without a resync, and a resync's reasons can repeat
within one gap). ``StatusBoard`` is such a client: it keeps what a person needs from those numbers, forwards every
call to the real DogStatsD client when metrics are on, and after each pass writes the status line when it is due:

    status: 1,234 messages/s, 2/2 books in sync, 0 gaps in the last 10 s, 0 dropped, 12 queued
    stopped after 1h 02m 05s: 4,567,890 messages (1,226/s) for 2 pairs, 3 gaps since start (12.4 s without a
        verified book), 0 dropped, 1,234,567 rows written

A status line's numbers are that interval's and the summary's are the run's totals; each says so, since "1 gap"
followed by "0 gaps" read like a gap that went away.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from candlebot.collector import metrics as m
from candlebot.output.lines import plural as _count

log = logging.getLogger("candlebot.collector")


@dataclass
class _Totals:
    messages: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    dropped: int = 0
    rows: int = 0


@dataclass
class StatusBoard:
    """A StatsD client (``increment``/``gauge``/``distribution``/``open_buffer``/``close_buffer``) that also keeps
    the numbers of the status line; ``inner`` is the DogStatsD client, or None when metrics are off."""

    pairs: Sequence[str]
    inner: Any = None
    every_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    write: Callable[[str], None] = log.info
    total: _Totals = field(default_factory=_Totals)
    _window: _Totals = field(default_factory=_Totals)
    _unsynced: dict[str, float] = field(default_factory=dict)
    _queued: int = 0
    _started: float = 0.0
    _last_line: float = 0.0

    def __post_init__(self) -> None:
        self._started = self._last_line = self.clock()

    # -- the StatsD client's calls, as ops.Metrics makes them --------------------------------------------------------
    def open_buffer(self) -> None:
        if self.inner is not None:
            self.inner.open_buffer()

    def close_buffer(self) -> None:
        if self.inner is not None:
            self.inner.close_buffer()
        now = self.clock()
        if self.every_s > 0 and now - self._last_line >= self.every_s:
            self.write(self.status_line(now - self._last_line))
            self._last_line = now
            self._window = _Totals()

    def increment(self, metric: str, value: float = 1, tags: Sequence[str] | None = None, **kwargs: Any) -> None:
        if self.inner is not None:
            self.inner.increment(metric, value, tags=tags, **kwargs)
        for totals in (self.total, self._window):
            if metric == m.MESSAGES.name:
                totals.messages += int(value)
            elif metric == m.GAP_SECONDS.name:  # one increment per gap closed, as the gaps table gets a row
                totals.gaps += 1
                totals.gap_s += value
            elif metric == m.DROPPED.name:
                totals.dropped += int(value)
            elif metric == m.ROWS_WRITTEN.name:
                totals.rows += int(value)

    def gauge(self, metric: str, value: float, tags: Sequence[str] | None = None, **kwargs: Any) -> None:
        if self.inner is not None:
            self.inner.gauge(metric, value, tags=tags, **kwargs)
        if metric == m.UNSYNCED.name:
            self._unsynced[_pair(tags)] = value
        elif metric == m.QUEUE_DEPTH.name:
            self._queued = int(value)

    def distribution(self, metric: str, value: float, tags: Sequence[str] | None = None, **kwargs: Any) -> None:
        if self.inner is not None:
            self.inner.distribution(metric, value, tags=tags, **kwargs)

    # -- the lines ---------------------------------------------------------------------------------------------------
    def in_sync(self) -> list[str]:
        return [pair for pair in self.pairs if self._unsynced.get(pair, 1.0) == 0]

    def status_line(self, seconds: float) -> str:
        w = self._window
        rate = w.messages / seconds if seconds > 0 else 0.0
        return (f"status: {rate:,.0f} messages/s, {len(self.in_sync())}/{len(self.pairs)} books in sync, "
                f"{_count(w.gaps, 'gap')} in the last {_seconds(seconds)} s, {w.dropped:,} dropped, "
                f"{self._queued:,} queued")

    def summary(self) -> str:
        t, seconds = self.total, max(0.0, self.clock() - self._started)
        rate = t.messages / seconds if seconds > 0 else 0.0
        return (f"stopped after {_duration(seconds)}: {_count(t.messages, 'message')} ({rate:,.0f}/s) for "
                f"{_count(len(self.pairs), 'pair')}, {_count(t.gaps, 'gap')} since start "
                f"({t.gap_s:,.1f} s without a verified book), "
                f"{t.dropped:,} dropped, {_count(t.rows, 'row')} written")


def _pair(tags: Sequence[str] | None) -> str:
    return next((tag[5:] for tag in tags or () if tag.startswith("pair:")), "")


def _seconds(seconds: float) -> str:
    """``10`` for a status interval of 10.02 s, ``0.5`` for half a second."""
    return f"{seconds:.1f}".rstrip("0").rstrip(".")


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}h {rest // 60:02d}m {rest % 60:02d}s" if hours else f"{rest // 60}m {rest % 60:02d}s"
