"""Flags and wiring for the event sinks that leave the process (StatsD/Datadog, Slack).

``add_sink_arguments`` extends the command line; ``build_sinks`` subscribes the
configured sinks to a bus and returns a closer that flushes them on exit.

    --statsd / --no-statsd     metrics to DogStatsD; --statsd-host/--statsd-port imply --statsd
    --statsd-host HOST         default $DD_AGENT_HOST, else 127.0.0.1
    --statsd-port PORT         default $DD_DOGSTATSD_PORT, else 8125
    --slack / --no-slack       alerts to Slack; --slack-channel/--slack-base-url imply --slack
    --slack-channel CHANNEL    post with the bot token in $SLACK_BOT_TOKEN (chat.postMessage) ...
    --slack-base-url URL       ... to this Web API base URL (default https://slack.com/api/)
                               without --slack-channel: the incoming webhook in $SLACK_WEBHOOK_URL

Whether a sink is on when its flag is absent is the caller's decision, passed
as ``statsd_default`` / ``slack_default``: a backtest leaves both off, a bot
runtime may turn them on. Nothing here looks at the mode. With every sink off,
``build_sinks`` imports, validates and starts nothing (candlebot.output.sinks.config
and .wiring hold the rest).
"""

from __future__ import annotations

import argparse
import os
from typing import Iterable, Callable, Mapping

from candlebot.events import EventBus
from candlebot.output.sinks.settings import (
    AGENT_HOST_ENV,
    AGENT_PORT_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_SLACK_API,
    TOKEN_ENV,
    WEBHOOK_ENV,
    SinkFlags,
    slack_on,
    statsd_on,
)
from candlebot.output.sinks.tags import SinkTags

__all__ = ["SinkTags", "add_sink_arguments", "build_sinks", "check_sinks", "sink_flags"]

# the sink lines ("metrics: DogStatsD at ...") this process has logged: a bot refusing to start sends its alert
# through sinks of its own to the same places, which need not be named twice
_SAID: set[str] = set()


def add_sink_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metrics and alerts")
    group.add_argument("--statsd", action=argparse.BooleanOptionalAction, default=None,
                       help="send metrics to DogStatsD (backtests: off by default)")
    group.add_argument("--statsd-host", metavar="HOST",
                       help=f"DogStatsD host (default ${AGENT_HOST_ENV}, else {DEFAULT_HOST}); implies --statsd")
    group.add_argument("--statsd-port", metavar="PORT",
                       help=f"DogStatsD UDP port (default ${AGENT_PORT_ENV}, else {DEFAULT_PORT}); implies --statsd")
    group.add_argument("--slack", action=argparse.BooleanOptionalAction, default=None,
                       help=f"send trade alerts to Slack: ${WEBHOOK_ENV}, or --slack-channel (backtests: off by default)")
    group.add_argument("--slack-channel", metavar="CHANNEL",
                       help=f"post to this channel with the bot token in ${TOKEN_ENV}; implies --slack")
    group.add_argument("--slack-base-url", metavar="URL",
                       help=f"Slack Web API base URL for --slack-channel (default {DEFAULT_SLACK_API})")


def sink_flags(args: argparse.Namespace) -> SinkFlags:
    """The sink flags of a parsed command line (a command without them: none given)."""
    return SinkFlags(**{name: getattr(args, name, None) for name in SinkFlags._fields})


def build_sinks(
    args: argparse.Namespace,
    bus: EventBus,
    tags: SinkTags,
    *,
    statsd_default: bool = False,
    slack_default: bool = False,
    env: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> Callable[[], None]:
    """Subscribe the sinks the flags ask for; returns a function that flushes and stops them (at most ~4 s).

    ``statsd_default`` / ``slack_default`` say whether a sink is on when its flag is absent.
    Bad values raise ConfigError before anything starts.
    """
    flags = sink_flags(args)
    if not (statsd_on(flags, statsd_default) or slack_on(flags, slack_default)):
        return _no_sinks
    from candlebot.output.sinks.config import sink_config
    from candlebot.output.sinks.wiring import start_sinks

    config = sink_config(flags, os.environ if env is None else env, statsd_default=statsd_default,
                         slack_default=slack_default, secrets=secrets)
    if config.statsd is None and config.slack is None:
        return _no_sinks
    return start_sinks(config, bus, tags, _SAID)


def check_sinks(args: argparse.Namespace, *, statsd_default: bool = False, slack_default: bool = False,
                env: Mapping[str, str] | None = None) -> None:
    """Validate the sink flags and environment now (ConfigError), before a bot spends time reaching its exchange."""
    flags = sink_flags(args)
    if statsd_on(flags, statsd_default) or slack_on(flags, slack_default):
        from candlebot.output.sinks.config import sink_config

        sink_config(flags, os.environ if env is None else env, statsd_default=statsd_default, slack_default=slack_default)


def _no_sinks() -> None:
    """The closer when no sink runs."""
