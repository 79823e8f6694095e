"""A fleet file turned into a standalone supervisor config by candlebot fleet and run by a real supervisord."""

from __future__ import annotations

import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.bots import FLIP, ONE_SECOND, REPO

FLEET = REPO / "deploy" / "supervisor" / "generate.py"  # candlebot fleet, from the checkout


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} not installed (supervisor is a dependency of candlebot)")
    return found


def fleet_header(group: str, root: Path, state_dir: Path | None = None, *, slack_webhook: str | None = None) -> str:
    """The ``[fleet]`` table: bots run as ``python -m candlebot`` from this checkout (alerting to ``slack_webhook``)."""
    state = f'state_dir = "{state_dir}"\n' if state_dir is not None else ""
    slack = f'SLACK_WEBHOOK_URL = "{slack_webhook}", ' if slack_webhook is not None else ""
    return (f'[fleet]\ngroup = "{group}"\nroot = "{root}"\ncommand = "{sys.executable} -m candlebot"\n{state}'
            f'environment = {{ {slack}PYTHONPATH = "{REPO}" }}\n')


def flip_bot(name: str, sim_url: str, *extra_args: str, strategy: str = FLIP) -> str:
    """A ``[[bot]]`` table: ``Flip`` (or ``strategy``) on XBTUSD, one-second candles, polling every 0.2 s, 1000 USD on
    paper, on the Kraken simulator at ``sim_url`` (an order every second: a supervised bot with something to log)."""
    args = ", ".join(f'"{arg}"' for arg in ("--kraken-url", sim_url, "--kraken-tier", "none", "--cash", "1000", *extra_args))
    return f"""
[[bot]]
name = "{name}"
pair = "XBTUSD"
period = {ONE_SECOND}
poll = 0.2
strategy = "{strategy}"
extra_args = [{args}]
"""


@dataclass(frozen=True)
class Supervised:
    conf: Path
    run_dir: Path

    def ctl(self, *args: str) -> str:
        return subprocess.run([tool("supervisorctl"), "-c", str(self.conf), *args], capture_output=True, text=True,
                              timeout=30).stdout


@contextmanager
def supervised(folder: Path, fleet_text: str) -> Iterator[Supervised]:
    """Write ``fleet.toml``, generate its config (``--mkdirs --standalone``), run supervisord; shut it down after."""
    fleet, run = folder / "fleet.toml", Supervised(folder / "supervisord.conf", folder / "run")
    fleet.write_text(fleet_text)
    run.run_dir.mkdir()
    generated = subprocess.run([sys.executable, str(FLEET), str(fleet), "-o", str(run.conf), "--mkdirs", "--standalone",
                                "--run-dir", str(run.run_dir)], capture_output=True, text=True)
    assert generated.returncode == 0 and generated.stderr == "", generated.stderr
    supervisord = subprocess.Popen([tool("supervisord"), "-n", "-c", str(run.conf)], cwd=folder)
    try:
        yield run
    finally:
        run.ctl("shutdown")
        try:
            supervisord.wait(timeout=20)
        except subprocess.TimeoutExpired:
            supervisord.kill()
