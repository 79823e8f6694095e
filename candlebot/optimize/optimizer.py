"""A whole optimisation: one study over the range, or one per walk-forward fold plus its out-of-sample runs.

The same plan is what a ``--worker`` follows (it joins each study in turn), so workers on
other machines help with walk-forward folds as well as with a plain search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import optuna

from candlebot.errors import ConfigError
from candlebot.optimize.deflated import deflated_sharpe_of, probabilistic_sharpe
from candlebot.optimize.performance import Performance
from candlebot.optimize.pool import Executor
from candlebot.optimize.runner import Outcome, Window
from candlebot.optimize.search import TPE_BATCH, Search
from candlebot.optimize.space import SearchSpace
from candlebot.optimize.study import StudyTally, TrialRecord, open_study, requeue_failed_grid_points, sampler_for, tally
from candlebot.optimize.walkforward import Fold, FoldResult, Stability, efficiency, plan_folds, stability, stitch
from candlebot.output.equity import EquityCurve


@dataclass(frozen=True)
class SearchPlan:
    """What defines the search; stored with the study (as its command line) for workers."""

    space: SearchSpace
    objective: str
    method: str
    seed: int
    budget: int
    first: int
    stop: int
    folds: int | None
    in_sample_blocks: int
    anchored: bool

    def fold_plan(self) -> tuple[Fold, ...]:
        if self.folds is None:
            return ()
        return plan_folds(self.first, self.stop, self.folds, self.in_sample_blocks, self.anchored)

    def windows(self, name: str) -> list[tuple[str, Window]]:
        """The studies to run, in order: the whole range, or each fold's in-sample window."""
        if self.folds is None:
            return [(name, Window(self.first, self.stop))]
        return [(f"{name}/fold-{fold.number}", fold.in_sample) for fold in self.fold_plan()]


@dataclass(frozen=True)
class SearchResult:
    study: str
    window: Window
    tally: StudyTally
    deflated_sharpe: float | None

    @property
    def best(self) -> TrialRecord | None:
        return self.tally.ranked[0] if self.tally.ranked else None


@dataclass(frozen=True)
class WalkForwardResult:
    folds: tuple[FoldResult, ...]
    searches: tuple[SearchResult, ...]
    curve: EquityCurve
    out_of_sample: Performance
    probabilistic_sharpe: float | None
    efficiency: float | None
    stability: tuple[Stability, ...]

    @property
    def trials(self) -> int:
        return sum(r.trials for r in self.folds)


Progress = Callable[[str, optuna.Study, int], Callable[[optuna.Study], None]]


@dataclass
class Optimizer:
    plan: SearchPlan
    executor: Executor
    jobs: int
    storage: Any
    argv: list[str]
    progress: Progress
    seed_salt: int = 0  # 0 for the command that owns the study; workers add their process id
    interrupted: bool = False

    def search(self, name: str, window: Window) -> SearchResult:
        """Run (or join) the study ``name`` until its budget is used up; then rank it."""
        plan = self.plan
        study = open_study(self.storage, name, self.argv, sampler_for(plan.method, plan.seed, plan.space, self.seed_salt))
        if plan.method == "grid":
            requeue_failed_grid_points(study)
        told = self.progress(name, study, plan.budget)
        search = Search(
            study=study, space=plan.space, window=window, objective=plan.objective, budget=plan.budget,
            executor=self.executor, batch=TPE_BATCH if plan.method == "tpe" else None,
            window_size=self.jobs, on_told=told,
        )
        if not search.run():
            self.interrupted = True
        return self.rank(name, window, study)

    def rank(self, name: str, window: Window, study: optuna.Study) -> SearchResult:
        counts = tally(study, self.plan.objective)
        best = counts.ranked[0].performance if counts.ranked else None
        dsr = None
        if best is not None:
            dsr = deflated_sharpe_of(best, [r.performance for r in counts.ranked])
        return SearchResult(name, window, counts, dsr)

    def work(self, name: str) -> list[SearchResult]:
        """Every study of the plan in turn (a ``--worker``, or the first half of a walk-forward)."""
        results = []
        for study_name, window in self.plan.windows(name):
            results.append(self.search(study_name, window))
            if self.interrupted:
                break
        return results

    def walk_forward(self, name: str, start_cash: float) -> WalkForwardResult | None:
        """Search every fold's in-sample window, then run each winner on its out-of-sample window; None if interrupted."""
        searches = self.work(name)
        if self.interrupted:
            return None
        folds = self.plan.fold_plan()
        winners = []
        for fold, search in zip(folds, searches):
            if search.best is None:
                raise ConfigError(f"walk-forward fold {fold.number}: no trial finished in its in-sample window")
            winners.append(search.best)
        for number, (fold, best) in enumerate(zip(folds, winners)):
            self.executor.submit(number, (fold.out_of_sample, best.values, True))
        outcomes: dict[int, Outcome] = {}
        while len(outcomes) < len(folds):
            done = self.executor.next_done()
            assert done is not None, "waiting without a stop condition returns a result"
            outcomes[done[0]] = done[1]
        results = [
            FoldResult(fold=fold, values=best.values, in_sample=best.performance, out_of_sample=outcomes[n].performance,
                       trials=len(search.tally.ranked), deflated_sharpe=search.deflated_sharpe)
            for n, (fold, best, search) in enumerate(zip(folds, winners, searches))
        ]
        curve, stitched = stitch([outcomes[n] for n in range(len(folds))], start_cash)
        psr = None if stitched.daily_sharpe is None else probabilistic_sharpe(
            stitched.daily_sharpe, 0.0, stitched.returns, stitched.skew, stitched.kurtosis)
        return WalkForwardResult(
            folds=tuple(results), searches=tuple(searches), curve=curve, out_of_sample=stitched,
            probabilistic_sharpe=psr, efficiency=efficiency(results, stitched), stability=stability(results, self.plan.space.dimensions),
        )
