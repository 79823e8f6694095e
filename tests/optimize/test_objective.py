"""The default objective is the end equity's P/L: a trade still open at a window's end counts, marked at its last close.

A new user saw a walk-forward fold read "OOS net -191.9" next to "OOS CAGR +18072%": as a backtest that fold was
-191.92 realized and +2206.23 unrealized, equity +20.14%. Trials were ranked, and out-of-sample scored, as a loss
where the account gained.
"""

from __future__ import annotations

import pytest

from tests.optimize.support import run_cli, run_json

SPACE = "fast=5..30:5 slow=20..120:10"  # the new user's search


@pytest.fixture(scope="module")
def walk(shared_data):
    data = str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")
    return run_json("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "--walk-forward", "4", "--jobs", "1")


def test_the_default_objective_ranks_trials_as_their_equity_grew(walk):
    """Same start cash in every trial: ranking by the end equity's P/L is ranking by return."""
    for fold in walk["folds"]:
        cash = 10_000.0
        oos = fold["out_of_sample_metrics"]
        assert oos["total_pnl"] == pytest.approx(oos["return_pct"] / 100 * cash, abs=0.02)
    # the new user's fold: closed trades lost, the open trade made the account grow; the objective says so
    fold3 = walk["folds"][2]["out_of_sample_metrics"]
    assert fold3["net_pnl"] < 0 < fold3["return_pct"]
    assert fold3["total_pnl"] > 0


def test_every_ranked_trial_is_in_the_order_of_its_return(shared_data):
    data = str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")
    study = run_json("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "-s", "2023-03-06 06:00",
                     "-e", "2023-03-19 03:00", "--jobs", "1", "--top", "100")
    ranked = study["ranked"]
    by_closed_trades = sorted(ranked, key=lambda r: -r["net_pnl"])
    assert [r["trial"] for r in by_closed_trades] != [r["trial"] for r in ranked]  # this window ends with trades open
    returns = [r["return_pct"] for r in ranked]
    assert returns == sorted(returns, reverse=True)  # ranked as the account grew, open trades included
    assert study["objective"] == "total_pnl" and "end equity - start cash" in study["pnl_legend"]
    assert [r["objective"] for r in ranked] == [r["total_pnl"] for r in ranked]
    assert all(r["total_pnl"] == pytest.approx(r["return_pct"] / 100 * 10_000, abs=0.02) for r in ranked)


def test_a_study_made_when_net_pnl_was_the_default_is_not_silently_reranked(shared_data, tmp_path):
    """A stored command without --objective ranked by net_pnl, the default of its day (review of the change): run again
    as it was typed, it was resumed and ranked by total_pnl, which its trials lack, so "best" was trial 0."""
    import optuna

    from candlebot.optimize.study import ARGV_ATTR

    journal = tmp_path / "study.log"
    search = ("optimize", "--data", str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv"), "--strategy", "sma_cross",
              "--space", "fast=4..12:4 slow=20", "--no-cache", "--jobs", "1", "--storage", f"journal:{journal}",
              "--study", "old")
    made = run_json(*search, "--objective", "net_pnl")
    study = optuna.load_study(study_name="old", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))))
    stored = study.user_attrs[ARGV_ATTR]
    assert stored[-2:] == ["--objective", "net_pnl"]  # a new study names its objective
    study.set_user_attr(ARGV_ATTR, stored[:-2])  # what the study stored when the command named none

    code, out, err = run_cli(*search)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("candlebot optimize: error: study old already holds another search (") and \
        err.rstrip().endswith("--objective net_pnl); pick another --study"), err

    resumed = run_json(*search, "--objective", "net_pnl")
    assert resumed["objective"] == "net_pnl" and resumed["ranked"] == made["ranked"]
