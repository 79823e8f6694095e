"""The bot process's lifecycle (candlebot.live.process.BotRunner), in process: a stop ends the run within its
budget even when the bot is stuck inside a call, and errors become the exit code the caller says."""

from __future__ import annotations

import logging
import threading
import time

from candlebot.live.process import BotRunner


class StuckBot:
    """A built bot whose work never returns by itself (an exchange call that hangs)."""

    def __init__(self) -> None:
        self.log = logging.getLogger("candlebot.test.stuck")
        self.closed = threading.Event()
        self.working = threading.Event()
        self.release = threading.Event()

    def close(self) -> None:
        self.closed.set()

    def work(self, stop_honoured: bool) -> None:
        self.working.set()
        while not self.release.wait(0.01):
            if stop_honoured and self.runner_stop.is_set():
                return


def _run(runner: BotRunner, bot: StuckBot, **callbacks) -> int:
    return runner.run(lambda clock, stop: bot, callbacks.get("work", lambda b: b.work(False)),
                      callbacks.get("failed_start", lambda error, stopped: 3), callbacks.get("failed", lambda error, log: 4))


def test_a_bot_stuck_in_a_call_past_the_stop_budget_still_lets_the_process_return():
    runner, bot = BotRunner(stop_budget_s=0.2), StuckBot()
    threading.Thread(target=lambda: bot.working.wait(10) and runner.request_stop("test stop"), daemon=True).start()

    started = time.monotonic()
    assert _run(runner, bot) == 0
    assert time.monotonic() - started < 5
    assert not bot.closed.is_set()  # closing under a call in flight would race it: left to the next start
    bot.release.set()


def test_a_stopped_bot_is_closed_and_a_failing_one_gets_the_callers_exit_code():
    runner, bot = BotRunner(stop_budget_s=2.0), StuckBot()
    bot.runner_stop = runner.stop
    threading.Thread(target=lambda: bot.working.wait(10) and runner.request_stop("test stop"), daemon=True).start()
    assert _run(runner, bot, work=lambda b: b.work(True)) == 0 and bot.closed.is_set()

    def boom(_bot):
        raise RuntimeError("bug")

    assert _run(BotRunner(), StuckBot(), work=boom) == 4


def test_stop_after_counts_from_the_start_and_a_failed_start_is_the_callers_exit_code():
    runner, bot = BotRunner(stop_after=0.3, stop_budget_s=1.0), StuckBot()
    bot.runner_stop = runner.stop
    started = time.monotonic()
    assert _run(runner, bot, work=lambda b: b.work(True)) == 0
    assert 0.3 <= time.monotonic() - started < 3 and runner.stop.is_set()

    def refuse(clock, stop):
        raise ValueError("bad settings")

    assert BotRunner().run(refuse, lambda b: None, lambda error, stopped: 7 if isinstance(error, ValueError) else 0,
                           lambda error, log: 4) == 7
