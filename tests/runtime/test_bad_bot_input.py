"""Bad input to a running bot, as a new user types it: one line on stderr and exit 2, before Kraken is even
reached; and --stop-after honoured while the bot cannot reach Kraken at all."""

from __future__ import annotations

import time

import pytest

from tests.sinks.servers import closed_port
from tests.support.bots import FLIP, ONE_SECOND, BotRun

pytestmark = pytest.mark.integration

TOKEN = "xoxb-5555555555-6666666666-PASTEDtokenPASTED"


def _unreachable(tmp_path) -> BotRun:
    return BotRun(tmp_path, f"http://127.0.0.1:{closed_port()}")


@pytest.mark.parametrize(
    "extra, env, message",
    [
        (["-p", "1e308"], {}, "candle period must be at most 525600 minutes (a year), got 1e+308"),
        (["--cash", "1e23"], {}, "--cash must be at most 1,000,000,000,000, got 1e23"),
        (["--stake", "1e23"], {}, "--stake must be at most 1,000,000,000,000, got 1e23"),
        (["--statsd-port", "99999"], {}, "--statsd-port: 99999 is not a port number (1-65535)"),
        (["--max-slippage", "abc"], {}, "--max-slippage: 'abc' is not a number"),
        (["--max-price-deviation", "0"], {},
         "--max-price-deviation must be a fraction within (0, 1) or a percent (0.5%), got 0"),
        (["--fee", "nan"], {}, "--fee: 'nan' is not a finite number"),
        (["--slack"], {"SLACK_WEBHOOK_URL": "https://hooks slack.com/services/T1/B2/PASTEDtokenPASTED"},
         "SLACK_WEBHOOK_URL is not an http(s) URL (value not shown)"),
        (["--slack-channel", "#alerts", "--slack-base-url", TOKEN], {"SLACK_BOT_TOKEN": TOKEN},
         "--slack-base-url holds a Slack token (value not shown): put the token in SLACK_BOT_TOKEN"),
    ],
)
@pytest.mark.slow
def test_bad_bot_input_fails_before_kraken_is_reached(tmp_path, extra, env, message):
    bot = _unreachable(tmp_path)
    started = time.monotonic()
    result = bot.run("--strategy", FLIP, "-p", ONE_SECOND, *extra, timeout=30, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"candlebot: error: {message}"
    assert time.monotonic() - started < 15  # no start-up retries against the unreachable Kraken first
    everything = result.stdout + result.stderr + bot.logs()
    assert "PASTEDtokenPASTED" not in everything


@pytest.mark.slow
def test_stop_after_is_honoured_while_kraken_cannot_be_reached(tmp_path):
    bot = _unreachable(tmp_path)
    started = time.monotonic()
    result = bot.run("--strategy", FLIP, "-p", ONE_SECOND, "--stop-after", "2", timeout=30)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 2 + 6, f"stopped after {elapsed:.1f} s"  # generous for a busy machine; before: never
    logs = bot.logs()
    assert "kraken AssetPairs failed" in logs and "--stop-after reached" in logs  # still retrying when time ran out
