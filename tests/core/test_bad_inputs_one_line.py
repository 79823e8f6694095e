"""Issue 18 item 7: each input that gave a traceback, "internal error" or silence is now one line and exit 2,
through the real commands (``candlebot``, ``candlebot fleet``, ``candlebot-collector``) as separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from candlebot.exchanges.kraken_pairs import snapshot_reply
from tests.support.bots import REPO

pytestmark = pytest.mark.integration

BOT = ["--strategy", "sma_cross", "--kraken-url", "http://127.0.0.1:9", "--no-statsd", "--stop-after", "1"]
OPTIMIZE = ["optimize", "--strategy", "sma_cross", "--space", "fast=5,10", "--jobs", "1"]
FLEET_HEAD = '[fleet]\nroot = "bots"\n'
BOT_ENTRY = '[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "sma_cross"\n'
COLLECTOR_ENTRY = '[[collector]]\nname = "books"\npairs = ["XBTUSD", "ETHUSD"]\n'

CATALOG_PAIRS = len(snapshot_reply()["result"])  # the bundled catalog's size, as the messages count it


def fleet(text: str) -> list[str]:
    return ["fleet", "FOLDER/fleet.toml", "<<" + text]


# (argv after `python -m`, the line's message). FOLDER is the test's tmp folder; "<<TEXT" writes fleet.toml first.
CASES = {
    "status with a binary --supervisor-config": (
        ["candlebot", "status", "--state-dir", "FOLDER", "--supervisor-config", "FOLDER/binary.conf"],
        "candlebot status: error: --supervisor-config: FOLDER/binary.conf is not a supervisor config (not UTF-8 text)"),
    "collector --snapshot-interval nan": (
        ["candlebot.collector", "--pairs", "XBTUSD", "--snapshot-interval", "nan"],
        "candlebot-collector: error: argument --snapshot-interval: expected a finite number, got 'nan'"),
    "fleet: collector = [\"x\"]": (
        ["candlebot", *fleet('collector = ["x"]\n' + FLEET_HEAD + BOT_ENTRY)],
        "candlebot fleet: error: FOLDER/fleet.toml: collector entries are [[collector]] tables (name, pairs, depth, db), "
        "got ['x']"),
    "fleet: a [collector] table": (
        ["candlebot", *fleet(FLEET_HEAD + BOT_ENTRY + '[collector]\nname = "books"\npairs = ["XBTUSD"]\n')],
        "candlebot fleet: error: FOLDER/fleet.toml: collector entries are [[collector]] tables (name, pairs, depth, db), "
        "got a [collector] table"),
    "fleet: root with %(here)s": (
        ["candlebot", *fleet('[fleet]\nroot = "%(here)s/bots"\n' + BOT_ENTRY)],
        "candlebot fleet: error: FOLDER/fleet.toml: [fleet] root '%(here)s/bots': '%' is not allowed in this folder "
        "(supervisord reads it as one of its %(name)s expansions)"),
    "fleet: an unknown pair for a bot": (
        ["candlebot", *fleet(FLEET_HEAD + BOT_ENTRY.replace("XBTUSD", "XBTUDS"))],
        f"candlebot fleet: error: bot a: unknown pair 'XBTUDS' (not among the {CATALOG_PAIRS} Kraken pairs candlebot knows; "
        "did you mean XBTUSD, XBTUSDT, XBTUSDC?)"),
    "fleet: an unknown pair for a collector": (
        ["candlebot", *fleet(FLEET_HEAD + BOT_ENTRY + COLLECTOR_ENTRY.replace("ETHUSD", "DOGEUSD"))],
        f"candlebot fleet: error: FOLDER/fleet.toml: collector books: unknown pair 'DOGEUSD' (not among the {CATALOG_PAIRS} "
        "Kraken pairs candlebot knows; did you mean XDGUSD, XDGUSDT, XDGUSDC?)"),
    "fleet: a misspelt table": (
        ["candlebot", *fleet(FLEET_HEAD + BOT_ENTRY.replace("[[bot]]", "[[bots]]") + BOT_ENTRY)],
        "candlebot fleet: error: FOLDER/fleet.toml: unknown table(s) bots (a fleet file holds [fleet], [[bot]] and "
        "[[collector]])"),
    # Kraken unreachable: the bot retried AssetPairs until stopped (here: exit 0 after --stop-after); the bundled
    # catalog decides first, for every mode (the simulator serves that catalog too, so no override can list more)
    **{f"{mode} bot on a pair the catalog lacks, Kraken unreachable": (
        ["candlebot", *BOT, "--state-dir", "FOLDER/state", f"--{mode}", "-c", "DOGEUSD", "--key-file", "FOLDER/bot.key"],
        f"candlebot: error: unknown pair 'DOGEUSD' (not among the {CATALOG_PAIRS} Kraken pairs candlebot knows; did you "
        "mean XDGUSD, XDGUSDT, XDGUSDC?)") for mode in ("paper", "validate", "live")},
    "bot --state-dir a file": (
        ["candlebot", *BOT, "--state-dir", "FOLDER/binary.conf"],
        "candlebot: error: --state-dir FOLDER/binary.conf: is a file, not a folder"),
    "bot --state-dir under /proc": (
        ["candlebot", *BOT, "--state-dir", "/proc/self/candlebot"],
        "candlebot: error: --state-dir /proc/self/candlebot: cannot write there (No such file or directory)"),
    "download --data-dir /proc/nope": (
        ["candlebot", "download", "-c", "XBTUSD", "-p", "60", "--since", "2026-01-01", "--data-dir", "/proc/nope",
         "--kraken-url", "http://127.0.0.1:9"],
        "candlebot download: error: --data-dir /proc/nope: cannot write there (No such file or directory)"),
    "optimize without --data": (
        ["candlebot", *OPTIMIZE],
        "candlebot optimize: error: the following arguments are required: --data"),
    "optimize --anchored without --walk-forward": (
        ["candlebot", *OPTIMIZE, "--data", "HOURLY", "--anchored"],
        "candlebot optimize: error: --anchored shapes walk-forward folds: add --walk-forward N, or leave --anchored out"),
    "optimize --walk-forward 1000 on 2,160 candles": (
        ["candlebot", *OPTIMIZE, "--data", "HOURLY", "--walk-forward", "1000"],
        "candlebot optimize: error: --walk-forward 1000: out-of-sample folds of 2 candles are too short to judge a result "
        "(at least 30); use --walk-forward 69 or fewer"),
    "demo with an unknown strategy: refused before a simulator starts": (
        ["candlebot", "demo", "--strategy", "nope"],
        "candlebot demo: error: unknown strategy 'nope' (available: bollinger, direction_mask, macd, parabolic_sar_stochastic, "
        "sma_cross, stochastic, stochastic_sr_ma; no nope.py in FOLDER; your own: path/file.py[:Class] or "
        "package.module[:Class])"),
    "demo with a bad parameter": (
        ["candlebot", "demo", "--param", "fast=x"],
        "candlebot demo: error: parameter fast: 'x' is not a valid integer"),
}


def _argv(argv: list[str], folder: Path, hourly: Path) -> list[str]:
    out = []
    for arg in argv:
        if arg.startswith("<<"):
            (folder / "fleet.toml").write_text(arg[2:])
            continue
        out.append(arg.replace("FOLDER", str(folder)).replace("HOURLY", str(hourly)))
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, shared_data):
    argv, expected = CASES[case]
    (tmp_path / "binary.conf").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "bot.key").write_text("a-test-key\nc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n")
    (tmp_path / "bot.key").chmod(0o600)
    hourly = shared_data / "kraken" / "xbtusd_1h_2023q1.csv"  # 2,160 hourly candles
    done = subprocess.run([sys.executable, "-m", *_argv(argv, tmp_path, hourly)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (done.returncode, done.stderr.splitlines()) == (2, [expected.replace("FOLDER", str(tmp_path))]), done.stderr
    assert done.stdout == ""


@pytest.mark.slow
def test_a_postgresql_study_without_psycopg_names_the_extra(tmp_path):
    """A Python where psycopg is really not importable: this venv's packages, psycopg left out, site.py not run."""
    shadow = tmp_path / "site-packages"
    shadow.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith("psycopg"):
            (shadow / entry.name).symlink_to(entry)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{shadow}"}
    probe = subprocess.run([sys.executable, "-S", "-c", "import psycopg"], capture_output=True, text=True, env=env)
    assert "No module named 'psycopg'" in probe.stderr
    done = subprocess.run([sys.executable, "-S", "-m", "candlebot", *OPTIMIZE, "--data", "demo", "--storage",
                           "postgresql://trader:s3cret@127.0.0.1:9/studies"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 2 and done.stderr.splitlines() == [
        "candlebot optimize: error: --storage postgresql://trader:***@127.0.0.1:9/studies needs the [postgres] extra (psycopg): "
        "pip install 'candlebot[postgres]'"], done.stderr


@pytest.mark.slow
def test_a_downloaded_file_of_another_pair_is_not_backtested_as_xbtusd(tmp_path):
    """`candlebot download -c ETHUSD -p 5` writes ETHUSD_5m.csv; a backtest of it without -c traded it as XBTUSD
    (the default): XBTUSD's tick, fee and order minimum on ETH prices, silently."""
    rows = "".join(f"{1_700_000_000 + 300 * i},2000.0{i % 10},2001,1999,2000.5,1.5\n" for i in range(60))
    data = tmp_path / "ETHUSD_5m.csv"
    data.write_text("time,open,high,low,close,volume\n" + rows)

    def backtest(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "candlebot", "backtest", "--data", str(data), "--strategy", "sma_cross",
                               "--param", "fast=2", "--param", "slow=5", *extra], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})

    refused = backtest()
    assert (refused.returncode, refused.stdout, refused.stderr.splitlines()) == (2, "", [
        "candlebot backtest: error: ETHUSD_5m.csv holds ETHUSD candles (candlebot download named it), but the backtest would "
        "trade them as XBTUSD: pass -c ETHUSD"])
    done = backtest("-c", "ETHUSD")
    assert done.returncode == 0 and "market  ETHUSD, 5 min candles" in done.stdout, done.stderr


@pytest.mark.slow
def test_status_before_any_bot_says_so_without_naming_a_flag_never_given(tmp_path):
    """`candlebot status` on a machine with no bot yet said '--state-dir: ... is not a folder' to a user who gave none."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("CANDLEBOT_STATE_DIR", None)
    done = subprocess.run([sys.executable, "-m", "candlebot", "status"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)
    assert (done.returncode, done.stdout) == (2, "") and done.stderr.splitlines() == [
        f"candlebot status: error: no bots in the default state dir: {tmp_path / 'data' / 'candlebot'} is not a folder yet "
        "(a bot's first start makes it); bots elsewhere: --state-dir DIR"]
