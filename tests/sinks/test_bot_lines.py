"""What a person reads when a bot starts and stops: each sink's destination once, and a stop line that says why.

A bot that failed at start (a pair the simulator does not make) printed "metrics: DogStatsD at ..." twice (its
refusal alert starts sinks of its own, to the same place), and a bot stopped by a signal or --stop-after logged
"bot stopped: stopped; this run: ...".
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.support.bots import BotRun, start_simulator, stop
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _statsd_port() -> str:
    """A port nobody reads: the bot sends its UDP metrics there, as to an absent agent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as free:
        free.bind(("127.0.0.1", 0))
        return str(free.getsockname()[1])


def test_a_bot_failing_at_start_names_its_metrics_destination_once(tmp_path):
    with start_simulator(pair="XBTUSD") as sim:  # ETHUSD is in the catalog, but this simulator makes no market in it
        run = BotRun(tmp_path, sim.url)
        argv = run.argv("--strategy", "sma_cross", "--statsd-port", _statsd_port())
        argv[argv.index("-c") + 1] = "ETHUSD"
        result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    console, log = result.stdout + result.stderr, run.logs()
    assert console.count("metrics: DogStatsD at ") == 1 and log.count("metrics: DogStatsD at ") == 1, console + log
    assert "unknown asset pair" in console.lower()


def test_a_bot_stopped_on_request_says_so_in_its_stop_line(tmp_path):
    with start_simulator(pair="XBTUSD") as sim:
        run = BotRun(tmp_path, sim.url)
        process = run.start("--strategy", "sma_cross", "--no-statsd")
        try:
            wait_until(lambda: " started: " in run.logs() or process.poll() is not None, "the bot started", 90)
        finally:
            code, _, err = stop(process, timeout=60)
    assert code == 0, err
    [line] = [line for line in run.logs().splitlines() if "bot stopped" in line]
    assert "bot stopped: on request; this run: " in line and "stopped: stopped" not in line
