"""One Slack post, through ``slack_sdk``: the Web API (bot token + channel) or an incoming webhook.

A poster never raises and never retries: it returns a ``PostResult`` (ok, or
why not and, for HTTP 429, the ``Retry-After`` seconds) and ``SlackSink``
decides what to do next. slack_sdk's own retry handlers are switched off so
that there is one retry policy, bounded and visible, and its logger is a
private one that never prints: at DEBUG it would log the webhook URL. Error
texts are built from status codes and Slack's ``error`` field only, then
passed through the ``Redactor``; the token and URL live in ``Secret``s.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from candlebot.output.sinks.secret import Redactor, Secret
from candlebot.output.sinks.slack_messages import SlackMessage

DEFAULT_TIMEOUT_S = 5.0
MAX_RETRY_AFTER_S = 3600.0
DEFAULT_RETRY_AFTER_S = 30.0

# slack_sdk gets a logger that nothing can switch on: no handlers, no parent, above CRITICAL.
_SILENT = logging.Logger("candlebot.output.sinks.slack.sdk", level=logging.CRITICAL + 1)


@dataclass(frozen=True)
class PostResult:
    ok: bool
    status: int | None = None
    error: str = ""
    retry_after: float | None = None  # seconds, when Slack answered 429


class SlackPoster(Protocol):
    description: str

    def post(self, message: SlackMessage) -> PostResult: ...


class WebApiPoster:
    """``chat.postMessage`` with a bot token (``xoxb-...``) to a channel; ``base_url`` may point at a local server."""

    def __init__(self, token: Secret, channel: str, *, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                 redact: Redactor | None = None) -> None:
        self.channel = channel
        self.description = f"Slack Web API, channel {channel}" + (f" at {base_url}" if base_url else "")
        self._redact = redact or Redactor([token])
        from slack_sdk import WebClient  # 0.1 s to import: only when alerts are on

        kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
        self._client = WebClient(token=token.reveal(), timeout=int(max(1, round(timeout))), logger=_SILENT,
                                 retry_handlers=[], **kwargs)

    def post(self, message: SlackMessage) -> PostResult:
        from slack_sdk.errors import SlackApiError

        try:
            self._client.chat_postMessage(channel=self.channel, text=message.text, blocks=list(message.blocks))
        except SlackApiError as exc:
            response = exc.response
            status = getattr(response, "status_code", None)
            data = getattr(response, "data", None)
            reason = data.get("error", "") if isinstance(data, dict) else ""
            headers = getattr(response, "headers", None) or {}
            return self._failed(status, f"HTTP {status}" + (f" {reason}" if reason else ""), headers)
        except Exception as exc:  # noqa: BLE001 - network errors of any kind: timeouts, refused, resets
            return PostResult(False, None, self._redact(f"{type(exc).__name__}: {exc}"))
        return PostResult(True, 200)

    def _failed(self, status: int | None, error: str, headers: Mapping[str, Any]) -> PostResult:
        retry_after = retry_after_s(headers) if status == 429 else None
        return PostResult(False, status, self._redact(error), retry_after)

    def __repr__(self) -> str:
        return f"WebApiPoster({self.channel!r})"


class WebhookPoster:
    """An incoming webhook: the URL is the secret (its path carries the credentials)."""

    description = "Slack incoming webhook"

    def __init__(self, url: Secret, *, timeout: float = DEFAULT_TIMEOUT_S, redact: Redactor | None = None) -> None:
        from slack_sdk.webhook import WebhookClient

        self._redact = redact or Redactor([url])
        self._client = WebhookClient(url.reveal(), timeout=int(max(1, round(timeout))), logger=_SILENT, retry_handlers=[])

    def post(self, message: SlackMessage) -> PostResult:
        try:
            response = self._client.send(text=message.text, blocks=list(message.blocks))
        except Exception as exc:  # noqa: BLE001
            return PostResult(False, None, self._redact(f"{type(exc).__name__}: {exc}"))
        status = response.status_code
        if 200 <= status < 300:
            return PostResult(True, status)
        body = response.body if isinstance(response.body, str) and len(response.body) < 200 else ""
        retry_after = retry_after_s(response.headers or {}) if status == 429 else None
        return PostResult(False, status, self._redact(f"HTTP {status}" + (f" {body}" if body else "")), retry_after)

    def __repr__(self) -> str:
        return "WebhookPoster(***)"


def retry_after_s(headers: Mapping[str, Any]) -> float:
    """``Retry-After`` as seconds (delta or HTTP date), within [0, 1 h]; 30 s when missing or unreadable."""
    value: Any = None
    for key, item in headers.items():
        if key.lower() == "retry-after":
            value = item[0] if isinstance(item, (list, tuple)) and item else item
            break
    if value is None:
        return DEFAULT_RETRY_AFTER_S
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        import email.utils  # rare: an HTTP date instead of seconds

        try:
            seconds = email.utils.parsedate_to_datetime(text).timestamp() - time.time()
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_S
    if math.isnan(seconds):
        return DEFAULT_RETRY_AFTER_S
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
