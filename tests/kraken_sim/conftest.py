"""Fixtures for the Kraken simulator tests: a simulator on loopback, on a hand-driven clock, and plain krakenex clients."""

from __future__ import annotations

import base64
import itertools
from decimal import Decimal
from typing import Callable, Iterator

import krakenex
import pytest

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig
from tests.support.bots import stopped_at_teardown

KEY = "sim-test-key"
SECRET = base64.b64encode(bytes(range(64))).decode()
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
TIMEOUT = 5


def plain_client(url: str, key: str = KEY, secret: str = SECRET) -> krakenex.API:
    """krakenex as a user would use it; only its millisecond nonce is replaced (KRAKEN.md) by a counter."""
    api = krakenex.API(key, secret)
    api.uri = url
    counter = itertools.count(1_000_000)
    api._nonce = lambda: next(counter)  # type: ignore[method-assign]
    return api


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def make_sim(clock: SimClock) -> Iterator[Callable[..., KrakenSimulator]]:
    """Start simulators (stopped at teardown); keyword arguments override SimConfig fields."""

    def start(**overrides: object) -> KrakenSimulator:
        fields: dict[str, object] = {"api_keys": {KEY: SECRET}, "balances": {"ZUSD": Decimal("10000")},
                                     "tier": "none", "seed": 1}
        fields.update(overrides)
        return KrakenSimulator(SimConfig(**fields), clock=clock).start()  # type: ignore[arg-type]

    yield from stopped_at_teardown(start)


@pytest.fixture
def sim(make_sim: Callable[..., KrakenSimulator]) -> KrakenSimulator:
    return make_sim()


@pytest.fixture
def api(sim: KrakenSimulator) -> krakenex.API:
    return plain_client(sim.url)
