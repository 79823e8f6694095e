"""[[collector]] entries in the fleet file become supervisor programs that a real supervisord runs and stops."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collector.rig import Rig
from tests.support.wait import wait_until
from tests.support.supervisord import FLEET, fleet_header, supervised


@pytest.mark.integration
@pytest.mark.slow
def test_a_fleet_collector_runs_under_supervisord_and_stops_cleanly(tmp_path: Path) -> None:
    # Arrange
    rig = Rig(f"sqlite:///{tmp_path / 'root' / 'books' / 'books.sqlite'}", tmp_path, pairs=("XBTUSD", "ETHUSD"))
    fleet = fleet_header("testfleet", tmp_path / "root") + f"""
[[bot]]
name = "idlebot"
pair = "XBTUSD"
strategy = "sma_cross"

[[collector]]
name = "books"
pairs = ["XBTUSD", "ETHUSD"]
extra_args = ["--ws-url", "{rig.ws_url}", "--rest-url", "{rig.sim.url}", "--no-statsd", "--no-slack"]
"""
    try:
        with supervised(tmp_path, fleet) as run:
            text = run.conf.read_text()
            assert "[program:books]" in text and "[group:testfleet-collectors]\nprograms=books" in text
            assert (f"{sys.executable} -m candlebot.collector -c XBTUSD -c ETHUSD --depth 10 "
                    f"--db sqlite:///{tmp_path}/root/books/books.sqlite") in text
            # Act
            wait_until(lambda: {p for p, _, _ in rig.snapshots()} == {"XBTUSD", "ETHUSD"}, "the collector's snapshots", 30)
            stopped = run.ctl("stop", "testfleet-collectors:*")
            # Assert
            assert "books: stopped" in stopped
            log = (run.run_dir / "supervisord.log").read_text()
            assert re.search(r"stopped: books \(exit status 0\)", log), log
            assert (tmp_path / "root" / "books" / "logs" / "console.log").exists()
    finally:
        rig.close()


@pytest.mark.integration
@pytest.mark.parametrize("entry, message", [
    ('name = "b"\npairs = []', "pairs must be a list of pair names"),
    ('name = "b"\npairs = ["XBTUSD"]\ndepth = 7', "depth must be 10, 25, 100, 500 or 1000"),
    ('name = "b"\npairs = ["XBTUSD"]\nspeed = 2', "unknown key(s) speed"),
    ('name = "a"\npairs = ["XBTUSD"]', "names must be unique, repeated: a"),
])
@pytest.mark.slow
def test_collector_entry_mistakes_are_one_line_errors(tmp_path: Path, entry: str, message: str) -> None:
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(f'[fleet]\nroot = "bots"\n[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "macd"\n[[collector]]\n{entry}\n')
    result = subprocess.run([sys.executable, str(FLEET), str(fleet)], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
