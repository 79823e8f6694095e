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
runtime may turn them on. Nothing below looks at the mode.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlsplit

from candlebot.errors import ConfigError
from candlebot.events import EventBus
from candlebot.sinks.address import DEFAULT_HOST, DEFAULT_PORT, StatsdAddress
from candlebot.sinks.secret import Redactor, Secret
from candlebot.sinks.tags import SinkTags

if TYPE_CHECKING:
    from candlebot.sinks.queued import QueuedSink
    from candlebot.sinks.slack_post import SlackPoster

__all__ = ["SinkTags", "SinkConfig", "SlackConfig", "SinkCloser", "add_sink_arguments", "build_sinks", "sink_config", "start_sinks"]

log = logging.getLogger(__name__)

TOKEN_ENV = "SLACK_BOT_TOKEN"
WEBHOOK_ENV = "SLACK_WEBHOOK_URL"
AGENT_HOST_ENV = "DD_AGENT_HOST"
AGENT_PORT_ENV = "DD_DOGSTATSD_PORT"
# values redacted from anything the sinks log or send, when present in the environment
SECRET_ENVS = (TOKEN_ENV, WEBHOOK_ENV, "KRAKEN_API_KEY", "KRAKEN_API_SECRET", "DD_API_KEY", "DD_APP_KEY")
CLOSE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class SlackConfig:
    """Either ``channel`` + ``token`` (Web API, optionally at ``base_url``) or ``webhook``."""

    channel: str | None = None
    token: Secret | None = None
    base_url: str | None = None
    webhook: Secret | None = None

    def poster(self, redact: Redactor) -> SlackPoster:
        from candlebot.sinks.slack_post import WebApiPoster, WebhookPoster

        if self.webhook is not None:
            return WebhookPoster(self.webhook, redact=redact)
        assert self.token is not None and self.channel is not None
        return WebApiPoster(self.token, self.channel, base_url=self.base_url, redact=redact)


@dataclass(frozen=True)
class SinkConfig:
    statsd: StatsdAddress | None
    slack: SlackConfig | None
    redact: Redactor


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
                       help="Slack Web API base URL for --slack-channel (default https://slack.com/api/)")


def build_sinks(
    args: argparse.Namespace,
    bus: EventBus,
    tags: SinkTags,
    *,
    statsd_default: bool = False,
    slack_default: bool = False,
    env: Mapping[str, str] | None = None,
) -> SinkCloser:
    """Subscribe the sinks the flags ask for; returns a function that flushes and stops them.

    ``statsd_default`` / ``slack_default`` say whether a sink is on when its flag is absent.
    Bad values raise ConfigError before anything starts.
    """
    config = sink_config(args, os.environ if env is None else env, statsd_default=statsd_default, slack_default=slack_default)
    return start_sinks(config, bus, tags)


def sink_config(args: argparse.Namespace, env: Mapping[str, str], *, statsd_default: bool = False,
                slack_default: bool = False) -> SinkConfig:
    redact = Redactor(Secret(env[name]) for name in SECRET_ENVS if env.get(name))
    return SinkConfig(
        statsd=_statsd_address(args, env, statsd_default),
        slack=_slack_config(args, env, slack_default),
        redact=redact,
    )


def start_sinks(config: SinkConfig, bus: EventBus, tags: SinkTags) -> SinkCloser:
    """Start a worker per configured sink and subscribe it (sink modules load only here, when needed)."""
    if config.statsd is None and config.slack is None:
        return SinkCloser(None, [])
    from candlebot.sinks.queued import QueuedSink

    statsd_queue: QueuedSink | None = None
    on_drops = None
    others: list[QueuedSink] = []
    if config.statsd is not None:
        from candlebot.sinks.statsd import StatsdSink, statsd_client

        statsd = StatsdSink(statsd_client(config.statsd, tags.statsd_tags()))
        on_drops = statsd.note_drops
        statsd_queue = QueuedSink(statsd, on_drops=on_drops)
        bus.subscribe(statsd_queue)  # every event type
        log.info("metrics: DogStatsD at %s, tags %s", config.statsd, ",".join(tags.statsd_tags()))
    if config.slack is not None:
        from candlebot.sinks.slack import EVENT_TYPES as SLACK_EVENT_TYPES
        from candlebot.sinks.slack import SlackSink

        poster = config.slack.poster(config.redact)
        queue = QueuedSink(SlackSink(poster, tags, redact=config.redact), capacity=2_000, on_drops=on_drops)
        bus.subscribe(queue, *SLACK_EVENT_TYPES)
        others.append(queue)
        log.info("alerts: %s", poster.description)
    return SinkCloser(statsd_queue, others)


