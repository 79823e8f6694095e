"""A bot process's lifecycle: start-up on a thread a signal can cut short, the run on a worker thread, the stop
budget, and the exit code. The CLI gives it how to build the bot and how an error becomes an exit code.

SIGTERM/SIGINT (or ``stop_after`` seconds from the process start, start-up retries included) set ``stop``: the
current step finishes and everything is closed within one 5-second budget. A thread still inside an exchange call
when the budget is spent is left behind: its intent is on disk for the next start to reconcile (crash-only), and
every thread here is a daemon, so the interpreter exits without waiting for it (no ``os._exit``: atexit handlers
and the log handlers' flush still run).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Callable, Protocol

from candlebot.clock import Clock, LiveClock

STOP_BUDGET_S = 4.0  # from the signal to the last log line; the process is gone well within 5 s
STARTUP_STOP_S = 1.0  # a stop while starting: how long a start-up call may take to notice it
_library = logging.getLogger("candlebot")


class Runnable(Protocol):
    """A built bot (``assembly.BotProcess``)."""

    log: logging.Logger

    def close(self) -> None: ...


class BotRunner:
    """Runs one bot: ``run(build, work, failed_start, failed)`` returns the exit code."""

    def __init__(self, stop_after: float | None = None, *, stop_budget_s: float = STOP_BUDGET_S,
                 startup_stop_s: float = STARTUP_STOP_S) -> None:
        self.stop_budget_s, self.startup_stop_s = stop_budget_s, startup_stop_s
        self.stop = threading.Event()
        self.clock: Clock = LiveClock(interrupt=self.stop)  # the bot's waits end at a stop
        self._stopped_at: float | None = None
        self._deadline = None if stop_after is None else time.monotonic() + stop_after

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the bot (main thread only, as Python's signals are)."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def request_stop(self, why: str) -> None:
        if self._stopped_at is None:
            self._stopped_at = time.monotonic()
            _library.info("%s", why)
        self.stop.set()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.request_stop(f"{signal.Signals(signum).name} received: finishing the current step")

    def run(self, build: Callable[[Clock, threading.Event], Runnable], work: Callable[[Runnable], None],
            failed_start: Callable[[BaseException, bool], int], failed: Callable[[BaseException, logging.Logger], int]) -> int:
        """``build`` the bot on a thread, then ``work`` it on another until it returns or is stopped.

        ``failed_start(error, stopped)``: the exit code when the bot could not be built (``stopped``: a stop came
        first); ``failed(error, log)``: the exit code when ``work`` raised."""
        built: list[Runnable] = []
        errors: list[BaseException] = []  # handed to this (the main) thread

        def start() -> None:
            try:
                built.append(build(self.clock, self.stop))
            except BaseException as exc:
                errors.append(exc)

        starter = _daemon(start, "start")
        if self._wait(starter) and starter.is_alive():
            starter.join(max(0.0, self._stop_time() + self.startup_stop_s - time.monotonic()))
            if starter.is_alive():  # still inside a Kraken call: nothing traded yet, crash-only state needs no goodbye
                _library.info("stopped while starting")
                return 0
        if not built:
            return failed_start(errors[0] if errors else RuntimeError("the bot did not start"), self.stop.is_set())
        bot = built[0]

        def run_bot() -> None:
            try:
                work(bot)
            except BaseException as exc:
                errors.append(exc)

        worker = _daemon(run_bot, "bot")
        self._wait(worker, bot.log)
        budget_end = (self._stopped_at or time.monotonic()) + self.stop_budget_s
        worker.join(max(0.0, budget_end - time.monotonic()))
        if worker.is_alive():  # an exchange call outlived the budget: closing under it would race it
            bot.log.warning("stopping with an exchange call in flight; the next start reconciles it")
            _flush(bot.log)
            return 0
        closer = _daemon(bot.close, "close")
        closer.join(max(0.5, budget_end + 0.5 - time.monotonic()))  # sinks flush within what is left
        _flush(bot.log)
        return failed(errors[0], bot.log) if errors else 0

    def _wait(self, thread: threading.Thread, log: logging.Logger | None = None) -> bool:
        """Wait while ``thread`` runs and nobody stops it; stops at the deadline. True when stopped."""
        while thread.is_alive() and not self.stop.is_set():
            remaining = None if self._deadline is None else self._deadline - time.monotonic()
            self.stop.wait(0.2 if remaining is None else max(0.0, min(0.2, remaining)))
            if remaining is not None and time.monotonic() >= self._deadline and not self.stop.is_set():  # type: ignore[operator]
                (log or _library).info("--stop-after reached")
                self._stopped_at = time.monotonic()
                self.stop.set()
        if self.stop.is_set() and self._stopped_at is None:
            self._stopped_at = time.monotonic()
        return self.stop.is_set()

    def _stop_time(self) -> float:
        return self._stopped_at if self._stopped_at is not None else time.monotonic()


def _daemon(target: Callable[[], None], name: str) -> threading.Thread:
    """A thread the interpreter does not wait for at exit: one stuck in a call never holds the process."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _flush(log: logging.Logger) -> None:
    for handler in log.handlers:
        handler.flush()
