"""A wall-clock step of an hour, back or forward, while a live bot runs changes nothing (real bot processes).

The bot runs under libfaketime (Debian ``faketime``): its wall clock is the real one
plus the offset in a timestamp file that the test rewrites while the bot runs
(``FAKETIME_NO_CACHE``: read on every call); its monotonic clock is left alone
(``FAKETIME_DONT_FAKE_MONOTONIC``), as an NTP step or a resumed VM leaves it. The
simulator runs in the test process, on the real clock.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim.faults import DropReply, LateListing
from tests.support.bots import FLIP, ONE_SECOND, BotRun, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
         "/usr/lib/faketime/libfaketime.so.1")
LIBFAKETIME = next((lib for lib in _LIBS if os.path.exists(lib)), None)
needs_faketime = pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is not installed (Debian package faketime)")
HOUR = 3600


class SteppedBot:
    """A live bot process whose wall clock the test steps."""

    def __init__(self, folder: Path, url: str, *extra: str) -> None:
        self.offset_file = folder / "faketime"
        self.offset_file.write_text("+0\n")
        self.run = BotRun(folder, url, name="stepped")
        env = {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(self.offset_file),
               "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        import subprocess

        self.process = self.run.start("--live", "--key-file", str(write_key_file(folder)), "--cash", "1000", "--no-statsd",
                                      "--strategy", FLIP, "-p", ONE_SECOND, "-t", "0.2", *extra, env=env,
                                      stdout=subprocess.DEVNULL)

    def step(self, seconds: int) -> None:
        self.offset_file.write_text(f"{seconds:+d}\n")

    def tickers(self) -> int:
        return self.run.logs().count("Current: ")

    def alive(self) -> None:
        assert self.process.poll() is None, f"the bot exited: {self.process.stderr.read() if self.process.stderr else ''}"


@needs_faketime
def test_a_step_back_of_an_hour_never_silences_the_poll_loop(tmp_path, sim):
    bot = SteppedBot(tmp_path, sim.url)
    try:
        wait_until(lambda: bot.alive() or bot.tickers() >= 5, "the bot's first ticker lines", timeout=90)
        before = bot.tickers()

        bot.step(-HOUR)

        wait_until(lambda: bot.alive() or bot.tickers() >= before + 20, "20 more ticker lines after the step back",
                   timeout=60)
        bot.step(+0)  # the wall clock comes back: candles close again
        closed = len(sim.orders())
        wait_until(lambda: bot.alive() or len(sim.orders()) > closed, "an order after the clock came back", timeout=60)
    finally:
        code, _, err = stop(bot.process, timeout=30)
    assert code == 0, err


@needs_faketime
def test_a_step_forward_of_an_hour_never_marks_a_pending_order_never_placed(tmp_path, sim):
    """The first order is booked but its reply lost and it is listed only 8 s later: the bot keeps looking and books it."""
    sim.set_faults(Faults(drop_reply=DropReply(mode="502", methods=("AddOrder",), count=1),
                          late_listing=LateListing(delay_s=8.0, count=1)))
    bot = SteppedBot(tmp_path, sim.url, "--reconcile-window", "60")
    try:
        wait_until(lambda: bot.alive() or "OrderOutcomeUnknown" in bot.run.logs(), "the lost order reply", timeout=90)

        bot.step(+HOUR)

        wait_until(lambda: bot.alive() or "recovered fill of userref" in bot.run.logs(), "the order found and booked",
                   timeout=60)
    finally:
        code, _, err = stop(bot.process, timeout=30)
    logs = bot.run.logs()
    first = sim.orders()[0]
    assert f"userref {first['userref']} was never placed" not in logs
    assert re.search(rf"recovered fill of userref {first['userref']}\b", logs)
    assert code == 0, err
