"""The Kraken simulator the runtime tests' bots run against (tests/support/bots.py starts it)."""

from __future__ import annotations

from typing import Iterator

import pytest

from candlebot.exchanges.kraken_sim import KrakenSimulator
from tests.support.bots import start_simulator


@pytest.fixture
def sim() -> Iterator[KrakenSimulator]:
    """A simulator on loopback with the test key and 10,000 USD, stopped at teardown; a module that shares one
    between its tests overrides this fixture."""
    simulator = start_simulator()
    try:
        yield simulator
    finally:
        simulator.stop()
