"""Where trials run: in this process, or in forked workers that share the loaded candles.

The runner (with its chart) is handed to the workers by ``fork``: the candle columns are
inherited copy-on-write, never pickled or parsed again, and a task is only a window and a
parameter dict. Workers ignore SIGINT so that Ctrl-C reaches the parent alone, which then
keeps what is finished and stops the workers (``--jobs 1`` finishes the trial it is running).
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import signal
from typing import Any, Callable, Hashable, Protocol

from candlebot.optimize.runner import Outcome, TrialRunner, Window

Task = tuple[Window, dict[str, Any], bool]

_RUNNER: TrialRunner | None = None  # set in each forked worker by _worker_start; never in the parent


class Executor(Protocol):
    def submit(self, key: Hashable, task: Task) -> None: ...
    def next_done(self, stop: Callable[[], bool] = lambda: False) -> tuple[Any, Outcome] | None:
        """The next finished trial; None when ``stop()`` turned true while waiting."""
    def close(self) -> None: ...


class InlineExecutor:
    """``--jobs 1``: run each trial here, when its result is asked for."""

    def __init__(self, runner: TrialRunner) -> None:
        self._runner = runner
        self._waiting: list[tuple[Hashable, Task]] = []

    def submit(self, key: Hashable, task: Task) -> None:
        self._waiting.append((key, task))

    def next_done(self, stop: Callable[[], bool] = lambda: False) -> tuple[Any, Outcome] | None:
        if stop():
            return None
        key, (window, values, keep) = self._waiting.pop(0)
        return key, self._runner.run(window, values, keep)

    def close(self) -> None:
        self._waiting.clear()


class ForkExecutor:
    """``--jobs N``: N forked workers, started once, fed windows and parameters."""

    def __init__(self, runner: TrialRunner, jobs: int) -> None:
        gc.freeze()  # what exists now is never scanned again by the collector: fewer pages copied, less time
        # with fork, initargs are inherited, not pickled: the runner and its chart reach the workers for free
        self._pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_start, initargs=(runner,))
        self._done: queue.Queue[tuple[Hashable, Outcome | BaseException]] = queue.Queue()

    def submit(self, key: Hashable, task: Task) -> None:
        self._pool.apply_async(
            _run_task, (task,), callback=lambda outcome: self._done.put((key, outcome)),
            error_callback=lambda exc: self._done.put((key, exc)),
        )

    def next_done(self, stop: Callable[[], bool] = lambda: False) -> tuple[Any, Outcome] | None:
        while True:
            try:
                key, result = self._done.get(timeout=0.1)
            except queue.Empty:
                if stop():
                    return None
                continue
            if isinstance(result, BaseException):
                raise result
            return key, result

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


def make_executor(runner: TrialRunner, jobs: int) -> Executor:
    return InlineExecutor(runner) if jobs <= 1 else ForkExecutor(runner, jobs)


def _worker_start(runner: TrialRunner) -> None:
    global _RUNNER
    _RUNNER = runner
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_task(task: Task) -> Outcome:
    assert _RUNNER is not None, "worker forked without a runner"
    window, values, keep = task
    return _RUNNER.run(window, values, keep)