class SinkCloser:
    """Flushes and stops the sinks, at most ``timeout`` seconds (plus one for StatsD); safe to call twice."""

    def __init__(self, statsd: QueuedSink | None, others: list[QueuedSink], timeout: float = CLOSE_TIMEOUT_S) -> None:
        self.statsd = statsd
        self.others = others
        self.timeout = timeout
        self._closed = False

    @property
    def queues(self) -> list[QueuedSink]:
        return [*self.others, *([self.statsd] if self.statsd is not None else [])]

    def __call__(self) -> None:
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + self.timeout
        for queue in self.others:  # first, so that their last drop counts still reach StatsD
            queue.begin_close(deadline)
        for queue in self.others:
            queue.join(deadline)
        if self.statsd is not None:
            self.statsd.close(1.0)

    def __repr__(self) -> str:
        return f"SinkCloser({', '.join(q.name for q in self.queues) or 'no sinks'})"


# -- flags -> config ---------------------------------------------------------------------


def _statsd_address(args: argparse.Namespace, env: Mapping[str, str], default: bool) -> StatsdAddress | None:
    host_flag, port_flag = getattr(args, "statsd_host", None), getattr(args, "statsd_port", None)
    enabled = getattr(args, "statsd", None)
    if enabled is None:
        enabled = default or host_flag is not None or port_flag is not None
    if not enabled:
        return None
    if host_flag is not None:
        host = _host(host_flag, "--statsd-host")
    elif env.get(AGENT_HOST_ENV):
        host = _host(env[AGENT_HOST_ENV], AGENT_HOST_ENV)
    else:
        host = DEFAULT_HOST
    if port_flag is not None:
        port = _port(port_flag, "--statsd-port")
    elif env.get(AGENT_PORT_ENV):
        port = _port(env[AGENT_PORT_ENV], AGENT_PORT_ENV)
    else:
        port = DEFAULT_PORT
    return StatsdAddress(host, port)


def _host(text: str, source: str) -> str:
    host = text.strip()
    if not host or any(c.isspace() or c in "/@?#" for c in host):
        raise ConfigError(f"{source}: {text!r} is not a host name or address")
    return host


def _port(text: str, source: str) -> int:
    try:
        port = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{source}: {text!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"{source}: {port} is not a port number (1-65535)")
    return port


def _slack_config(args: argparse.Namespace, env: Mapping[str, str], default: bool) -> SlackConfig | None:
    channel, base_url = getattr(args, "slack_channel", None), getattr(args, "slack_base_url", None)
    explicit = getattr(args, "slack", None)
    enabled = explicit if explicit is not None else (default or channel is not None or base_url is not None)
    if not enabled:
        return None
    token, webhook = env.get(TOKEN_ENV, "").strip(), env.get(WEBHOOK_ENV, "").strip()
    if channel is not None:
        channel = channel.strip()
        if not channel:
            raise ConfigError("--slack-channel is empty")
        if not token:
            raise ConfigError(f"--slack-channel needs a bot token in {TOKEN_ENV}")
        return SlackConfig(channel=channel, token=Secret(token), base_url=_base_url(base_url) if base_url is not None else None)
    if base_url is not None:
        raise ConfigError(f"--slack-base-url is for the Web API: add --slack-channel (a webhook posts to {WEBHOOK_ENV} itself)")
    if webhook:
        parts = urlsplit(webhook)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{WEBHOOK_ENV} is not an http(s) URL (value not shown)")
        return SlackConfig(webhook=Secret(webhook))
    if explicit or channel is not None:
        raise ConfigError(f"--slack needs {WEBHOOK_ENV}, or --slack-channel with {TOKEN_ENV}")
    if token:
        log.warning("Slack alerts off: %s is set but no --slack-channel was given", TOKEN_ENV)
    return None


def _base_url(text: str) -> str:
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"--slack-base-url: {text!r} is not an http(s) URL")
    return url if url.endswith("/") else url + "/"
