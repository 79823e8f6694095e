"""Flags and wiring for the event sinks that leave the process (StatsD/Datadog, Slack).

``add_sink_arguments`` extends the command line; ``build_sinks`` subscribes the
configured sinks to a bus and returns a closer that flushes them on exit.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

from candlebot.events import EventBus


@dataclass(frozen=True)
class SinkTags:
    """Who is reporting: becomes the ``bot``, ``pair``, ``strategy`` and ``mode`` tags."""

    bot: str
    pair: str
    strategy: str
    mode: str


def add_sink_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metrics and alerts")
    group.add_argument("--statsd", action="store_true", help="send metrics to DogStatsD (backtests: off by default)")


def build_sinks(args: argparse.Namespace, bus: EventBus, tags: SinkTags) -> Callable[[], None]:
    """Subscribe the sinks the flags ask for; returns a function that flushes and stops them."""
    return lambda: None
