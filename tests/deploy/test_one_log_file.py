"""One log file per bot: under supervisord the bot's lines go to its own log file, not also to supervisor's console log
(every line used to be written to both)."""

from __future__ import annotations

import pytest

from tests.support.bots import start_simulator
from tests.support.supervisord import fleet_header, flip_bot, supervised
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_supervised_bot_writes_each_line_to_one_file(tmp_path):
    sim = start_simulator()
    fleet = fleet_header("onelog", tmp_path / "bots", tmp_path / "state") + flip_bot("solobot", sim.url)
    try:
        with supervised(tmp_path, fleet) as run:
            logs = tmp_path / "bots" / "solobot" / "logs"

            def bot_log() -> str:
                return "".join(p.read_text() for p in logs.glob("*_solobot_*.log"))

            wait_until(lambda: "Current:" in bot_log() and "BUY" in bot_log(), "the bot's ticker and ledger lines")
            assert "solobot: stopped" in run.ctl("stop", "onelog:*")
            console = (logs / "console.log").read_text()
            assert "Current:" not in console and "BUY" not in console and " started: " not in console, console[:500]
            assert "SIGTERM received" in bot_log()
    finally:
        sim.stop()
