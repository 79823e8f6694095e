"""A bot never trusts a state file blindly and never looks alive while it cannot record its orders.

Real bot processes against the simulator; the issue's reproductions: a zero-length file that silently
started new books, a corrupt page, a foreign schema and NaN cash that gave a traceback or a bot raising
on every buy, and a read-only database that gave a bot "running" with exit 0.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from candlebot.identity import BotIdentity
from tests.sinks.servers import SlackServer
from tests.support.bots import FLIP, ONE_SECOND, BotRun, start_simulator
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PAPER = ("--paper", "--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--no-statsd")
WEBHOOK_PATH = "T00000000/B00000000/XXXXstatehookXXXX"


@pytest.fixture(scope="module")
def sim():
    simulator = start_simulator()
    yield simulator
    simulator.stop()


def state_file(bot: BotRun) -> Path:
    return bot.state_dir / "bots" / f"{BotIdentity.from_name(bot.name).label}.sqlite"


def first_books(bot: BotRun) -> Path:
    """A short paper run that books at least one order, as the bot's state before something goes wrong."""
    run = bot.run(*PAPER, "--stop-after", "3")
    assert run.returncode == 0, run.stderr
    store = bot.store()
    assert store.orders(), "the first run should have traded"
    store.close()
    return state_file(bot)


def corrupt_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    # the same junk every run: fresh random bytes made the file unreadable instead of corrupt about 1 run in 20
    data[4096 + 8:4096 + 400] = random.Random(0).randbytes(392)
    path.write_bytes(bytes(data))


def nan_cash(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = 'NaN' WHERE key = 'cash'")
    db.commit()
    db.close()


def foreign(path: Path) -> None:
    path.unlink()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    db.commit()
    db.close()


def traded(path: Path) -> bool:
    """Whether the running bot has journaled an order (read without writing to its file)."""
    if not path.exists():
        return False
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM orders").fetchone()[0] > 0
    except sqlite3.OperationalError:
        return False
    finally:
        db.close()


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Files nobody may write to, not even this (root) test runner: the immutable flag (chattr +i)."""
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o444)
        undo = [lambda p=p: p.chmod(0o644) for p in paths]
    else:
        done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make files immutable here: {done.stderr.strip()}")
        undo = [lambda: subprocess.run(["chattr", "-i", *map(str, paths)], check=True)]
    try:
        yield
    finally:
        for step in undo:
            step()


@pytest.mark.parametrize("spoil, message", [
    (lambda path: path.write_bytes(b""), "is empty (0 bytes)"),
    (corrupt_page, "is corrupt"),
    (foreign, "does not have candlebot's schema"),
    (nan_cash, "holds impossible books: cash is NaN"),
])
def test_a_bot_refuses_a_state_file_it_cannot_trust(sim, tmp_path: Path, spoil, message: str) -> None:
    bot = BotRun(tmp_path, sim.url)
    path = first_books(bot)
    spoil(path)
    before = path.read_bytes()

    run = bot.run(*PAPER, "--stop-after", "5")

    assert run.returncode == 2, run.stdout[-2000:] + run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(f"candlebot: error: state file {path} ") and message in run.stderr
    assert path.read_bytes() == before, "no new books over the old file"
    ledger = subprocess.run([sys.executable, "-m", "candlebot.cli.ledger", "--state-dir", str(bot.state_dir), "--name", bot.name],
                            capture_output=True, text=True, timeout=30)
    assert ledger.returncode == 2 and ledger.stderr.count("\n") == 1 and message in ledger.stderr


def test_a_read_only_state_file_stops_the_bot_at_start(sim, tmp_path: Path) -> None:
    bot = BotRun(tmp_path, sim.url)
    path = first_books(bot)
    with read_only(path):
        run = bot.run(*PAPER, "--stop-after", "5")
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr
    assert run.stderr.count("\n") == 1 and "cannot be written" in run.stderr and "strategy error" not in run.stdout


@pytest.mark.slow
def test_a_state_file_that_stops_taking_writes_stops_the_bot_with_an_alert(sim, tmp_path: Path, monkeypatch) -> None:
    slack = SlackServer()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.webhook_url(WEBHOOK_PATH))
    bot = BotRun(tmp_path, sim.url)
    process = bot.start(*PAPER)
    try:
        path = state_file(bot)
        # trading, so its journal is open and in use
        wait_until(lambda: traded(path) or process.poll() is not None, "the bot to trade")
        assert process.poll() is None, "the bot never traded"
        journal = [path, path.with_name(path.name + "-wal")]  # not -shm: it is mapped in memory
        with read_only(*journal):
            try:
                _, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail("a bot that cannot write its state must stop, not look alive")
        assert process.returncode == 2, err
        assert err.count("\n") == 1 and err.startswith(f"candlebot: error: cannot write state file {path}")
        lines = bot.logs().strip().splitlines()
        assert ":CRITICAL: stopped: cannot write state file" in lines[-1] and "no order is sent" in lines[-1]
        assert "strategy error" not in bot.logs()
        assert slack.wait_for(1, timeout=10)
        alerts = "\n".join(request.text() for request in slack.requests)
        assert "state error: cannot write state file" in alerts
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        slack.close()
