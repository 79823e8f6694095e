"""The Kraken simulator as a process (``candlebot-kraken-sim``): what its command line is checked against and
the simulator it starts. The CLI (``candlebot.cli.kraken_sim``) reaches the adapter package only through here."""

from __future__ import annotations

from candlebot.exchanges.kraken_sim.config import FEE_DEFAULTS, SimConfig
from candlebot.exchanges.kraken_sim.faults import Faults, parse_spec
from candlebot.exchanges.kraken_sim.ratelimit import TIERS
from candlebot.exchanges.kraken_sim.simulator import KrakenSimulator
from candlebot.exchanges.kraken_sim.wsfaults import is_ws_kind, parse_ws_spec
from candlebot.exchanges.kraken_sim.wsserver import ws_pair_names

__all__ = ["FEE_DEFAULTS", "TIERS", "Faults", "KrakenSimulator", "SimConfig", "build_simulator", "is_ws_kind",
           "parse_spec", "parse_ws_spec", "ws_pair_names"]


def build_simulator(config: SimConfig) -> KrakenSimulator:
    """A simulator for ``config``, not started yet (``start()``, then ``serve_websocket`` for the book channel)."""
    return KrakenSimulator(config)
