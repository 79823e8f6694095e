"""A bot process stops within its budget even while a Kraken call hangs (candlebot.live.process: daemon threads, no
os._exit): stopped during start-up with AssetPairs hanging, it exits 0 at once, and a later start is fine."""

from __future__ import annotations

import signal

import pytest

from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim.faults import DropReply
from tests.support.bots import FLIP, ONE_SECOND, BotRun, first_time, log_times, start_simulator
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_bot_stopped_while_a_start_up_call_hangs_exits_within_the_budget(tmp_path):
    sim = start_simulator()
    try:
        sim.set_faults(Faults(drop_reply=DropReply(mode="hang", hang_s=60, methods=("AssetPairs",))))
        bot = BotRun(tmp_path, sim.url)
        process = bot.start("--strategy", FLIP, "-p", ONE_SECOND, "-t", "0.2", "--kraken-timeout", "120")
        wait_until(lambda: sim.counters().get("fault_drop_reply", 0) >= 1 or process.poll() is not None,
                   "the bot to be inside AssetPairs", timeout=60)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)  # the stuck call ends only 60 s after it began
        assert process.returncode == 0, err
        lines = log_times(bot.logs())
        received, stopped = first_time(lines, "SIGTERM received"), first_time(lines, "stopped while starting")
        # timed by the bot's own log, not around the process: a loaded machine's slow interpreter exit is not counted
        assert received is not None and stopped is not None, bot.logs() + out + err
        assert stopped - received < 5, "the stuck call held the process past its stop budget"
        assert "Traceback" not in err and "Fatal Python error" not in err, err
        assert "stopped while starting" in bot.logs() + out + err

        sim.set_faults(Faults())
        again = bot.run("--strategy", FLIP, "-p", ONE_SECOND, "-t", "0.2", "--stop-after", "3", timeout=60)
        assert again.returncode == 0, again.stderr
    finally:
        sim.stop()
