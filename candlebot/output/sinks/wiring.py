"""Start the configured sinks on a bus, each behind its own ``QueuedSink``, and stop them with a bounded wait.

    StatsD  subscribes to every event type (so the engine builds CandleClosed per candle)
    Slack   subscribes to the alert types only; its drops are counted into StatsD too
"""

from __future__ import annotations

import logging
import time

from candlebot.events import EventBus
from candlebot.output.sinks.config import SinkConfig
from candlebot.output.sinks.queued import QueuedSink
from candlebot.output.sinks.settings import CLOSE_TIMEOUT_S
from candlebot.output.sinks.tags import SinkTags

log = logging.getLogger(__name__)

STATSD_CAPACITY = 10_000
SLACK_CAPACITY = 2_000


def start_sinks(config: SinkConfig, bus: EventBus, tags: SinkTags, said: set[str] | None = None) -> SinkCloser:
    """A worker per configured sink, subscribed; datadog and slack_sdk load only for the sink that needs them.

    Each sink's line (where it sends) is logged unless it is in ``said``, the lines this process already logged
    (a bot that refuses to start sends its alert through sinks of its own, to the same places)."""
    statsd_queue: QueuedSink | None = None
    on_drops = None
    others: list[QueuedSink] = []
    if config.statsd is not None:
        from candlebot.output.sinks.statsd import StatsdSink, statsd_client

        statsd = StatsdSink(statsd_client(config.statsd, tags.statsd_tags()))
        on_drops = statsd.note_drops
        statsd_queue = QueuedSink(statsd, capacity=STATSD_CAPACITY, on_drops=on_drops)
        bus.subscribe(statsd_queue)  # every event type
        _say(f"metrics: DogStatsD at {config.statsd}, tags {','.join(tags.statsd_tags())}", said)
    if config.slack is not None:
        from candlebot.output.sinks.slack import EVENT_TYPES as SLACK_EVENT_TYPES
        from candlebot.output.sinks.slack import SlackSink

        poster = config.slack.poster(config.redact)
        queue = QueuedSink(SlackSink(poster, tags, redact=config.redact), capacity=SLACK_CAPACITY, on_drops=on_drops)
        bus.subscribe(queue, *SLACK_EVENT_TYPES)
        others.append(queue)
        _say(f"alerts: {poster.description}", said)
    return SinkCloser(statsd_queue, others)


def _say(line: str, said: set[str] | None) -> None:
    if said is None or line not in said:
        log.info("%s", line)
    if said is not None:
        said.add(line)


class SinkCloser:
    """Flushes and stops the sinks in at most ``timeout`` seconds (plus one for StatsD); safe to call twice.

    The others close first, so that their last drop counts still reach StatsD.
    """

    def __init__(self, statsd: QueuedSink | None, others: list[QueuedSink], timeout: float = CLOSE_TIMEOUT_S) -> None:
        self.statsd = statsd
        self.others = others
        self.timeout = timeout
        self._closed = False

    @property
    def queues(self) -> list[QueuedSink]:
        return [*self.others, *([self.statsd] if self.statsd is not None else [])]

    def __call__(self) -> None:
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + self.timeout
        for queue in self.others:
            queue.begin_close(deadline)
        for queue in self.others:
            queue.join(deadline)
        if self.statsd is not None:
            self.statsd.close(1.0)

    def __repr__(self) -> str:
        return f"SinkCloser({', '.join(queue.name for queue in self.queues) or 'no sinks'})"
