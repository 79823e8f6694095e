"""The fleet generator's config run by a real supervisord: bots start, trade, restart after a crash, stop cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from candlebot.identity import BotIdentity
from tests.sinks.servers import SlackServer
from tests.support.bots import ONE_SECOND, start_simulator
from tests.support.supervisord import FLEET, fleet_header, flip_bot, supervised
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_generated_fleet_runs_under_supervisord(tmp_path):
    sim = start_simulator()
    fleet = fleet_header("testfleet", tmp_path / "bots", tmp_path / "state") + flip_bot("alphabot", sim.url) + f"""
[[bot]]
name = "betabot"
pair = "BTC/USD"
period = {ONE_SECOND}
poll = 0.25
strategy = "sma_cross"
params = {{ fast = 2, slow = 4 }}
extra_args = ["--kraken-url", "{sim.url}", "--kraken-tier", "none"]
"""
    try:
        with supervised(tmp_path, fleet) as run:
            text = run.conf.read_text()
            assert "[group:testfleet]" in text and "programs=alphabot,betabot" in text and "stopsignal=TERM" in text
            wait_until(lambda: run.ctl("status").count("RUNNING") == 2, "both bots RUNNING", interval=0.2)
            bots = tmp_path / "bots"

            def logs_of(name: str) -> list[Path]:
                return sorted((bots / name / "logs").glob(f"*_{name}_*.log"))

            def started(log: Path) -> bool:
                return " started: " in log.read_text()

            wait_until(lambda: all(any(map(started, logs_of(n))) for n in ("alphabot", "betabot")), "both bots' start lines")
            wait_until(lambda: "BUY" in "".join(p.read_text() for p in logs_of("alphabot")), "alphabot's first buy")

            # a crash: supervisor brings the bot back
            pid = int(re.search(r"alphabot\s+RUNNING\s+pid (\d+)", run.ctl("status")).group(1))
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: re.search(r"alphabot\s+RUNNING\s+pid (\d+)", run.ctl("status")) is not None
                       and int(re.search(r"alphabot\s+RUNNING\s+pid (\d+)", run.ctl("status")).group(1)) != pid,
                       "supervisor to restart alphabot", interval=0.2)
            wait_until(lambda: sum(map(started, logs_of("alphabot"))) == 2, "the restarted alphabot's start line")

            stopped = run.ctl("stop", "testfleet:*")
            assert "alphabot: stopped" in stopped and "betabot: stopped" in stopped
            supervisor_log = (run.run_dir / "supervisord.log").read_text()
            assert re.search(r"stopped: alphabot \(exit status 0\)", supervisor_log)
            assert re.search(r"stopped: betabot \(exit status 0\)", supervisor_log)
            for name in ("alphabot", "betabot"):
                logs = sorted((bots / name / "logs").glob("*.log"))
                bot_logs = [p for p in logs if re.fullmatch(rf"[0-9a-f]{{6}}_{name}_\d{{4}}-\d{{2}}-\d{{2}}_[a-z]{{6}}\.log", p.name)]
                assert len(bot_logs) == (2 if name == "alphabot" else 1)  # one log file per start
                assert "SIGTERM received" in bot_logs[-1].read_text() if name == "betabot" else True
                assert (bots / name / "logs" / "console.log").exists()
            alpha = "".join(p.read_text() for p in (bots / "alphabot" / "logs").glob("*_alphabot_*.log"))
            assert "BUY" in alpha and "SIGTERM received" in alpha
    finally:
        sim.stop()


def test_fleet_file_mistakes_are_one_line_errors(tmp_path):
    fleet = tmp_path / "fleet.toml"
    fleet.write_text('[fleet]\nroot = "/tmp/x"\n[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "macd"\nmode = "live"\n')
    result = subprocess.run([sys.executable, str(FLEET), str(fleet)], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.strip() == "candlebot fleet: error: bot a: mode live needs key_file"
    fleet.write_text('[fleet]\nroot = "/tmp/x"\n[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "macd"\n[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "macd"\n')
    result = subprocess.run([sys.executable, str(FLEET), str(fleet)], capture_output=True, text=True)
    assert result.returncode == 2 and "bot names must be unique, repeated: a" in result.stderr


@pytest.mark.parametrize(
    "bot, message",
    [
        ('name = 5\npair = "XBTUSD"\nstrategy = "macd"', "name must be a string"),
        ('name = "a"\npair = "XBTUSD"\nstrategy = "macd"\nparams = "fast=3"', "params must be a table"),
        ('name = "a"\npair = "XBTUSD"\nstrategy = "macd"\nextra_args = "--quiet"', "extra_args must be a list of strings"),
        ('name = "a"\npair = "XBTUSD"\nstrategy = "macd"\nperiod = "5"', "period must be a positive number"),
    ],
)
def test_fleet_file_type_mistakes_are_one_line_errors(tmp_path, bot, message):
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(f'[fleet]\nroot = "bots"\n[[bot]]\n{bot}\n')
    result = subprocess.run([sys.executable, str(FLEET), str(fleet)], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


@pytest.mark.slow
def test_relative_paths_are_relative_to_the_fleet_file(tmp_path):
    (tmp_path / "conf").mkdir()
    fleet = tmp_path / "conf" / "fleet.toml"
    fleet.write_text('[fleet]\nroot = "../bots"\nstate_dir = "../state"\n[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "macd"\n'
                     'mode = "live"\nkey_file = "kraken.key"\n')
    text = subprocess.run([sys.executable, str(FLEET), str(fleet)], capture_output=True, text=True, check=True).stdout
    assert f"directory={tmp_path / 'bots' / 'a'}\n" in text
    assert f"--state-dir {tmp_path / 'state'}" in text and f"--key-file {tmp_path / 'conf' / 'kraken.key'}" in text


@pytest.mark.slow
def test_a_bot_that_refuses_to_start_is_not_restarted_and_says_so_once(tmp_path):
    """Issue 17: exit 2 (here: a state file whose books are lost) is a refusal a person must look at. The generated
    config leaves the bot EXITED after one start (supervisor's exitcodes), its console has one line, Slack one alert."""
    sim, slack = start_simulator(), SlackServer()
    state = tmp_path / "state"
    path = state / "bots" / f"{BotIdentity.from_name('gamma').label}.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")  # a disk that filled up: the books are gone
    header = fleet_header("refusing", tmp_path / "bots", state, slack_webhook=slack.webhook_url("T0/B0/refusedhook"))
    fleet = header + flip_bot("gamma", sim.url, "--no-statsd")
    try:
        with supervised(tmp_path, fleet) as run:
            log = run.run_dir / "supervisord.log"
            wait_until(lambda: log.exists() and "exited: gamma (exit status 2; expected)" in log.read_text(),
                       "gamma's refusal", interval=0.2)
            assert re.search(r"gamma\s+EXITED", run.ctl("status")), run.ctl("status")
            assert log.read_text().count("spawned: 'gamma'") == 1  # started once, never again
            console = (tmp_path / "bots" / "gamma" / "logs" / "console.log").read_text().strip().splitlines()
            assert len(console) == 1 and "is empty (0 bytes)" in console[0], console
            assert slack.wait_for(1)
            assert [r.text() for r in slack.requests if "refused to start" in r.text()], [r.text() for r in slack.requests]
    finally:
        slack.close()
        sim.stop()


