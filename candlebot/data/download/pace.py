"""How fast ``candlebot download`` calls Kraken's public endpoints: as fast as Kraken lets it.

Kraken limits public calls per IP (about one a second, with some burst); a fixed pace is either too slow (the
local simulator, a quiet hour) or refused. ``Pacer`` starts at ``--pace`` and adapts to the answers:

- every answered call shortens the interval by a fifth (below 20 ms it is 0: back to back);
- a rate-limit refusal doubles it (at least 1 s, at least what Kraken's ``retry_after`` asks, at most 60 s) and
  raises a floor the interval will not go under again soon (25 % above the refused pace; it fades by 1 % a call),
  so that the pace settles just under Kraken's limit instead of being refused every few calls.

``PacedCall`` wraps a public call with it: waits its turn, retries a refusal (and, with a back-off, up to three
other temporary failures in a row) and counts the refusals for the summary. The adapter under it must not retry
itself (``RetryPolicy(attempts=1)``), or the pacer would never see a refusal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from candlebot.errors import RateLimitError, TemporaryExchangeError

SPEED_UP = 0.8
SLOW_DOWN = 2.0
BACK_TO_BACK = 0.02
CEILING = 60.0
FLOOR_MARGIN = 1.25
FORGET = 0.99
MAX_REFUSALS = 10  # in a row: Kraken keeps refusing, the run stops (and resumes from its cursor next time)
MAX_FAILURES = 3  # other temporary failures in a row


@dataclass
class Pacer:
    """The interval between two calls, adapted to Kraken's answers (see the module docstring)."""

    interval: float
    clock: Callable[[], float] = time.monotonic
    floor: float = 0.0
    next_at: float = 0.0
    refusals: int = 0

    def delay(self) -> float:
        """Seconds to wait before the next call."""
        return max(0.0, self.next_at - self.clock())

    def answered(self) -> None:
        self.floor *= FORGET
        self.interval = max(self.floor, self.interval * SPEED_UP)
        if self.interval < BACK_TO_BACK:
            self.interval = 0.0
        self.next_at = self.clock() + self.interval

    def refused(self, retry_after: float | None = None) -> None:
        self.refusals += 1
        self.floor = min(CEILING, max(self.floor, self.interval * FLOOR_MARGIN))
        self.interval = min(CEILING, max(1.0, self.interval * SLOW_DOWN, retry_after or 0.0))
        self.next_at = self.clock() + self.interval

    def failed(self, attempt: int) -> None:
        """A temporary failure that is not a refusal (timeout, 5xx): back off 0.5, 1, 2 s; the pace is unchanged."""
        self.next_at = self.clock() + max(self.interval, 0.5 * 2 ** attempt)


class PacedCall:
    """A public call (``public(method, params)``) made at the pacer's pace, refusals retried."""

    def __init__(self, public: Callable[[str, dict[str, str]], Any], pacer: Pacer, stop: threading.Event,
                 wait: Callable[[float], bool] | None = None) -> None:
        self.public = public
        self.pacer = pacer
        self.wait = wait or stop.wait  # returns True once the run is stopping: the call is then made at once
        self.stop = stop

    def __call__(self, method: str, params: dict[str, str]) -> Any:
        refusals = failures = 0
        while True:
            delay = self.pacer.delay()
            if delay > 0:
                self.wait(delay)
            try:
                result = self.public(method, params)
            except RateLimitError as exc:
                refusals += 1
                self.pacer.refused(exc.retry_after)
                if refusals >= MAX_REFUSALS or self.stop.is_set():
                    raise
                continue
            except TemporaryExchangeError:
                failures += 1
                self.pacer.failed(failures - 1)
                if failures > MAX_FAILURES or self.stop.is_set():
                    raise
                continue
            self.pacer.answered()
            return result
