"""Rate limits against the simulator's starter-tier counter, on one simulated clock shared with the adapter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest

from candlebot.clock import SimClock
from candlebot.errors import RateLimitError
from candlebot.exchanges.kraken.client import RetryPolicy
from candlebot.exchanges.kraken.exchange import KrakenExchange
from tests.kraken.conftest import adapter_on

pytestmark = pytest.mark.integration

CALLS = 30


class SteppedClock(SimClock):
    """Simulated time that the adapter's pauses move forward (and the simulator's counter decays with)."""

    def __init__(self, at: float) -> None:
        super().__init__(at)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


@pytest.fixture
def clock() -> SteppedClock:
    import time

    return SteppedClock(time.time())


@pytest.fixture
def starter_sim(make_sim: Callable[..., Any], clock: SteppedClock) -> Any:
    return make_sim("starter", clock, balances={"ZUSD": Decimal("1000")}, seed=3)


def exchange_for(sim: Any, clock: SteppedClock, tmp_path: Path, tier: str, retry: RetryPolicy) -> KrakenExchange:
    return adapter_on(sim.url, tmp_path, clock, tier=tier, retry=retry)


def test_refusals_back_off_and_recover(starter_sim: Any, clock: SteppedClock, tmp_path: Path) -> None:
    """No client-side model: the server refuses, the adapter backs off on the clock and every call succeeds."""
    retry = RetryPolicy(attempts=6, base_delay=0.5, max_delay=30.0, rate_limit_delay=3.0)
    exchange = exchange_for(starter_sim, clock, tmp_path, "none", retry)

    results = [exchange.balances() for _ in range(CALLS)]

    assert all(r["ZUSD"] == Decimal("1000") for r in results)
    assert starter_sim.counters()["rate_limited"] > 0
    assert clock.sleeps and min(clock.sleeps) >= 1.5


def test_refusals_marked_full_in_the_shared_counter(starter_sim: Any, clock: SteppedClock, tmp_path: Path) -> None:
    """A model that is too optimistic (pro tier on a starter key) learns from the refusal and recovers."""
    retry = RetryPolicy(attempts=8, base_delay=0.5, max_delay=30.0)
    exchange = exchange_for(starter_sim, clock, tmp_path, "pro", retry)

    for _ in range(CALLS):
        exchange.balances()

    assert starter_sim.counters()["rate_limited"] > 0
    sequencer = exchange.client.sequencer
    assert sequencer is not None and sequencer.peek()[1].level > 0


def test_the_starter_model_never_hits_the_limit(starter_sim: Any, clock: SteppedClock, tmp_path: Path) -> None:
    exchange = exchange_for(starter_sim, clock, tmp_path, "starter", RetryPolicy(attempts=1))
    start = clock.now()

    for _ in range(CALLS):
        exchange.balances()
    exchange.client.private("TradesHistory")

    assert starter_sim.counters()["rate_limited"] == 0
    waited = clock.now() - start
    assert waited == pytest.approx((CALLS + 2 - 14) / 0.33, rel=0.05)


def test_give_up_after_the_retry_budget(starter_sim: Any, clock: SteppedClock, tmp_path: Path) -> None:
    exchange = exchange_for(starter_sim, clock, tmp_path, "none", RetryPolicy(attempts=1))

    with pytest.raises(RateLimitError) as info:
        for _ in range(CALLS):
            exchange.balances()

    assert info.value.code == "EAPI:Rate limit exceeded"