CRASHING = '''"""A bug that kills the process at every start, before its first candle (the test's own)."""
import os

from tests.support.strategies import Flip


class CrashAtStart(Flip):
    name = "crash_at_start"

    def __init__(self, *args, **kwargs):
        os._exit(1)  # a crash: no handler runs, no goodbye
'''


@pytest.mark.slow
def test_a_bot_that_crashes_at_every_start_stops_after_its_crash_limit_and_says_so_once(tmp_path):
    """New-user review: with startsecs=0, autorestart=unexpected and exitcodes=0,2, a bot crashing with exit 1 at every
    start was restarted without end. It counts its own crashes: after --crash-limit (3 here) it refuses the next start
    with exit 2, which supervisor leaves EXITED; its console has one line, Slack one alert. A person's start after
    that has the whole budget again."""
    sim, slack = start_simulator(), SlackServer()
    strategy = tmp_path / "crashing.py"
    strategy.write_text(CRASHING)
    header = fleet_header("crashing", tmp_path / "bots", tmp_path / "state",
                          slack_webhook=slack.webhook_url("T0/B0/crashhook"))
    fleet = header + flip_bot("delta", sim.url, "--no-statsd", "--crash-limit", "3",
                              strategy=f"{strategy}:CrashAtStart")
    try:
        with supervised(tmp_path, fleet) as run:
            log = run.run_dir / "supervisord.log"
            wait_until(lambda: log.exists() and "exited: delta (exit status 2; expected)" in log.read_text(),
                       "delta's refusal after its crashes", interval=0.2, timeout=120)
            text = log.read_text()
            assert text.count("exited: delta (exit status 1; not expected)") == 3, text
            assert text.count("spawned: 'delta'") == 4  # three crashes, then the refusal; never again
            assert re.search(r"delta\s+EXITED", run.ctl("status")), run.ctl("status")
            console = (tmp_path / "bots" / "delta" / "logs" / "console.log").read_text().strip().splitlines()
            assert console == ["candlebot: error: bot 'delta' crashed 3 times within 15 minutes (exit 1 or a signal, "
                               "each restarted by supervisor): not starting again; its log file says why it crashed, "
                               "fix that, then start it again"], console
            assert slack.wait_for(1)
            refusals = [r.text() for r in slack.requests if "refused to start" in r.text()]
            assert len(refusals) == 1 and "crashed 3 times" in refusals[0], [r.text() for r in slack.requests]

            run.ctl("start", "crashing:delta")  # a person starts it again: it may crash (and be restarted) anew
            wait_until(lambda: log.read_text().count("exit status 1; not expected") >= 4, "the new start's crash",
                       interval=0.2, timeout=60)
    finally:
        slack.close()
        sim.stop()
