"""Studies shared by processes: workers in a real PostgreSQL, Ctrl-C and resume through a journal file."""

from __future__ import annotations

import json
import signal

import optuna
import pytest
from optuna.trial import TrialState

from candlebot.optimize.study import SURPLUS_ATTR
from tests.optimize.support import candlebot_process
from tests.support.wait import wait_until

SPACE = "fast=5..30:5 slow=20..150:10"  # 6 x 14 = 84 points; slow <= fast (20/20, 25/20, 30/20, 30/30) is invalid
GRID = {(f, s) for f in range(5, 35, 5) for s in range(20, 160, 10)}
VALID = {(f, s) for f, s in GRID if s > f}
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _command(shared_data, storage: str) -> list[str]:
    return ["optimize", "--data", str(shared_data / "kraken" / "xbtusdc_1m_2023q1.csv.gz"), "-c", "XBTUSDC",
            "--strategy", "sma_cross",
            "--space", SPACE, "--storage", storage, "--study", "shared", "--jobs", "1"]


def _trials(storage) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="shared", storage=storage).get_trials(deepcopy=False)


def _finished_by(trials) -> set[str]:
    """Process ids that finished trials (a trial records ``host:pid`` of whoever ran it)."""
    return {t.user_attrs["worker"].rpartition(":")[2] for t in trials if t.state == TrialState.COMPLETE}


def _points(trials, state) -> list[tuple[int, int]]:
    return [(t.params["fast"], t.params["slow"]) for t in trials if t.state == state]


def test_workers_share_a_study_in_postgresql_and_a_killed_one_loses_at_most_its_trial(shared_data, postgres_server):
    url = postgres_server.create_database("optimize_workers")
    storage = optuna.storages.RDBStorage(url.replace("postgresql://", "postgresql+psycopg://"))
    main = candlebot_process(*_command(shared_data, url), "--json")
    try:
        assert main.stderr.readline().startswith("study shared in postgresql://postgres@127.0.0.1:")
        worker_argv = ("optimize", "--worker", "--study", "shared", "--storage", url, "--jobs", "1", "--quiet")
        survivor, victim = candlebot_process(*worker_argv), candlebot_process(*worker_argv)
        wait_until(lambda: {str(survivor.pid), str(victim.pid)} <= _finished_by(_trials(storage)), "both workers to finish a trial", timeout=60)
        victim.kill()
        victim.wait(10)
        out, err = main.communicate(timeout=120)
        assert main.returncode == 0, err
        assert survivor.wait(60) == 0, survivor.stderr.read()
    finally:
        for process in (main, locals().get("survivor"), locals().get("victim")):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)

    trials = _trials(storage)
    complete = _points(trials, TrialState.COMPLETE)
    running = [t for t in trials if t.state == TrialState.RUNNING]
    assert len(complete) == len(set(complete)), "a grid point ran twice"
    pruned = set(_points(trials, TrialState.PRUNED))
    assert pruned <= GRID - VALID and not pruned & set(complete)  # skipped by SmaCrossParams, never run
    assert len(running) <= 1  # the killed worker's trial in flight (maybe killed before it even chose its point)
    # every point was run or skipped, but the one the killed worker held, which may be a valid or an invalid one
    assert len(GRID - set(complete) - pruned) <= len(running)
    # Past the grid, a process that asked at the same time as another one's last grid point gets trial 84 or later
    # (trial numbers are atomic, the budget check before the ask cannot be): told FAIL as surplus before it suggests
    # anything, so it holds no point and runs nothing. At most one per process: after it, the budget is seen used up.
    surplus = [t for t in trials if SURPLUS_ATTR in t.user_attrs]
    assert all(t.state == TrialState.FAIL and not t.params and t.number >= len(GRID) for t in surplus)
    assert len(surplus) <= 3  # main, survivor, victim
    assert len(trials) - len(surplus) == len(GRID)  # nobody ran past the grid
    assert {str(main.pid), str(survivor.pid), str(victim.pid)} <= _finished_by(trials), "every process ran trials"
    report = json.loads(out.strip().splitlines()[-1])  # written when its own budget was done: others may still have run one
    assert report["trials"] <= len(complete) <= report["trials"] + report["still_running"]


def test_ctrl_c_keeps_finished_trials_and_the_journal_resumes(shared_data, tmp_path):
    journal = f"journal:{tmp_path / 'study.log'}"
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "study.log")))
    first = candlebot_process(*_command(shared_data, journal), "--json")
    try:
        first.stderr.readline()
        wait_until(lambda: len(_points(_trials(storage), TrialState.COMPLETE)) >= 3, "three finished trials", timeout=60)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130 and "interrupted; the finished trials are kept in study shared" in err
    kept = {t.number: t.params for t in _trials(storage) if t.state == TrialState.COMPLETE}
    assert 3 <= len(kept) < len(VALID)
    assert json.loads(out.strip().splitlines()[-1])["trials"] == len(kept)  # the finished ones are still reported

    second = candlebot_process(*_command(shared_data, journal), "--json")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    trials = _trials(storage)
    complete = _points(trials, TrialState.COMPLETE)
    assert sorted(complete) == sorted(VALID)  # each valid point once, interrupted ones re-run
    assert all(trials[number].params == params and trials[number].state == TrialState.COMPLETE for number, params in kept.items())
    assert json.loads(out.strip().splitlines()[-1])["trials"] == len(VALID)
