"""The Kraken simulator on loopback, and adapters pointed at it."""

from __future__ import annotations

import base64
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from candlebot.clock import Clock
from candlebot.exchanges.kraken.client import RetryPolicy
from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.assembly.venues import kraken_venue
from tests.support.bots import stopped_at_teardown

KEY = "candlebot-test-key-0001"
SECRET = base64.b64encode(os.urandom(64)).decode()

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, rate_limit_delay=0.5)


def fast_config(url: str, **overrides: object) -> KrakenConfig:
    """Short timeouts and lookup windows so that fault tests run in seconds."""
    settings: dict[str, object] = dict(url=url, timeout=1.0, connect_timeout=1.0, tier="none", retry=FAST_RETRY,
                                       lookup_window=0.3, lookup_interval=0.05, fill_timeout=5.0,
                                       fill_poll_interval=0.01, max_sends=5)
    settings.update(overrides)
    return KrakenConfig(**settings)  # type: ignore[arg-type]


def start_sim(tier: str = "none", clock: Clock | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    """The simulator with the test key, on ``clock`` (shared with the adapters under test) or the live one."""
    from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig

    settings: dict[str, object] = dict(api_keys={KEY: SECRET},
                                       balances={"ZUSD": Decimal("100000"), "XXBT": Decimal("10")},
                                       pair="XBTUSD", data=None, speed=1.0, seed=1, tier=tier)
    settings.update(overrides)
    sim = KrakenSimulator(SimConfig(**settings), clock=clock)
    sim.start()
    return sim


def adapter_on(url: str, state_dir: Path, clock: Clock | None = None, **overrides: object) -> KrakenExchange:
    """The adapter on the test key, made by the venue factory with ``fast_config(url, **overrides)``."""
    return kraken_venue(fast_config(url, **overrides), credentials=KrakenCredentials(KEY, SECRET), clock=clock,
                        state_dir=state_dir)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Any]]:
    """Start simulators as ``start_sim`` does (tier, clock, SimConfig fields); each is stopped at teardown."""
    yield from stopped_at_teardown(start_sim)


@pytest.fixture
def sim(make_sim: Callable[..., Any]) -> Any:
    return make_sim()


@pytest.fixture
def starter_sim(make_sim: Callable[..., Any]) -> Any:
    """A starter-tier simulator (REST counter 15, regaining 0.33 a second) on the live clock; a module whose adapters
    share a simulated clock with it overrides this fixture with ``make_sim("starter", clock, ...)``."""
    return make_sim("starter")


@pytest.fixture
def credentials() -> KrakenCredentials:
    return KrakenCredentials(KEY, SECRET)


@pytest.fixture
def make_exchange(sim: object, tmp_path: Path, credentials: KrakenCredentials
                  ) -> Iterator[Callable[..., KrakenExchange]]:
    made: list[KrakenExchange] = []

    def make(clock: object | None = None, **overrides: object) -> KrakenExchange:
        exchange = kraken_venue(fast_config(sim.url, **overrides), credentials=credentials,  # type: ignore[attr-defined]
                                  clock=clock, state_dir=tmp_path)  # type: ignore[arg-type]
        made.append(exchange)
        return exchange

    yield make
    for exchange in made:
        exchange.close()
