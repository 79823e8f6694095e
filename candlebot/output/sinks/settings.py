"""What the sinks read from the environment, their defaults, whether a sink is on, and where DogStatsD listens.

Kept free of dataclasses and heavy imports: the CLI's help text and its
"is any sink on?" check import this module in every run, sinks on or off.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8125
DEFAULT_SLACK_API = "https://slack.com/api/"

AGENT_HOST_ENV = "DD_AGENT_HOST"
AGENT_PORT_ENV = "DD_DOGSTATSD_PORT"
TOKEN_ENV = "SLACK_BOT_TOKEN"
WEBHOOK_ENV = "SLACK_WEBHOOK_URL"
# values redacted from anything the sinks log or send, when present in the environment
SECRET_ENVS = (TOKEN_ENV, WEBHOOK_ENV, "KRAKEN_API_KEY", "KRAKEN_API_SECRET", "DD_API_KEY", "DD_APP_KEY")

CLOSE_TIMEOUT_S = 3.0  # what flushing the sinks may add to a process's exit


class StatsdAddress(NamedTuple):
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def statsd_on(args: argparse.Namespace, default: bool) -> bool:
    """``--statsd``/``--no-statsd`` when given; else on when a host or port flag is, else ``default``."""
    flag = getattr(args, "statsd", None)
    if flag is not None:
        return bool(flag)
    return default or getattr(args, "statsd_host", None) is not None or getattr(args, "statsd_port", None) is not None


def slack_on(args: argparse.Namespace, default: bool) -> bool:
    """``--slack``/``--no-slack`` when given; else on when a channel or base URL flag is, else ``default``."""
    flag = getattr(args, "slack", None)
    if flag is not None:
        return bool(flag)
    return default or getattr(args, "slack_channel", None) is not None or getattr(args, "slack_base_url", None) is not None
