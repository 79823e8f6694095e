"""What the sinks read from the environment, their defaults, whether a sink is on, and where DogStatsD listens.

Kept free of dataclasses and heavy imports: the CLI's help text and its
"is any sink on?" check import this module in every run, sinks on or off.
"""

from __future__ import annotations

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


class SinkFlags(NamedTuple):
    """What the command line asked of the sinks, as typed (``candlebot.cli.sinks.sink_flags`` makes it; nothing
    here reads flags). None: not given. Checked, with the environment, by ``config.sink_config``."""

    statsd: bool | None = None  # --statsd / --no-statsd
    statsd_host: str | None = None
    statsd_port: str | None = None
    slack: bool | None = None  # --slack / --no-slack
    slack_channel: str | None = None
    slack_base_url: str | None = None


def statsd_on(flags: SinkFlags, default: bool) -> bool:
    """``--statsd``/``--no-statsd`` when given; else on when a host or port flag is, else ``default``."""
    if flags.statsd is not None:
        return flags.statsd
    return default or flags.statsd_host is not None or flags.statsd_port is not None


def slack_on(flags: SinkFlags, default: bool) -> bool:
    """``--slack``/``--no-slack`` when given; else on when a channel or base URL flag is, else ``default``."""
    if flags.slack is not None:
        return flags.slack
    return default or flags.slack_channel is not None or flags.slack_base_url is not None
