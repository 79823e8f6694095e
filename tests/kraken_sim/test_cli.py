"""The simulator as a real process: first line, requests, SIGTERM; bad flags; a fast replay of recorded data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest
import requests

from .conftest import KEY, SECRET, TIMEOUT, plain_client

REPO = Path(__file__).resolve().parents[2]


def _run(*flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "candlebot.exchanges.kraken_sim", *flags], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def _first_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    assert lines, "the simulator printed nothing"
    return lines[0]


@pytest.fixture
def running() -> Iterator[subprocess.Popen[str]]:
    started: list[subprocess.Popen[str]] = []
    yield started  # type: ignore[misc]
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.integration
@pytest.mark.slow
def test_serves_until_sigterm_then_exits_zero(running: list) -> None:
    process = _run("--port", "0", "--api-key", KEY, "--api-secret", SECRET, "--balance", "ZUSD=500",
                   "--fault", "busy:count=1:methods=Depth")
    running.append(process)

    line = _first_line(process)
    url = line.strip().removeprefix("listening on ")
    api = plain_client(url)
    balance = api.query_private("Balance", timeout=TIMEOUT)
    depth = api.query_public("Depth", {"pair": "XBTUSD"}, timeout=TIMEOUT)
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=10)

    assert line.startswith("listening on http://127.0.0.1:") and line.endswith("\n")
    assert int(url.rsplit(":", 1)[1]) > 0
    assert balance == {"error": [], "result": {"ZUSD": "500.0000"}}
    assert depth == {"error": ["EService:Busy"]}
    assert code == 0
    assert SECRET not in process.stderr.read()  # type: ignore[union-attr]


@pytest.mark.integration
@pytest.mark.slow
def test_sigint_also_stops_cleanly(running: list) -> None:
    process = _run()
    running.append(process)
    url = _first_line(process).strip().removeprefix("listening on ")
    assert requests.get(f"{url}/0/public/Time", timeout=TIMEOUT).json()["error"] == []

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=10) == 0


@pytest.mark.integration
@pytest.mark.parametrize("flags, says", [
    (["--bogus"], "unrecognized arguments"),
    (["--speed", "-2"], "--speed"),
    (["--tier", "platinum"], "--tier"),
    (["--balance", "ZUSD"], "ASSET=AMOUNT"),
    (["--fault", "gremlins:count=1"], "gremlins"),
    (["--fault", "busy:methods=Tickr"], "Tickr"),
    (["--fault", "busy:processed=maybe"], "processed"),
    (["--fault", "thin_book:fill_ratio=0"], "fill_ratio"),
    (["--fault", "late_listing:methods=QueryOrders"], "AddOrder"),
    (["--fault", "slow_fill:delay_s=-1"], "delay_s"),
    (["--default-fee-currency", "base"], "--default-fee-currency"),
    (["--data", "/nonexistent/candles.csv"], "/nonexistent/candles.csv"),
    (["--pair", "DOGEUSD"], "DOGEUSD"),
    (["--start-price", "abc"], "--start-price"),
    (["--api-key", "K"], "--api-secret"),
    (["--api-key", "K", "--api-secret", "not base64 !!"], "'K'"),
])
@pytest.mark.slow
def test_bad_input_is_one_line_on_stderr_and_exit_2(flags: list[str], says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "candlebot.exchanges.kraken_sim", *flags], cwd=REPO, text=True,
                          capture_output=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in done.stderr
    assert "not base64 !!" not in done.stderr


@pytest.mark.slow
@pytest.mark.integration
def test_fast_replay_of_recorded_candles(running: list, shared_data: Path) -> None:
    data = shared_data / "kraken" / "xbtusd_1h_2023q1.csv"
    process = _run("--data", str(data), "--speed", "3600", "--port", "0")
    running.append(process)
    url = _first_line(process).strip().removeprefix("listening on ")
    api = plain_client(url)

    first = api.query_public("Time", timeout=TIMEOUT)["result"]["unixtime"]
    candles = api.query_public("OHLC", {"pair": "XBTUSD", "interval": 60}, timeout=TIMEOUT)["result"]["XXBTZUSD"]

    assert 1672531200 <= first < 1672531200 + 3600 * 60        # an hour of data per wall second
    rows = data.read_text().splitlines()[1:len(candles)]
    assert [c[0] for c in candles[:-1]] == [int(r.split(",")[0]) for r in rows]
    assert [c[4] for c in candles[:-1]] == [f"{float(r.split(',')[4]):.1f}" for r in rows]
