"""The optimizer's figures are the backtest's: undefined metrics rank last, the stitch and the DSR use the same daily returns."""

from __future__ import annotations

import math
import re

import numpy as np
import optuna
import pytest

from candlebot.optimize.deflated import deflated_sharpe, deflated_sharpe_of
from candlebot.optimize.performance import Performance, of_stitched, rank_key
from candlebot.optimize.runner import Outcome, Window
from candlebot.optimize.study import PERFORMANCE_ATTR, tally
from candlebot.optimize.walkforward import Fold, FoldResult, efficiency, stitch
from candlebot.output.equity import EquityCurve
from candlebot.output.metrics import curve_ratios, daily_returns, sharpe
from tests.optimize.support import run_cli, run_json

DAY = 86_400
T0 = 1_672_531_200  # 2023-01-01 00:00 UTC


def daily_curve(first_day: int, equity: list[float], start_cash: float = 1000.0) -> EquityCurve:
    """Daily candles from ``T0 + first_day`` days; each mark at its candle's close."""
    opens = T0 + DAY * (first_day + np.arange(len(equity)))
    return EquityCurve(float(opens[0]), (opens + DAY).astype(float), np.array(equity, dtype=float), np.zeros(len(equity)), start_cash)


def performance(curve: EquityCurve, net: float = 0.0, trades: int = 0) -> Performance:
    return of_stitched(curve, [Performance(net, net, 0.0, trades, curve_ratios(curve), 0, 0.0, 3.0)])


def test_undefined_objective_ranks_below_every_value_and_ties_keep_trial_order():
    study = optuna.create_study(direction="maximize")
    flat = performance(daily_curve(0, [1000.0]))  # one day: Sharpe undefined (null in a backtest's --json)
    losing = performance(daily_curve(0, [1000.0, 990.0, 995.0, 980.0]))
    assert flat.sharpe is None and losing.sharpe is not None and losing.sharpe < 0
    for perf in (flat, losing, flat):
        trial = study.ask()
        trial.set_user_attr(PERFORMANCE_ATTR, perf.to_json())
        study.tell(trial, rank_key(perf.objective("sharpe")))
    ranked = tally(study, "sharpe").ranked
    assert [(r.number, r.objective) for r in ranked] == [(1, losing.sharpe), (0, None), (2, None)]
    assert study.best_trial.number == 1  # optuna, told -inf for undefined, agrees
    assert rank_key(None) == -math.inf


def test_stitched_out_of_sample_compounds_folds_and_uses_the_backtest_formulas():
    first = Outcome(performance(daily_curve(0, [1010.0, 1020.0]), net=20.0, trades=1), daily_curve(0, [1010.0, 1020.0]))
    second = Outcome(performance(daily_curve(2, [990.0, 1030.0]), net=30.0, trades=2), daily_curve(2, [990.0, 1030.0]))
    curve, stitched = stitch([first, second], 1000.0)
    # the second fold's returns are compounded on the first fold's end (1020)
    assert curve.equity.tolist() == pytest.approx([1010.0, 1020.0, 1009.8, 1050.6])
    assert curve.start_time == T0 and curve.close_times[-1] == T0 + 4 * DAY
    daily = daily_returns(curve)
    assert daily.tolist() == pytest.approx([0.01, 1020 / 1010 - 1, 1009.8 / 1020 - 1, 1050.6 / 1009.8 - 1])
    ratios = curve_ratios(curve)
    assert (stitched.sharpe, stitched.sortino, stitched.calmar, stitched.cagr_pct) == (ratios.sharpe, ratios.sortino, ratios.calmar, ratios.cagr_pct)
    assert stitched.sharpe == sharpe(daily)
    assert stitched.return_pct == pytest.approx(5.06)
    # net P/L is the compounded curve's too: the second fold's 30 earned on 1020 is 30.6 (was the plain sum, 50)
    assert (stitched.net_pnl, stitched.gross_pnl, stitched.trades, stitched.returns) == pytest.approx((50.6, 50.6, 3, 4))
    assert stitched.net_pnl == pytest.approx(stitched.return_pct / 100 * 1000.0)


def test_stitched_net_return_verdict_and_efficiency_agree_when_folds_disagree():
    """+50% then -40%: the folds' plain sum says +100 (a gain), compounding says -10% (a loss)."""
    up, down = daily_curve(0, [1200.0, 1500.0]), daily_curve(2, [800.0, 600.0])
    outcomes = [Outcome(performance(up, net=500.0, trades=1), up), Outcome(performance(down, net=-400.0, trades=1), down)]
    curve, stitched = stitch(outcomes, 1000.0)
    assert stitched.return_pct == pytest.approx(-10.0) and stitched.net_pnl == pytest.approx(-100.0)
    winner = performance(daily_curve(0, [1100.0, 1200.0]))  # in sample: a gain
    folds = [FoldResult(Fold(k, Window(0, 2), Window(2, 4)), {}, winner, o.performance, 1, None)
             for k, o in enumerate(outcomes, 1)]
    assert sum(o.performance.cagr_pct for o in outcomes) > 0  # the mean of the folds' CAGRs would call it a gain
    assert efficiency(folds, stitched) < 0 and stitched.cagr_pct < 0


def test_deflated_sharpe_takes_the_shown_sharpe_per_day_and_counts_undefined_trials_as_no_edge():
    best = performance(daily_curve(0, [1010.0, 1015.0, 1030.0, 1028.0, 1045.0]))
    other = performance(daily_curve(0, [1000.0, 995.0, 1001.0, 990.0, 992.0]))
    undefined = performance(daily_curve(0, [1000.0]))
    assert best.daily_sharpe == pytest.approx(best.sharpe / math.sqrt(365))
    daily = daily_returns(daily_curve(0, [1010.0, 1015.0, 1030.0, 1028.0, 1045.0]))
    assert best.returns == len(daily) == 5
    expected = deflated_sharpe(best.daily_sharpe, [best.daily_sharpe, other.daily_sharpe, 0.0], 5, best.skew, best.kurtosis)
    assert deflated_sharpe_of(best, [best, other, undefined]) == expected is not None
    assert deflated_sharpe_of(undefined, [best, undefined]) is None


def test_a_window_too_short_for_sharpe_shows_na_and_ranks_by_trial_order(shared_data):
    data = str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")
    argv = ("optimize", "--data", data, "--strategy", "sma_cross", "--space", "fast=2,3 slow=5,6", "-s", "2023-01-05",
            "-e", "2023-01-06", "--objective", "sharpe", "--jobs", "1")
    study = run_json(*argv)  # one day of candles: one daily return, so no Sharpe (a backtest prints null too)
    assert [(r["trial"], r["objective"], r["sharpe"]) for r in study["ranked"]] == [(n, None, None) for n in range(4)]
    assert study["deflated_sharpe"] is None and "too few returns" in study["noise_warning"]
    code, out, _ = run_cli(*argv)
    assert code == 0 and re.search(r"^\s+1\s+0\s+3\s+6\s.*\sn/a\s+n/a\s+-?\d", out, re.M), out
