"""The same seed gives the same study, whatever --jobs is."""

from __future__ import annotations

import pytest

from tests.optimize.support import run_json


def _trials(shared_data, method: str, jobs: int, seed: int = 7) -> list[tuple[int, tuple, float]]:
    data = str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")
    study = run_json("optimize", "--data", data, "--strategy", "sma_cross", "--space", "fast=2..40 slow=10..120:2",
                     "--method", method, "--trials", "24", "--seed", str(seed), "--objective", "sharpe",
                     "--jobs", str(jobs), "--top", "1000")
    return sorted((r["trial"], tuple(sorted(r["params"].items())), r["objective"]) for r in study["ranked"])


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("method", ["grid", "tpe", "random"])
def test_same_seed_same_study_with_one_or_two_jobs(shared_data, method):
    one = _trials(shared_data, method, jobs=1)
    two = _trials(shared_data, method, jobs=2)
    assert one == two
    assert len(one) >= 12  # most of the 24 suggestions are valid (slow > fast) and ran
    assert len({params for _, params, _ in one}) > 1


def test_another_seed_gives_another_study(shared_data):
    assert _trials(shared_data, "random", jobs=1, seed=7) != _trials(shared_data, "random", jobs=1, seed=8)
