"""The reconnect policy: a short, jittered wait once the exchange is back, and never more attempts than Kraken allows.

Found by a new user: after about 5 s of refused connections the back-off picked a 25.6 s wait, so the book stayed
unverified long after the exchange was back. Kraken's only connection rule is Cloudflare's ban of an address that
(re)connects about 150 times in a rolling 10 minutes: the budget keeps the process below it."""

from __future__ import annotations

import random

import pytest

from candlebot.collector.connection import Backoff, ConnectBudget
from candlebot.collector.tuning import CONNECT_ATTEMPTS, CONNECT_WINDOW_S, RECONNECT_CAP_S


def test_the_reconnect_wait_never_exceeds_a_few_seconds_however_long_the_outage() -> None:
    backoff = Backoff(rng=random.Random(20261207))
    waits = [backoff.next() for _ in range(2_000)]  # a long outage: the exponent is far past the cap
    backoff.failures += 2  # "Exceeded msg rate" backs off harder, still within the cap
    waits.append(backoff.next())
    assert RECONNECT_CAP_S <= 5.0
    assert max(waits) <= RECONNECT_CAP_S
    assert min(waits) >= backoff.base / 2
    assert max(waits) > RECONNECT_CAP_S * 0.9  # full jitter still spreads up to the cap (many collectors, one exchange)


def test_the_first_waits_are_short_and_grow() -> None:
    backoff = Backoff(rng=random.Random(1))
    first = [backoff.next() for _ in range(3)]
    assert first[0] <= backoff.base and first[1] <= 2 * backoff.base and first[2] <= 4 * backoff.base


class _Clock:
    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now


def test_the_connection_budget_stays_below_krakens_limit_over_any_10_minutes() -> None:
    clock = _Clock()
    budget = ConnectBudget(clock=clock)
    rng = random.Random(7)
    attempts: list[float] = []
    backoffs = [Backoff(rng=rng) for _ in range(3)]  # three connections (45 pairs) in one long outage
    while clock.now < 5_000.0 + 3 * CONNECT_WINDOW_S:
        for backoff in backoffs:
            wait = budget.wait_s()
            if wait > 0:
                clock.now += wait
                continue
            budget.spend()
            attempts.append(clock.now)
            clock.now += backoff.next() / len(backoffs)
    assert CONNECT_ATTEMPTS < 150
    busiest = max(sum(1 for t in attempts if start <= t < start + CONNECT_WINDOW_S) for start in attempts)
    assert busiest == CONNECT_ATTEMPTS


def test_the_budget_waits_only_as_long_as_the_oldest_attempt_needs_to_leave_the_window() -> None:
    clock = _Clock()
    budget = ConnectBudget(attempts=2, window_s=10.0, clock=clock)
    budget.spend()
    clock.now += 4
    budget.spend()
    assert budget.wait_s() == 6.0
    clock.now += 6
    assert budget.wait_s() == 0.0


@pytest.mark.integration
def test_connections_wait_on_their_shared_budget_instead_of_connecting_again(caplog):
    """The budget is wired in: two connections refused at a closed port spend one shared budget of 3 attempts, then
    wait on it (with a warning) rather than connect a fourth time (review: only the parts were tested)."""
    import asyncio
    import logging
    import socket

    from candlebot.collector.connection import Connection

    with socket.socket() as free:  # a port nothing listens on: every attempt is refused at once
        free.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{free.getsockname()[1]}/v2"
    budget = ConnectBudget(attempts=3, window_s=3600.0)
    connections = [Connection(url, [], 10, backoff=Backoff(0.001, 0.002), budget=budget, name=f"ws{n}") for n in range(2)]

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(c.run(stop)) for c in connections]
        deadline = asyncio.get_running_loop().time() + 30  # generous: on a quiet machine this takes milliseconds
        while sum("connection attempts in 3600 s" in r.getMessage() for r in caplog.records) < 2:  # both wait
            if asyncio.get_running_loop().time() > deadline:
                stop.set()
                break
            await asyncio.sleep(0.01)  # the polling interval, not a wait for an outcome
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)

    with caplog.at_level(logging.INFO, logger="candlebot.collector.connection"):
        asyncio.run(scenario())
    refused = [r for r in caplog.records if "connection to " in r.getMessage() and " failed: " in r.getMessage()]
    assert len(refused) == 3 and budget.wait_s() > 3000
