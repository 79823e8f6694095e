"""The download's pace adapts to Kraken's answers: faster while calls are answered, slower after a rate-limit refusal.
At the fixed default of one call a second, 2 days of trades from the simulator took 177 s."""

from __future__ import annotations

import io
import threading

import pytest

from candlebot.cli.download import Request, _Lines
from candlebot.data.download.pace import MAX_REFUSALS, PacedCall, Pacer
from candlebot.data.download.tradestore import DownloadState
from candlebot.errors import RateLimitError


class FakeTime:
    """The test's clock; waiting moves it (no real sleep)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return False


class PublicLimit:
    """Kraken's public limit as a caller sees it: a call sooner than ``gap`` seconds after the last answered one is
    refused with EAPI:Rate limit exceeded (each call takes ``latency``)."""

    def __init__(self, clock: FakeTime, gap: float, latency: float = 0.05) -> None:
        self.clock, self.gap, self.latency = clock, gap, latency
        self.last: float | None = None
        self.answered = self.refused = 0

    def __call__(self, method: str, params: dict[str, str]) -> dict[str, str]:
        self.clock.now += self.latency
        if self.last is not None and self.clock.now - self.last < self.gap:
            self.refused += 1
            raise RateLimitError("EAPI:Rate limit exceeded", code="EAPI:Rate limit exceeded")
        self.last = self.clock.now
        self.answered += 1
        return {"method": method}


def test_answered_calls_speed_up_to_back_to_back():
    clock = FakeTime()
    pacer = Pacer(1.0, clock=clock)
    intervals = []
    for _ in range(30):
        pacer.answered()
        intervals.append(pacer.interval)
    assert intervals[0] == pytest.approx(0.8) and intervals == sorted(intervals, reverse=True) and intervals[-1] == 0.0


def test_a_refusal_doubles_the_interval_respects_retry_after_and_sets_a_floor():
    clock = FakeTime()
    pacer = Pacer(0.8, clock=clock)
    pacer.refused()
    assert (pacer.interval, pacer.floor, pacer.delay()) == (1.6, 1.0, 1.6)
    pacer.refused(retry_after=7.0)
    assert pacer.interval == 7.0 and pacer.refusals == 2
    for _ in range(20):
        pacer.answered()
    assert pacer.interval >= pacer.floor > 1.6  # it does not race back to the pace that was refused


@pytest.mark.parametrize("limit", [0.0, 0.5, 1.5])
def test_the_pace_settles_near_krakens_limit_whatever_it_is(limit):
    clock = FakeTime()
    kraken = PublicLimit(clock, gap=limit)
    call = PacedCall(kraken, Pacer(1.0, clock=clock), threading.Event(), wait=clock.wait)
    for _ in range(200):
        assert call("Trades", {}) == {"method": "Trades"}
    per_call = clock.now / kraken.answered
    assert kraken.answered == 200 and kraken.refused <= 12
    assert per_call < max(limit * 1.6, 0.1)  # the fixed 1 s pace: 1.05 s a call, however fast Kraken would answer
    assert per_call >= limit  # and never faster than the limit on average


def test_a_limit_that_never_lifts_ends_the_call_with_the_refusal():
    clock = FakeTime()
    kraken = PublicLimit(clock, gap=float("inf"))
    kraken.last = 0.0
    with pytest.raises(RateLimitError):
        PacedCall(kraken, Pacer(1.0, clock=clock), threading.Event(), wait=clock.wait)("Trades", {})
    assert kraken.refused == MAX_REFUSALS


def test_off_a_terminal_progress_is_a_line_every_10_seconds_and_one_when_done():
    clock, err = FakeTime(), io.StringIO()
    lines = _Lines(Request(("XBTUSD",), 60, 1_561_939_200, 1_561_942_800, None, 1.0, True), err, clock=clock)  # type: ignore[arg-type]
    update = lines.updater(0)
    for k in range(25):
        clock.now += 1
        update(DownloadState("XBTUSD", 1_561_939_200, "0", trades=100 * k, last=1_561_939_200 + 60 * k))
    update(DownloadState("XBTUSD", 1_561_939_200, "0", trades=2600, last=1_561_942_791), finished=True)
    assert err.getvalue().splitlines() == [
        "XBTUSD: 900 trades stored, up to 2019-07-01 00:09:00 (15%)",
        "XBTUSD: 1,900 trades stored, up to 2019-07-01 00:19:00 (32%)",
        "XBTUSD: 2,600 trades stored, up to 2019-07-01 00:59:51 (100%), done",
    ]
