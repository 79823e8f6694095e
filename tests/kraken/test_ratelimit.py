"""The client-side rate counter model, on a simulated clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from candlebot.clock import SimClock
from candlebot.errors import ConfigError
from candlebot.exchanges.kraken.nonce import NonceSequencer
from candlebot.exchanges.kraken.ratelimit import (TIERS, TRADING_TIERS, CounterState, RateLimiter, call_cost, tier_named,
                                                  trading_cost, trading_tier_named)
from candlebot.exchanges.kraken.tradecounter import TradingCounter


def test_tiers_match_kraken() -> None:
    assert (TIERS["starter"].decay, TIERS["starter"].maximum) == (0.33, 15)
    assert (TIERS["intermediate"].decay, TIERS["intermediate"].maximum) == (0.5, 20)
    assert (TIERS["pro"].decay, TIERS["pro"].maximum) == (1.0, 20)
    assert tier_named("none") is None
    with pytest.raises(ConfigError):
        tier_named("platinum")


def test_history_calls_cost_two() -> None:
    assert call_cost("TradesHistory") == call_cost("Ledgers") == 2
    assert call_cost("Balance") == call_cost("QueryOrders") == 1


def test_orders_are_not_on_the_rest_counter_but_on_the_trading_counter() -> None:
    assert call_cost("AddOrder") == call_cost("CancelOrder") == 0
    assert trading_cost("AddOrder") == 1
    assert trading_cost("CancelOrder") == 8  # the client cannot know the order's age: the largest penalty
    assert trading_cost("QueryOrders") == 0


def test_trading_tiers_match_kraken() -> None:
    assert (TRADING_TIERS["starter"].decay, TRADING_TIERS["starter"].maximum) == (1.0, 60)
    assert (TRADING_TIERS["intermediate"].decay, TRADING_TIERS["intermediate"].maximum) == (2.34, 125)
    assert (TRADING_TIERS["pro"].decay, TRADING_TIERS["pro"].maximum) == (3.75, 180)
    assert trading_tier_named("none") is None


def test_a_cost_free_call_is_admitted_even_by_a_full_counter() -> None:
    limiter = RateLimiter(TIERS["starter"])

    state, wait = limiter.admit(limiter.refused(now=5.0), 0, now=5.0)

    assert state is not None and wait == 0


def test_a_counter_stored_ahead_of_the_clock_decays_from_now() -> None:
    limiter = RateLimiter(TIERS["pro"])  # e.g. a file written before a reboot reset the monotonic clock

    assert limiter.level_at(CounterState(10.0, at=1e9), now=100.0) == 10.0


def test_trading_counter_is_shared_per_pair_and_waits_on_the_clock(tmp_path: Path) -> None:
    clock = SimClock(50.0)
    tier = TRADING_TIERS["starter"]
    first = TradingCounter(tmp_path, "k1", clock=clock, limiter=RateLimiter(tier, headroom=0))
    second = TradingCounter(tmp_path, "k1", clock=clock, limiter=RateLimiter(tier, headroom=0))
    for _ in range(60):
        first.take("XBTUSD", 1)
    second.take("ETHUSD", 1)  # another pair: its own counter
    assert clock.now() == 50.0

    second.take("XBTUSD", 1)

    assert clock.now() == pytest.approx(51.0)


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


def test_an_order_never_waits_longer_than_allowed_for_the_trading_counter(tmp_path: Path) -> None:
    from candlebot.exchanges.kraken.tradecounter import TradingDeferred

    clock = SimClock(50.0)
    counter = TradingCounter(tmp_path, "k1", clock=clock, limiter=RateLimiter(TRADING_TIERS["starter"], headroom=0))
    for _ in range(60):
        counter.take("XBTUSD", 1, max_wait=1.0)
    counter.take("XBTUSD", 1, max_wait=1.0)  # one second of decay: allowed
    assert clock.now() == pytest.approx(51.0)

    with pytest.raises(TradingDeferred) as deferred:
        counter.take("XBTUSD", 3, max_wait=1.0)  # would wait 3 s

    assert deferred.value.wait == pytest.approx(3.0) and clock.now() == pytest.approx(51.0)
    assert counter.level("XBTUSD") == pytest.approx(60.0)  # nothing counted
