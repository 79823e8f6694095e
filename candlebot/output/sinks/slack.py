"""Trade alerts to Slack, rate-limited and collapsed, on a sink worker thread.

    events -> pending alerts -> (token bucket allows?) -> one message each, or one summary of all
                                 429: wait Retry-After  ·  5xx/timeout/refused: back off 1 s, 2 s, ...
                                 ``max_attempts`` failed posts in a row: the pending alerts are given up (logged, counted)

``rate`` messages per second with a ``burst`` (defaults 1/s, 3): a live bot's
few alerts go out one by one as they happen; a flood (a backtest, a crash
loop) becomes one summary per second at most. Heartbeats alert only when the
exchange has failed ``unreachable_after`` polls in a row, and once more when
it answers again.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any, Callable, Sequence

from candlebot.events import BooksAudited, Event, Heartbeat
from candlebot.output.sinks.ratelimit import TokenBucket
from candlebot.output.sinks.secret import Redactor
from candlebot.output.sinks.slack_messages import ALERT_TYPES, AlertDigest, SlackMessage, alert_message, summary_message
from candlebot.output.sinks.slack_post import PostResult, SlackPoster
from candlebot.output.sinks.tags import SinkTags

log = logging.getLogger(__name__)

EVENT_TYPES = ALERT_TYPES


class SlackSink:
    name = "slack"

    def __init__(
        self,
        poster: SlackPoster,
        tags: SinkTags,
        *,
        rate: float = 1.0,
        burst: int = 3,
        max_attempts: int = 3,
        backoff_s: float = 1.0,
        unreachable_after: int = 5,
        redact: Redactor | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.poster = poster
        self.tags = tags
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.unreachable_after = unreachable_after
        self.sent = 0
        self.failed_posts = 0
        self.undelivered = 0
        self._bucket = TokenBucket(rate, burst, monotonic)
        self._redact = redact or Redactor()
        self._monotonic = monotonic
        self._sleep = sleep
        self._pending: deque[Event] = deque()
        self._digest = AlertDigest()
        self._not_before = 0.0
        self._attempts = 0
        self._unreachable = False
        self._lost_since_summary = 0

    # -- worker thread -----------------------------------------------------------

    def deliver(self, events: Sequence[Event]) -> None:
        for event in events:
            if self._wanted(event):
                self._digest.add(event)
                if len(self._pending) < self._bucket.burst:
                    self._pending.append(event)
        self._pump()

    def close(self, deadline: float) -> None:
        """One last message with whatever is pending, unless Slack asked us to wait past ``deadline``."""
        if not self._digest.count:
            return
        wait = self._not_before - self._monotonic()
        if wait > 0:
            if self._monotonic() + wait >= deadline:
                self._give_up(f"Slack asked to wait {wait:.1f} s, past the exit deadline")
                return
            self._sleep(wait)
        message = alert_message(self._pending[0], self.tags) if self._digest.count == 1 else self._summary()
        result = self._post(message)
        if not result.ok:
            self._give_up(result.error)

    def __repr__(self) -> str:
        return f"SlackSink({self.poster!r}, {self._digest.count} pending, {self.sent} sent)"

    # -- policy ------------------------------------------------------------------

    def _wanted(self, event: Event) -> bool:
        if type(event) is BooksAudited:
            return event.changed  # once when a hold (or a problem) comes, once when it goes
        if type(event) is not Heartbeat:
            return True
        failing = event.consecutive_failures >= self.unreachable_after
        if failing == self._unreachable:
            return False
        if not failing and event.consecutive_failures:
            return False  # still failing, just below the threshold again: wait for a clean poll
        self._unreachable = failing
        return True

    def _pump(self) -> None:
        while self._digest.count and self._monotonic() >= self._not_before:
            tokens = self._bucket.available()
            if tokens < 1:
                return
            if self._digest.count <= tokens and self._digest.count == len(self._pending):
                if not self._send(alert_message(self._pending[0], self.tags), single=True):
                    return
            elif not self._send(self._summary(), single=False):
                return

    def _summary(self) -> SlackMessage:
        return summary_message(self._digest, self.tags, lost=self._lost_since_summary)

    def _send(self, message: SlackMessage, *, single: bool) -> bool:
        self._bucket.take()
        result = self._post(message)
        if result.ok:
            self._attempts = 0
            if single:
                self._pending.popleft()
                digest = AlertDigest()
                for event in self._pending:
                    digest.add(event)
                self._digest = digest
            else:
                self._lost_since_summary = 0
                self._reset()
            return True
        self._attempts += 1
        delay = result.retry_after if result.retry_after is not None else self.backoff_s * 2 ** (self._attempts - 1)
        self._not_before = self._monotonic() + delay
        if self._attempts >= self.max_attempts:
            self._give_up(result.error)
        else:
            log.warning("slack: post failed (%s), attempt %d of %d, next in %.1f s", result.error, self._attempts, self.max_attempts, delay)
        return False

    def _post(self, message: SlackMessage) -> PostResult:
        message = self._redacted(message)
        try:
            result = self.poster.post(message)
        except Exception as exc:  # noqa: BLE001 - posters should not raise; if one does, it is a failed post
            result = PostResult(False, None, self._redact(f"{type(exc).__name__}: {exc}"))
        if result.ok:
            self.sent += 1
        else:
            self.failed_posts += 1
        return result

    def _redacted(self, message: SlackMessage) -> SlackMessage:
        """Alert texts carry exchange and error messages: no known secret may ride along."""
        blocks = tuple(_redact_json(block, self._redact) for block in message.blocks)
        return SlackMessage(self._redact(message.text), blocks)

    def _give_up(self, error: str) -> None:
        count = self._digest.count
        self.undelivered += count
        self._lost_since_summary += count
        log.warning("slack: giving up on %d alert(s) after %d attempt(s): %s", count, max(self._attempts, 1), self._redact(error))
        self._attempts = 0
        self._reset()

    def _reset(self) -> None:
        self._pending.clear()
        self._digest = AlertDigest()


def _redact_json(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_json(item, redact) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_json(item, redact) for item in value]
    return value
