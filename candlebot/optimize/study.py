"""Optuna studies: created or resumed with their sampler, and read back as ranked trials.

A study remembers the command that defines it (``candlebot.argv``: data, strategy, space,
method, seed, objective, trials, walk-forward, ...), so a ``--worker`` started elsewhere with
only ``--study`` and ``--storage`` rebuilds exactly the same search. Samplers are seeded; the
grid is optuna's GridSampler, which hands grid point k to trial number k: trial numbers come
from the storage atomically, so workers sharing a study never run one point twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from candlebot.errors import ConfigError
from candlebot.optimize.performance import LEGACY_OBJECTIVE, Performance, rank_key, with_objective
from candlebot.optimize.space import SearchSpace

METHODS = ("grid", "tpe", "random")
ARGV_ATTR = "candlebot.argv"
PERFORMANCE_ATTR = "performance"
INVALID_ATTR = "invalid"
SURPLUS_ATTR = "surplus"
INTERRUPTED_ATTR = "interrupted"
WORKER_ATTR = "worker"

optuna.logging.set_verbosity(optuna.logging.ERROR)  # our progress bar and table say what optuna would log


@dataclass(frozen=True)
class TrialRecord:
    """A trial that ran to the end."""

    number: int
    values: dict[str, Any]
    objective: float | None  # None: undefined for this trial, ranked last
    performance: Performance


@dataclass(frozen=True)
class StudyTally:
    """Everything a study holds, ranked best first; skipped = invalid combinations never run."""

    ranked: tuple[TrialRecord, ...]
    skipped: int
    failed: int
    running: int


def default_name(argv: list[str]) -> str:
    """The same command gives the same study name, so running it again resumes (with --storage)."""
    return "candlebot-" + hashlib.sha256(json.dumps(argv).encode()).hexdigest()[:12]


class AskTellGridSampler(optuna.samplers.GridSampler):
    """GridSampler whose exhausted grid does not call ``study.stop()`` (only allowed inside ``optimize``):
    the ask-and-tell loop stops by its budget, which is the grid's size at most."""

    def after_trial(self, study: optuna.Study, trial: Any, state: TrialState, values: Any) -> None:
        return None


def sampler_for(method: str, seed: int, space: SearchSpace, salt: int = 0) -> optuna.samplers.BaseSampler:
    """The study's sampler. ``salt`` (a worker's process id) keeps workers' random draws apart; the grid ignores
    it, since every process must shuffle the grid the same way for trial k to mean grid point k everywhere."""
    if method == "grid":
        return AskTellGridSampler(space.grid(), seed=seed)
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed + salt)
    return optuna.samplers.RandomSampler(seed=seed + salt)


def open_study(storage: Any, name: str, argv: list[str], sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """Create the study, or resume it when it exists and holds the same search. ``argv`` names its objective; a
    stored command that names none ranked by ``LEGACY_OBJECTIVE`` (the default when it was made), so resuming it
    under today's default is another search, refused, never a silent re-ranking of trials that lack today's metric."""
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, direction="maximize", load_if_exists=True)
    stored = study.user_attrs.get(ARGV_ATTR)
    if stored is not None:
        stored = with_objective(stored, LEGACY_OBJECTIVE)
    if stored is None:
        study.set_user_attr(ARGV_ATTR, argv)
    elif stored != argv:
        raise ConfigError(f"study {name} already holds another search ({' '.join(stored)}); pick another --study")
    return study


def load_argv(storage: Any, name: str) -> list[str]:
    """The defining command of an existing study (what a ``--worker`` runs)."""
    try:
        summary = next(s for s in optuna.get_all_study_summaries(storage, include_best_trial=False) if s.study_name == name)
    except StopIteration:
        raise ConfigError(f"no study named {name!r} in that storage; start it with candlebot optimize ... --study {name}") from None
    argv = summary.user_attrs.get(ARGV_ATTR)
    if not isinstance(argv, list):
        raise ConfigError(f"study {name!r} was not made by candlebot optimize")
    return with_objective(argv, LEGACY_OBJECTIVE)


def requeue_failed_grid_points(study: optuna.Study) -> int:
    """Grid points of interrupted trials go back to the queue on resume (GridSampler counts a failed point as visited)."""
    trials = study.get_trials(deepcopy=False)
    taken = {_key(t.params) for t in trials if t.state != TrialState.FAIL}
    requeued = 0
    for trial in trials:
        if trial.state == TrialState.FAIL and trial.params and INTERRUPTED_ATTR in trial.user_attrs and _key(trial.params) not in taken:
            study.enqueue_trial(trial.params)
            taken.add(_key(trial.params))
            requeued += 1
    return requeued


def counted_trials(study: optuna.Study, below: int | None = None) -> int:
    """Trials that use up the budget: all but failed ones (interrupted or surplus), optionally numbered below ``below``."""
    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
    return sum(1 for t in study.get_trials(deepcopy=False, states=states) if below is None or t.number < below)


def tally(study: optuna.Study, objective: str) -> StudyTally:
    records = []
    skipped = failed = running = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.COMPLETE:
            performance = Performance.from_json(trial.user_attrs[PERFORMANCE_ATTR])
            records.append(TrialRecord(trial.number, dict(trial.params), performance.objective(objective), performance))
        elif trial.state == TrialState.PRUNED:
            skipped += 1
        elif trial.state == TrialState.FAIL and SURPLUS_ATTR not in trial.user_attrs:
            failed += 1
        elif trial.state == TrialState.RUNNING:
            running += 1
    records.sort(key=lambda r: (-rank_key(r.objective), r.number))
    return StudyTally(tuple(records), skipped, failed, running)


def _key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)
