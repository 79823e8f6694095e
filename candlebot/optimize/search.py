"""The ask / run / tell loop of one study on one window, over an executor.

Results do not depend on ``--jobs``: every ask happens here, in one thread, in trial-number
order. Grid and random samplers do not look at results, so trials stream through the workers
as they free up. TPE does look, so it asks a fixed batch, waits for the whole batch and tells
it in trial order: the study then evolves the same way with one worker or many.

A combination the strategy's ``Params`` refuses is told PRUNED with the reason, without a
backtest. A trial numbered past the budget (several processes asked at once) is told FAIL as
surplus before it suggests anything. Ctrl-C stops between steps: the trials in flight are told
FAIL (interrupted; a resumed grid runs their points again), everything told before stays.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import optuna
from optuna.trial import TrialState

from candlebot.errors import ConfigError
from candlebot.optimize.performance import rank_key
from candlebot.optimize.pool import Executor
from candlebot.optimize.runner import Outcome, Window
from candlebot.optimize.space import SearchSpace
from candlebot.optimize.study import INTERRUPTED_ATTR, INVALID_ATTR, PERFORMANCE_ATTR, SURPLUS_ATTR, WORKER_ATTR, counted_trials

WORKER = f"{socket.gethostname()}:{os.getpid()}"  # which process ran a trial, for people sharing a study
TPE_BATCH = 16  # fixed, so a TPE study is the same whatever --jobs is
MAX_INVALID_IN_A_ROW = 1000


@dataclass
class Search:
    study: optuna.Study
    space: SearchSpace
    window: Window
    objective: str
    budget: int
    executor: Executor
    batch: int | None  # None: stream (grid, random); N: ask N, wait for all, tell in order (TPE)
    window_size: int  # trials in flight when streaming: one per worker, so a killed process loses only those
    on_told: Callable[[optuna.Study], None] = lambda study: None
    _flight: dict[int, tuple[optuna.Trial, dict[str, Any]]] = field(default_factory=dict)
    _invalid_in_a_row: int = 0

    def run(self) -> bool:
        """Work until the budget is used up; False when Ctrl-C asked to stop.

        The first Ctrl-C only raises a flag, read between steps, so no ask or tell is ever cut in half;
        a second one interrupts at once.
        """
        stop = _StopFlag()
        with stop.on_sigint():
            if self.batch is None:
                self._stream(stop)
            else:
                self._batches(self.batch, stop)
        if stop.raised:
            for trial, _ in self._flight.values():
                trial.set_user_attr(INTERRUPTED_ATTR, True)
                self.study.tell(trial, state=TrialState.FAIL)
            self._flight.clear()
        return not stop.raised

    def _stream(self, stop: _StopFlag) -> None:
        while not stop.raised:
            while len(self._flight) < self.window_size and not stop.raised and self._ask_one():
                pass
            if not self._flight:
                return
            done = self.executor.next_done(stop)
            if done is not None:
                self._tell(*done)

    def _batches(self, size: int, stop: _StopFlag) -> None:
        while not stop.raised:
            while len(self._flight) < size and not stop.raised and self._ask_one():
                pass
            if not self._flight:
                return
            finished: dict[int, Outcome] = {}
            while len(finished) < len(self._flight) and not stop.raised:
                done = self.executor.next_done(stop)
                if done is not None:
                    finished[done[0]] = done[1]
            if stop.raised:
                return
            for number in sorted(finished):
                self._tell(number, finished[number])

    def _ask_one(self) -> bool:
        """Ask for one more trial and send it to a worker; False when the budget is used up."""
        while True:
            if counted_trials(self.study) >= self.budget:
                return False
            trial = self.study.ask()
            if counted_trials(self.study, below=trial.number) >= self.budget:
                trial.set_user_attr(SURPLUS_ATTR, True)
                self.study.tell(trial, state=TrialState.FAIL)
                return False
            trial.set_user_attr(WORKER_ATTR, WORKER)
            values = self.space.suggest(trial)
            reason = self.space.invalid_reason(values)
            if reason is None:
                self._invalid_in_a_row = 0
                self._flight[trial.number] = (trial, values)
                self.executor.submit(trial.number, (self.window, values, False))
                return True
            trial.set_user_attr(INVALID_ATTR, reason)
            self.study.tell(trial, state=TrialState.PRUNED)
            self.on_told(self.study)
            self._invalid_in_a_row += 1
            if self._invalid_in_a_row >= MAX_INVALID_IN_A_ROW:
                raise ConfigError(f"--space: {MAX_INVALID_IN_A_ROW} combinations in a row were invalid ({reason}); fix the ranges")

    def _tell(self, number: int, outcome: Outcome) -> None:
        trial, _ = self._flight.pop(number)
        trial.set_user_attr(PERFORMANCE_ATTR, outcome.performance.to_json())
        self.study.tell(trial, rank_key(outcome.performance.objective(self.objective)))
        self.on_told(self.study)


class _StopFlag:
    """Set by the first SIGINT while a search runs (only the main thread can take signals)."""

    def __init__(self) -> None:
        self.raised = False

    def __call__(self) -> bool:
        return self.raised

    @contextlib.contextmanager
    def on_sigint(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)

        def handle(signum: int, frame: Any) -> None:
            self.raised = True
            signal.signal(signal.SIGINT, previous)  # a second Ctrl-C stops at once

        signal.signal(signal.SIGINT, handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
