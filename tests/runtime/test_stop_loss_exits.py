"""Stop-loss exits of a running bot are stored and reported as stop-loss (issue 18): in its report, in
``candlebot status`` and in its metrics. Before, its store recorded them as plain sells, so the report said
"signal 2, stop loss 0" for two stop-loss exits."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.sinks.servers import UdpCollector
from tests.support.bots import REPO, ONE_SECOND, BotRun, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _candlebot(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", *argv], cwd=REPO, capture_output=True, text=True, timeout=60)


def _closed(bot: BotRun) -> int:
    if not bot.store_path.exists():
        return 0
    try:
        store = bot.store()
    except Exception:  # noqa: BLE001 - the bot is still creating its file
        return 0
    try:
        return sum(1 for t in store.load().trades if not t.is_open)
    finally:
        store.close()


def _falling_market(folder) -> tuple:
    """Trades every 0.2 s for two hours, the price 0.1 lower each time: every close is under the last entry, so the
    stop loss closes each trade at the next candle, whatever the machine's load (a random walk may rise for minutes)."""
    path = folder / "falling.csv"
    first = 1_672_531_200
    rows = (f"{first + i / 5:.1f},{40000 - i / 10:.1f},0.01,{'buy' if i % 2 else 'sell'}" for i in range(36_000))
    path.write_text("time,price,volume,side\n" + "\n".join(rows) + "\n")
    return path, first + 600  # ten minutes of history before "now": the warm-up


def test_a_bots_stop_loss_exits_are_stop_loss_in_its_report_its_status_and_its_metrics(tmp_path):
    data, start = _falling_market(tmp_path)
    sim = start_simulator(data=data, start=start)
    collector = UdpCollector()
    try:
        bot = BotRun(tmp_path, sim.url, name="stopper")
        # Hold buys when flat and never sells: every exit is the stop's (any close under the entry price)
        process = bot.start("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "-p", ONE_SECOND,
                            "-t", "0.2", "--strategy", "tests.support.hostile:Hold", "--param", "stop_loss_pct=0.000001",
                            "--statsd-port", str(collector.port))
        try:
            def two_exits() -> bool:  # the price path decides when: wait for two exits, then stop the bot
                assert process.poll() is None, bot.logs()
                return _closed(bot) >= 2

            wait_until(two_exits, "two stop-loss exits", timeout=90, interval=0.2)
        finally:
            code, _, err = stop(process, timeout=20)
        collector.settle()
        datagrams = collector.datagrams()
    finally:
        collector.close()
        sim.stop()
    assert code == 0, err

    books = bot.store().load()
    closed = [t for t in books.trades if not t.is_open]
    assert len(closed) >= 2, bot.logs()

    html = tmp_path / "report.html"
    report = _candlebot("report", "--name", "stopper", "--state-dir", str(bot.state_dir), "-o", str(html))
    assert report.returncode == 0, report.stderr
    exits = re.search(r"<td>exits</td><td class=num>([^<]*)</td>", html.read_text()).group(1)
    assert f"signal 0, stop loss {len(closed)}" in exits, exits

    status = _candlebot("status", "--state-dir", str(bot.state_dir), "--json")
    [row] = json.loads(status.stdout)
    assert (row["signal_exits"], row["stop_loss_exits"]) == (0, len(closed))
    table = _candlebot("status", "--state-dir", str(bot.state_dir))
    assert f"{len(closed)} stop loss" in table.stdout and "signal" not in table.stdout.splitlines()[1]

    sent = [d for d in datagrams if d.name == "candlebot.trades.closed"]
    assert sum(d.value for d in sent if d.tag("exit") == "stop_loss") == len(closed)
    assert not [d for d in sent if d.tag("exit") != "stop_loss"]
    assert {t.trade_id for t in closed} == set(books.stop_loss_ids)  # stored as stop-loss, every one
