"""Secrets never leave through a datagram, a Slack body or header (but Authorization), stdout, stderr, a log line or a repr."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from candlebot.cli.args import build_parser
from candlebot.cli.sinks import build_sinks, sink_flags
from candlebot.output.sinks.config import sink_config
from candlebot.errors import ConfigError
from candlebot.events import BotError, EventBus, OrderFailed
from candlebot.venue import Side
from candlebot.output.sinks.secret import Redactor, Secret
from candlebot.output.sinks.slack import SlackSink
from candlebot.output.sinks.slack_messages import SlackMessage
from candlebot.output.sinks.slack_post import WebApiPoster, WebhookPoster
from candlebot.output.sinks.tags import SinkTags
from tests.sinks.events import T0
from tests.sinks.servers import SlackBehaviour, SlackServer, UdpCollector, closed_port, demo_args, run_backtest

KRAKEN_KEY = "kraken-key-AAAABBBBCCCCDDDDEEEE"
KRAKEN_SECRET = "a3Jha2VuLXNlY3JldC1zaG91bGQtbmV2ZXItbGVhaw=="
TOKEN = "xoxb-2222222222-3333333333-SECRETtokenSECRET"
HOOK_PATH = "T11111111/B22222222/hookSECRETpathSECRET"
TAGS = SinkTags("kraken-sma-1", "XBTUSD", "sma_cross", "live")


def secrets_in(text: str, *secrets: str) -> list[str]:
    return [secret for secret in secrets if secret in text]


@pytest.mark.integration
@pytest.mark.parametrize("transport", ["web", "webhook", "webhook-dead"])
@pytest.mark.parametrize("mode", ["ok", "500"])
@pytest.mark.slow
def test_no_secret_leaves_the_process(transport: str, mode: str, tmp_path: Path) -> None:
    # Arrange: every secret in the environment, metrics on, Slack on and (in "500") failing
    server = SlackServer(SlackBehaviour(mode=mode))
    collector = UdpCollector()
    port = closed_port() if transport == "webhook-dead" else server.port
    hook = f"http://127.0.0.1:{port}/services/{HOOK_PATH}"
    env = {"KRAKEN_API_KEY": KRAKEN_KEY, "KRAKEN_API_SECRET": KRAKEN_SECRET, "SLACK_BOT_TOKEN": TOKEN, "SLACK_WEBHOOK_URL": hook}
    slack_flags = ["--slack-channel", "#alerts", "--slack-base-url", server.base_url] if transport == "web" else ["--slack"]
    # Act
    run = run_backtest(demo_args("--statsd-port", str(collector.port), *slack_flags), tmp_path, env=env)
    collector.settle()
    server.close()
    collector.close()
    # Assert
    assert run.returncode == 0, run.stderr
    if transport != "webhook-dead":
        assert server.requests, "Slack was not reached: this test would prove nothing"
    if mode == "500" or transport == "webhook-dead":
        assert "slack: " in run.stderr  # failures were logged: and those lines are checked below
    assert collector.lines(), "no datagram: this test would prove nothing"
    captured = [run.stdout, run.stderr, run.trades_csv, *collector.lines()]
    for request in server.requests:
        captured.append(request.body.decode())
        captured.extend(f"{key}: {value}" for key, value in request.headers.items() if key != "Authorization")
    everything = "\n".join(captured)
    assert secrets_in(everything, KRAKEN_KEY, KRAKEN_SECRET, TOKEN, HOOK_PATH, hook) == []


@pytest.mark.integration
@pytest.mark.slow
def test_secrets_stay_out_of_reprs_errors_and_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    hook = f"http://127.0.0.1:{closed_port()}/services/{HOOK_PATH}"
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_WEBHOOK_URL": hook, "KRAKEN_API_KEY": KRAKEN_KEY}
    with caplog.at_level(logging.DEBUG):
        web = sink_config(sink_flags(build_parser().parse_args(["--strategy", "sma_cross", "--slack-channel", "#a"])), env)
        hooked = sink_config(sink_flags(build_parser().parse_args(["--strategy", "sma_cross", "--slack"])), env)
        web_poster = WebApiPoster(Secret(TOKEN), "#a", base_url=f"http://127.0.0.1:{closed_port()}/api/")
        hook_poster = WebhookPoster(Secret(hook))
        message = SlackMessage("text", ())
        results = [web_poster.post(message), hook_poster.post(message)]
        sink = SlackSink(hook_poster, TAGS, redact=hooked.redact, max_attempts=1)
        sink.deliver([OrderFailed(T0, Side.BUY, Decimal(1), 1, "OrderRejected", f"leaked {KRAKEN_KEY}?")])
        bus = EventBus()
        closer = build_sinks(build_parser().parse_args(["--strategy", "sma_cross", "--slack"]), bus, TAGS, env=env)
        bus.emit(BotError(T0, "exchange", "down"))
        closer()
    texts = [repr(web), str(web), repr(hooked), repr(web_poster), repr(hook_poster), repr(sink), repr(closer),
             repr(Secret(TOKEN)), str(Secret(TOKEN)), f"{Secret(TOKEN)}", *(r.error for r in results),
             *(record.getMessage() for record in caplog.records)]
    assert all(not r.ok for r in results) and results[1].error  # the failures were real
    assert any("giving up" in record.getMessage() for record in caplog.records)
    assert secrets_in("\n".join(texts), TOKEN, HOOK_PATH, hook, KRAKEN_KEY) == []


def test_a_bad_webhook_url_is_refused_without_showing_it() -> None:
    args = build_parser().parse_args(["--strategy", "sma_cross", "--slack"])
    with pytest.raises(ConfigError) as error:
        sink_config(sink_flags(args), {"SLACK_WEBHOOK_URL": f"hooks.slack.com/services/{HOOK_PATH}"})
    assert str(error.value) == "SLACK_WEBHOOK_URL is not an http(s) URL (value not shown)"


def test_the_redactor_scrubs_values_and_url_paths() -> None:
    redact = Redactor([Secret(TOKEN), f"https://hooks.slack.com/services/{HOOK_PATH}", None, "abc"])
    assert redact(f"token={TOKEN} url=https://hooks.slack.com/services/{HOOK_PATH}") == "token=*** url=***"
    assert redact(f"POST /services/{HOOK_PATH} failed") == "POST *** failed"
    assert redact("abc stays: too short to be a secret") == "abc stays: too short to be a secret"


def test_config_errors_name_the_problem_in_one_line() -> None:
    def config(argv: list[str], env: dict[str, str]) -> None:
        sink_config(sink_flags(build_parser().parse_args(["--strategy", "sma_cross", *argv])), env)

    cases = [
        (["--slack-channel", "#a"], {}, "--slack-channel needs a bot token in SLACK_BOT_TOKEN"),
        (["--slack"], {}, "--slack needs SLACK_WEBHOOK_URL, or --slack-channel with SLACK_BOT_TOKEN"),
        (["--slack-channel", "#a", "--slack-base-url", "localhost:9"], {"SLACK_BOT_TOKEN": TOKEN},
         "--slack-base-url is not an http(s) URL (value not shown: it may hold a secret)"),
        (["--slack-base-url", "http://127.0.0.1:9/api/"], {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/x/y/z"},
         "--slack-base-url is for the Web API: add --slack-channel (a webhook posts to SLACK_WEBHOOK_URL itself)"),
        (["--statsd-port", "0"], {}, "--statsd-port: 0 is not a port number (1-65535)"),
        (["--statsd"], {"DD_AGENT_HOST": "a/b"}, "DD_AGENT_HOST: 'a/b' is not a host name or address"),
    ]
    for argv, env, message in cases:
        with pytest.raises(ConfigError) as error:
            config(argv, env)
        assert str(error.value) == message
        assert "\n" not in str(error.value)


def test_defaults_come_from_the_caller_not_the_mode() -> None:
    args = build_parser().parse_args(["--strategy", "sma_cross"])
    env = {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/a/b/c", "DD_DOGSTATSD_PORT": "9125"}
    off = sink_config(sink_flags(args), env)
    on = sink_config(sink_flags(args), env, statsd_default=True, slack_default=True)
    assert off.statsd is None and off.slack is None
    assert on.statsd is not None and (on.statsd.host, on.statsd.port) == ("127.0.0.1", 9125)
    assert on.slack is not None and on.slack.webhook is not None
    refused = sink_config(sink_flags(build_parser().parse_args(["--strategy", "sma_cross", "--no-statsd", "--no-slack"])), env,
                          statsd_default=True, slack_default=True)
    assert refused.statsd is None and refused.slack is None
    assert sink_config(sink_flags(args), {}, slack_default=True).slack is None  # nothing configured: quietly off


@pytest.mark.integration
def test_alert_bodies_are_redacted_before_they_are_posted() -> None:
    """An error message carrying a secret (from any layer) is masked in the text and the blocks Slack receives."""
    server = SlackServer(SlackBehaviour(mode="ok"))
    try:
        redact = Redactor([Secret(KRAKEN_KEY), Secret(KRAKEN_SECRET)])
        sink = SlackSink(WebhookPoster(Secret(server.webhook_url(HOOK_PATH))), TAGS, redact=redact, max_attempts=1)
        sink.deliver([OrderFailed(T0, Side.BUY, Decimal(1), 1, "OrderRejected", f"leaked {KRAKEN_KEY} and {KRAKEN_SECRET}?")])
        sink.close(deadline=float("inf"))
        bodies = [request.body.decode() for request in server.requests]
    finally:
        server.close()
    assert len(bodies) == 1 and "leaked *** and ***?" in bodies[0]
    assert secrets_in(bodies[0], KRAKEN_KEY, KRAKEN_SECRET) == []


@pytest.mark.parametrize("webhook", [
    "https://",
    f"hooks.slack.com/services/{HOOK_PATH}",
    f"https://hooks.slack.com:99999/services/{HOOK_PATH}",
    f"https://hooks slack.com/services/{HOOK_PATH}",
    f"http://[::1/services/{HOOK_PATH}",
    f"https://hooks.slack.com/services/{HOOK_PATH}\x00",
    f"https://hooks.slack.com/services/T0\nX-Injected: 1/{HOOK_PATH}",
])
def test_malformed_webhook_urls_are_refused_in_one_line_without_showing_them(webhook: str) -> None:
    args = build_parser().parse_args(["--strategy", "sma_cross", "--slack"])
    with pytest.raises(ConfigError) as error:
        sink_config(sink_flags(args), {"SLACK_WEBHOOK_URL": webhook})
    assert str(error.value) == "SLACK_WEBHOOK_URL is not an http(s) URL (value not shown)"


def test_a_well_formed_webhook_url_with_a_stray_newline_is_accepted() -> None:
    args = build_parser().parse_args(["--strategy", "sma_cross", "--slack"])
    config = sink_config(sink_flags(args), {"SLACK_WEBHOOK_URL": f"https://hooks.slack.com/services/{HOOK_PATH}\n"})
    assert config.slack is not None and config.slack.webhook == Secret(f"https://hooks.slack.com/services/{HOOK_PATH}")


@pytest.mark.parametrize("base_url", [TOKEN, f"https://slack.com/api/{TOKEN}", "xoxp-44444444-some-other-token", f"  {TOKEN}\n"])
def test_a_token_pasted_into_the_slack_base_url_is_refused_without_showing_it(base_url: str) -> None:
    args = build_parser().parse_args(["--strategy", "sma_cross", "--slack-channel", "#alerts", "--slack-base-url", base_url])
    with pytest.raises(ConfigError) as error:
        sink_config(sink_flags(args), {"SLACK_BOT_TOKEN": TOKEN})
    message = str(error.value)
    assert message.startswith("--slack-base-url ") and "value not shown" in message and "\n" not in message
    assert secrets_in(message, TOKEN, base_url.strip(), "xoxp-44444444") == []
