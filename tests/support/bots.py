"""A Kraken simulator in this process and candlebot bots as real subprocesses against it."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator, Mapping

from candlebot.identity import BotIdentity
from candlebot.live.store import BotStore
from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig
from tests.support.wait import wait_until

REPO = Path(__file__).resolve().parents[2]
KEY = "CANDLEBOT-TEST-KEY"
SECRET = base64.b64encode(bytes(range(64))).decode()
ONE_SECOND = "0.016666666666666666"  # -p in minutes for 1-second candles
FLIP = "tests.support.strategies:Flip"


def start_simulator(**overrides) -> KrakenSimulator:
    config = {"api_keys": {KEY: SECRET}, "balances": {"ZUSD": Decimal("10000")}, "tier": "none", **overrides}
    return KrakenSimulator(SimConfig(**config)).start()


def stopped_at_teardown(start: Callable[..., KrakenSimulator]) -> Iterator[Callable[..., KrakenSimulator]]:
    """For a fixture (``yield from``): a factory of simulators made by ``start``, each stopped at teardown."""
    started: list[KrakenSimulator] = []

    def make(*args: object, **overrides: object) -> KrakenSimulator:
        started.append(start(*args, **overrides))
        return started[-1]

    yield make
    for simulator in started:
        simulator.stop()


def write_key_file(folder: Path) -> Path:
    path = folder / "kraken.key"
    path.write_text(f"{KEY}\n{SECRET}\n")
    path.chmod(0o600)
    return path


@dataclass
class BotRun:
    """One bot's folders; ``start`` launches ``python -m candlebot`` with them, its adapter's rate model ``tier``."""

    folder: Path
    url: str
    name: str = "testbot"
    tier: str = "none"

    @property
    def state_dir(self) -> Path:
        return self.folder / "state"

    def argv(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "candlebot", "-x", "kraken", "-c", "XBTUSD", "--kraken-url", self.url,
                "--kraken-tier", self.tier, "--kraken-timeout", "2", "--state-dir", str(self.state_dir),
                "--log-dir", str(self.folder / "logs"), "--name", self.name, *extra]

    def start(self, *extra: str, env: Mapping[str, str] | None = None, stdout: int = subprocess.PIPE) -> subprocess.Popen:
        """The bot running, its output unbuffered, ``env`` added to the test's environment; ``stdout`` DEVNULL
        for a long run whose output nobody reads (a full pipe would stop the bot); stderr is kept for failures."""
        return subprocess.Popen(self.argv(*extra), cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                stdout=stdout, stderr=subprocess.PIPE, text=True)

    def run(self, *extra: str, timeout: float = 120, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        """The bot run to its end, ``env`` added to the test's environment."""
        return subprocess.run(self.argv(*extra), cwd=REPO, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})

    @property
    def store_path(self) -> Path:
        return self.state_dir / "bots" / f"{BotIdentity.from_name(self.name).label}.sqlite"

    def store(self) -> BotStore:
        """The bot's books, read-only; it may be running (the store reads them as one snapshot)."""
        return BotStore(self.store_path, now=time.time, writable=False)

    def logs(self) -> str:
        return "".join(p.read_text() for p in sorted((self.folder / "logs").glob("*.log")))


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}):")


def log_times(text: str) -> list[tuple[float, str]]:
    """A bot's log lines with their times (Unix seconds, from the stamp each line starts with), in order."""
    found = []
    for line in text.splitlines():
        match = _STAMP.match(line)
        if match:
            when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=timezone.utc)
            found.append((when.timestamp(), line))
    return found


def first_time(lines: list[tuple[float, str]], needle: str) -> float | None:
    """When the first line holding ``needle`` was logged, or None."""
    return next((when for when, line in lines if needle in line), None)


def executed_orders(sim: KrakenSimulator) -> int:
    """Orders the simulator executed (in part or in full), for every key."""
    return sum(Decimal(order["vol_exec"]) > 0 for order in sim.orders())


def wait_for_next_order(sim: KrakenSimulator, process: subprocess.Popen, executed_before: int, timeout: float = 90) -> None:
    """Until the simulator has executed one more order than ``executed_before``: a crash test kills a bot once it has
    got that far, however slow a loaded machine makes its start. A bot that exits instead fails the wait at once."""

    def filled() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the bot exited ({process.returncode}) before its next fill: {process.stderr.read()}")
        return executed_orders(sim) > executed_before

    wait_until(filled, "the bot's next fill on the simulator", timeout=timeout)


def stop(process: subprocess.Popen, timeout: float = 10) -> tuple[int, str, str]:
    """SIGTERM, and the bot's exit code and output; a bot still running ``timeout`` s later is killed (its code is
    then -9 and ``err`` says so): a failing test leaves no bot behind, and a list of bots is stopped whole."""
    process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        err = f"{err or ''}\n(still running {timeout:g} s after SIGTERM: killed)"
    return process.returncode, out, err
