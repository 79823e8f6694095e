"""A live bot against the simulator reports to DogStatsD over a real UDP socket, and never leaks its key."""

from __future__ import annotations

import pytest

from collections import Counter

from candlebot.identity import BotIdentity
from tests.sinks.servers import UdpCollector
from tests.support.bots import FLIP, KEY, ONE_SECOND, SECRET, BotRun, start_simulator, write_key_file

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_a_running_bot_sends_its_metrics_and_no_secret(tmp_path):
    sim = start_simulator()
    collector = UdpCollector()
    try:
        bot = BotRun(tmp_path, sim.url, name="metricsbot")
        result = bot.run("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "-p", ONE_SECOND, "-t", "0.2",
                         "--strategy", FLIP, "--statsd-port", str(collector.port), "--stop-after", "5")
        assert result.returncode == 0, result.stderr
        collector.settle()
        datagrams = collector.datagrams()
    finally:
        collector.close()
        sim.stop()

    names = Counter(d.name for d in datagrams)
    for expected in ("candlebot.price", "candlebot.heartbeat", "candlebot.bot.started", "candlebot.bot.stopped",
                     "candlebot.candles.closed", "candlebot.trades.opened", "candlebot.order.latency", "candlebot.equity"):
        assert names[expected], f"{expected} never sent"
    label = BotIdentity.from_name("metricsbot").label
    assert all({f"bot:{label}", "pair:XBTUSD", "strategy:flip", "mode:live"} <= set(d.tags) for d in datagrams)
    books = bot.store().load()
    opened = sum(d.value for d in datagrams if d.name == "candlebot.trades.opened")
    closed = sum(d.value for d in datagrams if d.name == "candlebot.trades.closed")
    assert opened == len(books.trades) and closed == sum(1 for t in books.trades if not t.is_open)
    pnls = sorted(round(d.value, 5) for d in datagrams if d.name == "candlebot.trade.pnl")
    assert pnls == sorted(float(t.pnl) for t in books.trades if not t.is_open)
    everything = "\n".join(d.raw for d in datagrams) + result.stdout + result.stderr + bot.logs()
    assert SECRET not in everything and KEY not in everything
