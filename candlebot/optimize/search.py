"""The ask / run / tell loop of one study on one window, over an executor.

Results do not depend on ``--jobs``: every ask happens here, in one thread, in trial-number
order. Grid and random samplers do not look at results, so trials stream through the workers
as they free up. TPE does look, so it asks a fixed batch, waits for the whole batch and tells
it in trial order: the study then evolves the same way with one worker or many.

A combination the strategy's ``Params`` refuses is told PRUNED with the reason, without a
backtest. A trial numbered past the budget (several processes asked at once) is told FAIL as
surplus before it suggests anything. Ctrl-C marks the trials in flight FAIL (interrupted) and
returns; everything told before stays in the study.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import optuna
from optuna.trial import TrialState

from candlebot.errors import ConfigError
from candlebot.optimize.pool import Executor
from candlebot.optimize.runner import Outcome, Window
from candlebot.optimize.space import SearchSpace
from candlebot.optimize.study import INTERRUPTED_ATTR, INVALID_ATTR, PERFORMANCE_ATTR, SURPLUS_ATTR, counted_trials

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
    window_size: int  # trials kept in flight when streaming
    on_told: Callable[[optuna.Study], None] = lambda study: None
    _flight: dict[int, tuple[optuna.Trial, dict[str, Any]]] = field(default_factory=dict)
    _invalid_in_a_row: int = 0

    def run(self) -> bool:
        """Work until the budget is used up; False when interrupted by Ctrl-C."""
        try:
            if self.batch is None:
                self._stream()
            else:
                self._batches(self.batch)
        except KeyboardInterrupt:
            for trial, _ in self._flight.values():
                trial.set_user_attr(INTERRUPTED_ATTR, True)
                self.study.tell(trial, state=TrialState.FAIL)
            self._flight.clear()
            return False
        return True

    def _stream(self) -> None:
        while True:
            while len(self._flight) < self.window_size and self._ask_one():
                pass
            if not self._flight:
                return
            number, outcome = self.executor.next_done()
            self._tell(number, outcome)

    def _batches(self, size: int) -> None:
        while True:
            while len(self._flight) < size and self._ask_one():
                pass
            if not self._flight:
                return
            finished = dict(self.executor.next_done() for _ in range(len(self._flight)))
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
        self.study.tell(trial, outcome.performance.objective(self.objective))
        self.on_told(self.study)
