"""The sink flags (``SinkFlags``) and the environment -> ``SinkConfig``: which sinks to start and how, validated before anything starts.

    StatsD   on: --statsd, or --statsd-host/--statsd-port given, or the caller's default (--no-statsd: off)
             host: --statsd-host, $DD_AGENT_HOST, 127.0.0.1    port: --statsd-port, $DD_DOGSTATSD_PORT, 8125
    Slack    on: --slack, or --slack-channel/--slack-base-url given, or the caller's default (--no-slack: off)
             --slack-channel + $SLACK_BOT_TOKEN (Web API, at --slack-base-url), else $SLACK_WEBHOOK_URL

Every mistake is a ConfigError of one line that names the flag or variable
and never shows a secret's value. A default-on sink with nothing configured
(a bot without Slack settings) is quietly off; an explicitly asked one is an
error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TYPE_CHECKING, Mapping, TypeVar
from urllib.parse import urlsplit

from candlebot.errors import ConfigError
from candlebot.output.sinks.secret import Redactor, Secret
from candlebot.output.sinks.settings import (
    AGENT_HOST_ENV,
    AGENT_PORT_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
    SECRET_ENVS,
    SinkFlags,
    TOKEN_ENV,
    WEBHOOK_ENV,
    StatsdAddress,
    slack_on,
    statsd_on,
)

if TYPE_CHECKING:
    from candlebot.output.sinks.slack_post import SlackPoster

log = logging.getLogger(__name__)
T = TypeVar("T")
_SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]{6,}")  # bot, user, app ... tokens


@dataclass(frozen=True)
class SlackConfig:
    """Either ``channel`` + ``token`` (Web API, optionally at ``base_url``) or ``webhook``."""

    channel: str | None = None
    token: Secret | None = None
    base_url: str | None = None
    webhook: Secret | None = None

    def poster(self, redact: Redactor) -> SlackPoster:
        from candlebot.output.sinks.slack_post import WebApiPoster, WebhookPoster

        if self.webhook is not None:
            return WebhookPoster(self.webhook, redact=redact)
        assert self.token is not None and self.channel is not None
        return WebApiPoster(self.token, self.channel, base_url=self.base_url, redact=redact)


@dataclass(frozen=True)
class SinkConfig:
    statsd: StatsdAddress | None
    slack: SlackConfig | None
    redact: Redactor


def sink_config(flags: SinkFlags, env: Mapping[str, str], *, statsd_default: bool = False,
                slack_default: bool = False, secrets: Iterable[str] = ()) -> SinkConfig:
    """``secrets``: values known only to the caller (a key file's key and secret) that must be masked too."""
    known = [Secret(env[name]) for name in SECRET_ENVS if env.get(name)] + [Secret(value) for value in secrets]
    return SinkConfig(
        statsd=_statsd_address(flags, env, statsd_default),
        slack=_slack_config(flags, env, slack_default),
        redact=Redactor(known),
    )


def _statsd_address(flags: SinkFlags, env: Mapping[str, str], default: bool) -> StatsdAddress | None:
    if not statsd_on(flags, default):
        return None
    return StatsdAddress(_chosen(flags.statsd_host, "--statsd-host", env, AGENT_HOST_ENV, DEFAULT_HOST, _host),
                         _chosen(flags.statsd_port, "--statsd-port", env, AGENT_PORT_ENV, DEFAULT_PORT, _port))


def _chosen(flag: Any, flag_name: str, env: Mapping[str, str], env_name: str, default: T,
            parse: Callable[[str, str], T]) -> T:
    """The flag if given, else the environment variable if set, else ``default``; parsed, errors naming the source."""
    if flag is not None:
        return parse(flag, flag_name)
    if env.get(env_name):
        return parse(env[env_name], env_name)
    return default


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


def _slack_config(flags: SinkFlags, env: Mapping[str, str], default: bool) -> SlackConfig | None:
    if not slack_on(flags, default):
        return None
    channel, base_url = flags.slack_channel, flags.slack_base_url
    explicit = flags.slack
    token, webhook = env.get(TOKEN_ENV, "").strip(), env.get(WEBHOOK_ENV, "").strip()
    if channel is not None:
        channel = channel.strip()
        if not channel:
            raise ConfigError("--slack-channel is empty")
        if not token:
            raise ConfigError(f"--slack-channel needs a bot token in {TOKEN_ENV}")
        return SlackConfig(channel=channel, token=Secret(token),
                           base_url=_base_url(base_url, token) if base_url is not None else None)
    if base_url is not None:
        raise ConfigError(f"--slack-base-url is for the Web API: add --slack-channel (a webhook posts to {WEBHOOK_ENV} itself)")
    if webhook:
        if not _is_http_url(webhook):
            raise ConfigError(f"{WEBHOOK_ENV} is not an http(s) URL (value not shown)")
        return SlackConfig(webhook=Secret(webhook))
    if explicit:
        raise ConfigError(f"--slack needs {WEBHOOK_ENV}, or --slack-channel with {TOKEN_ENV}")
    if token:
        log.warning("Slack alerts off: %s is set but no --slack-channel was given", TOKEN_ENV)
    return None


def _base_url(text: str, token: str) -> str:
    """The Web API base URL. Never echoed: a token pasted here by mistake must not reach a terminal or a log."""
    url = text.strip()
    if (token and token in url) or _SLACK_TOKEN.search(url):
        raise ConfigError(f"--slack-base-url holds a Slack token (value not shown): put the token in {TOKEN_ENV}")
    if not _is_http_url(url):
        raise ConfigError("--slack-base-url is not an http(s) URL (value not shown: it may hold a secret)")
    return url if url.endswith("/") else url + "/"


def _is_http_url(url: str) -> bool:
    """An http(s) URL with a host and a valid port, no whitespace or control characters."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError when out of range)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
