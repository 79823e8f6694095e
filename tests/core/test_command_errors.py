"""Every command refuses in one line that names the command as typed: ``candlebot optimize: error: ...``.

Refusals raised inside a command were printed by candlebot's entry point as ``candlebot: error:`` whatever the
command; ``candlebot report``, ``status`` and ``fleet`` printed argparse's usage block before their line. Each
command runs as its own process with one bad input of its own, and once with an unknown flag."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.bots import REPO

pytestmark = pytest.mark.integration

DOWN = "http://127.0.0.1:9"  # nothing listens: a command that reached the network would fail otherwise
# command -> a bad input of its own (FOLDER: the test's empty tmp folder)
BAD_INPUT = {
    "optimize": ["--strategy", "sma_cross", "--space", "fast=5,10", "--data", "demo", "--anchored"],
    "ledger": ["--state-dir", "FOLDER", "--name", "nobody"],
    "status": ["--state-dir", "FOLDER/nope"],
    "report": ["--name", "nobody", "--state-dir", "FOLDER", "-o", "FOLDER/r.html"],
    "download": ["-c", "XBTUSD", "-p", "60", "--from", "next tuesday-ish", "--kraken-url", DOWN],
    "replay": ["--name", "nobody", "--state-dir", "FOLDER"],
    "fleet": ["FOLDER/missing.toml"],
    "collector": ["-c", "XBTUSD", "--ws-url", "http://127.0.0.1:9"],
    "kraken-sim": ["--api-key", "k"],
    "demo": ["--seconds", "0"],
    "run": ["-c", "DOGEUSD", "--strategy", "sma_cross", "--kraken-url", DOWN, "--state-dir", "FOLDER", "--no-statsd"],
    "backtest": ["--data", "demo", "--strategy", "sma_cross", "--fee", "lots"],
    "data": ["list", "--data-dir", "FOLDER/nope"],
    "strategies": ["--strategy-path", "FOLDER/nope"],
    "new-strategy": ["1bad"],
}


def candlebot(argv: list[str], folder) -> subprocess.CompletedProcess:
    argv = [arg.replace("FOLDER", str(folder)) for arg in argv]
    return subprocess.run([sys.executable, "-m", "candlebot", *argv], cwd=folder, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize("command", list(BAD_INPUT))
def test_a_bad_input_is_one_line_naming_the_command(command, tmp_path):
    done = candlebot([command, *BAD_INPUT[command]], tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"candlebot {command}: error: "), done.stderr


@pytest.mark.parametrize("command", list(BAD_INPUT))
def test_an_unknown_flag_is_one_line_naming_the_command(command, tmp_path):
    done = candlebot([command, "--bogus"], tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"candlebot {command}: error: "), done.stderr
    assert done.stdout == ""


def test_without_a_command_the_line_names_candlebot(tmp_path):
    done = candlebot(["--data", "demo", "--strategy", "sma_cross", "--fee", "lots"], tmp_path)
    assert (done.returncode, done.stderr) == (2, "candlebot: error: --fee: 'lots' is not a number\n")
