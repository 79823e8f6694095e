"""Bad input to a running bot, as a new user types it: one line on stderr and exit 2, before Kraken is even
reached; and --stop-after honoured while the bot cannot reach Kraken at all."""

from __future__ import annotations

from typing import Iterator

import pytest

from candlebot.exchanges.kraken_sim import KrakenSimulator
from candlebot.exchanges.kraken_sim.faults import Faults, HttpError
from tests.sinks.servers import closed_port
from tests.support.bots import FLIP, ONE_SECOND, BotRun, first_time, log_times, start_simulator

pytestmark = pytest.mark.integration

TOKEN = "xoxb-5555555555-6666666666-PASTEDtokenPASTED"


def _unreachable(tmp_path) -> BotRun:
    return BotRun(tmp_path, f"http://127.0.0.1:{closed_port()}")


@pytest.fixture
def kraken_down() -> Iterator[KrakenSimulator]:
    """A Kraken that answers every call with a 502 page (an outage) and counts the calls it was sent."""
    sim = start_simulator(faults=Faults(http_error=HttpError(status=502)))
    try:
        yield sim
    finally:
        sim.stop()


@pytest.mark.parametrize(
    "extra, env, message",
    [
        (["-p", "1e308"], {}, "argument -p/--period: candle period must be at most 525600 minutes (a year), got 1e+308"),
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
def test_bad_bot_input_fails_before_kraken_is_reached(tmp_path, kraken_down, extra, env, message):
    bot = BotRun(tmp_path, kraken_down.url)
    result = bot.run("--strategy", FLIP, "-p", ONE_SECOND, *extra, timeout=30, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"candlebot: error: {message}"
    assert kraken_down.counters()["requests"] == 0  # not one call, so no start-up retries against the outage first
    everything = result.stdout + result.stderr + bot.logs()
    assert "PASTEDtokenPASTED" not in everything


@pytest.mark.slow
def test_stop_after_is_honoured_while_kraken_cannot_be_reached(tmp_path):
    bot = _unreachable(tmp_path)
    result = bot.run("--strategy", FLIP, "-p", ONE_SECOND, "--stop-after", "2", timeout=30)  # before: never
    assert result.returncode == 0, result.stderr
    lines = log_times(bot.logs())
    reached, stopped = first_time(lines, "--stop-after reached"), first_time(lines, "stopped while starting")
    # timed by the bot's own log, from the stop to the exit: a loaded machine's slow interpreter start is not counted
    assert reached is not None and stopped is not None and stopped - reached < 6, bot.logs()
    logs = bot.logs()
    assert "kraken AssetPairs failed" in logs and "--stop-after reached" in logs  # still retrying when time ran out
