"""Running ``candlebot`` in this process (capturing its output) or as a real process."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from candlebot.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def run_json(*argv: str) -> dict[str, Any]:
    code, out, err = run_cli(*argv, "--json")
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def candlebot_process(*argv: str, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "candlebot", *argv], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def process_json(*argv: str) -> dict[str, Any]:
    """``candlebot ARGV --json`` as a separate process: the last line of its stdout."""
    done = subprocess.run([sys.executable, "-m", "candlebot", *argv, "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_same(trial: object, plain: object, key: str) -> None:
    """One metric of a trial equals the plain backtest's, undefined (null) included."""
    if plain is None:
        assert trial is None, key
    else:
        assert trial == pytest.approx(plain, rel=1e-12, abs=1e-9), key
