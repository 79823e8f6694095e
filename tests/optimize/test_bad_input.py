"""Bad input to ``candlebot optimize``: one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.optimize.support import REPO, run_cli

BASE = ("optimize", "--data", "DATA", "--strategy", "sma_cross", "--jobs", "1")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--space", "fast=5..x"], "parameter fast: 'x' is not a valid integer"),
        (["--space", "fast"], "--space: expected name=SPEC"),
        (["--space", "fats=5..10"], "unknown parameter 'fats' for strategy sma_cross"),
        (["--space", "fast=10..5"], "--space: fast=10..5 needs low <= high and a step > 0"),
        (["--space", "stop_loss_pct=0..2"], "--space: stop_loss_pct=0..2 is a number range; give it a step"),
        (["--space", "fast=40..50 slow=10..20"], "--space holds no valid combination for sma_cross (e.g. slow (10) must be longer than fast (40))"),
        (["--space", "fast=5,10", "--param", "fast=3"], "--space: fast is also fixed by --param"),
        (["--space", "fast=5,10", "--objective", "luck"], "unknown objective 'luck' (choose from: total_pnl, net_pnl, return_pct, sharpe, sortino, calmar)"),
        (["--space", "fast=5,10", "--method", "bayes"], "unknown --method 'bayes'"),
        (["--space", "fast=5,10", "--walk-forward", "0"], "--walk-forward must be >= 1, got 0"),
        (["--space", "fast=5,10", "--storage", "mysql://x@y/z"], "--storage: unknown kind 'mysql://x@y/z'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(shared_data, extra, message):
    argv = [str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv") if a == "DATA" else a for a in BASE]
    code, out, err = run_cli(*argv, *extra)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert out == ""


@pytest.mark.integration
@pytest.mark.slow
def test_unreachable_storage_is_one_line_without_the_password(shared_data):
    url = f"postgresql://trader:s3cret@127.0.0.1:{_closed_port()}/studies"
    done = subprocess.run(
        [sys.executable, "-m", "candlebot", "optimize", "--data", str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv"),
         "--strategy", "sma_cross", "--space", "fast=5,10", "--storage", url],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("candlebot optimize: error: --storage: cannot reach postgresql+psycopg://trader:***@127.0.0.1:"), done.stderr
    assert "s3cret" not in done.stderr and done.stdout == ""


def test_worker_for_a_missing_study_is_one_line(tmp_path):
    code, _, err = run_cli("optimize", "--worker", "--study", "nope", "--storage", f"journal:{tmp_path / 'j.log'}")
    assert code == 2 and err.count("\n") == 1 and "no study named 'nope'" in err
