"""The client-side rate counter model, on a simulated clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from candlebot.clock import SimClock
from candlebot.errors import ConfigError
from candlebot.exchanges.kraken.nonce import NonceSequencer
from candlebot.exchanges.kraken.ratelimit import TIERS, CounterState, RateLimiter, call_cost, tier_named


def test_tiers_match_kraken() -> None:
    assert (TIERS["starter"].decay, TIERS["starter"].maximum) == (0.33, 15)
    assert (TIERS["intermediate"].decay, TIERS["intermediate"].maximum) == (0.5, 20)
    assert (TIERS["pro"].decay, TIERS["pro"].maximum) == (1.0, 20)
    assert tier_named("none") is None
    with pytest.raises(ConfigError):
        tier_named("platinum")


def test_history_calls_cost_two() -> None:
    assert call_cost("TradesHistory") == call_cost("Ledgers") == 2
    assert call_cost("Balance") == call_cost("AddOrder") == 1


def test_admit_until_ceiling_then_wait_for_decay() -> None:
    limiter = RateLimiter(TIERS["starter"], headroom=1)
    state = CounterState()
    for _ in range(14):
        state, wait = limiter.admit(state, 1, now=100.0)
        assert state is not None and wait == 0

    refused, wait = limiter.admit(state, 1, now=100.0)

    assert refused is None
    assert wait == pytest.approx(1 / 0.33)
    later, wait = limiter.admit(state, 1, now=100.0 + 1 / 0.33 + 1e-9)
    assert later is not None and wait == 0


def test_a_refusal_marks_the_counter_full() -> None:
    limiter = RateLimiter(TIERS["pro"], headroom=1)

    _, wait = limiter.admit(limiter.refused(now=10.0), 1, now=10.0)

    assert wait == pytest.approx(2.0)


def test_sequencer_waits_on_the_clock_when_the_shared_counter_is_full(tmp_path: Path) -> None:
    clock = SimClock(1000.0)
    first = NonceSequencer("k1", state_dir=tmp_path, clock=clock, limiter=RateLimiter(TIERS["pro"], headroom=0))
    second = NonceSequencer("k1", state_dir=tmp_path, clock=clock, limiter=RateLimiter(TIERS["pro"], headroom=0))
    for _ in range(20):
        with first.lease(1):
            pass

    with second.lease(1):
        pass

    assert clock.now() == pytest.approx(1001.0)
