"""Search space parsing and the deflated Sharpe ratio."""

from __future__ import annotations

import math

import pytest

from candlebot.optimize.deflated import deflated_sharpe, expected_max_sharpe, noise_warning, probabilistic_sharpe
from candlebot.optimize.space import parse_space
from candlebot.strategies.bollinger import Bollinger
from candlebot.strategies.sma_cross import SmaCrossParams


def test_space_ranges_steps_floats_and_lists():
    space = parse_space("fast=5..30:5 slow=20..22 stop_loss_pct=0..1.5:0.5", SmaCrossParams(num_simultaneous_trades=2),
                        {"num_simultaneous_trades"}, "sma_cross")
    assert space.grid() == {"fast": [5, 10, 15, 20, 25, 30], "slow": [20, 21, 22], "stop_loss_pct": [0.0, 0.5, 1.0, 1.5]}
    assert space.fixed == {"num_simultaneous_trades": 2}
    assert space.grid_size() == 72
    assert space.invalid_reason({"fast": 25, "slow": 20, "stop_loss_pct": 0.0}) == "slow (20) must be longer than fast (25)"
    assert space.build({"fast": 5, "slow": 20, "stop_loss_pct": 1.5}) == SmaCrossParams(2, 1.5, 5, 20)


def test_space_lists_of_text():
    space = parse_space("exit=middle,upper nbdev=1.5,2", Bollinger.Params(), set(), "bollinger")
    assert space.grid() == {"exit": ["middle", "upper"], "nbdev": [1.5, 2.0]}
    assert space.dimensions[0].span is None and space.dimensions[1].span == 0.5


def test_probabilistic_sharpe_by_hand():
    # SR 0.1 per day over 253 days, normal returns: Phi(0.1 * sqrt(252) / sqrt(1 + 2/4 * 0.01)) = Phi(1.5835)
    assert probabilistic_sharpe(0.1, 0.0, 253, 0.0, 3.0) == pytest.approx(0.94335, abs=1e-4)
    assert probabilistic_sharpe(0.1, 0.0, 1, 0.0, 3.0) is None


def test_expected_max_sharpe_by_hand():
    # N = 2, V = 1: (1 - g) * Z(0.5) + g * Z(1 - 1/(2e)) = 0.5772 * Z(0.81606) = 0.5772 * 0.90047
    assert expected_max_sharpe(2, 1.0) == pytest.approx(0.5198, abs=1e-3)
    assert expected_max_sharpe(1, 1.0) == 0.0


def test_more_trials_deflate_more():
    few = deflated_sharpe(0.1, [0.1, 0.0, -0.05], 253, 0.0, 3.0)
    many = deflated_sharpe(0.1, [0.1, 0.0, -0.05] * 30, 253, 0.0, 3.0)
    assert few is not None and many is not None and many < few < probabilistic_sharpe(0.1, 0.0, 253, 0.0, 3.0)
    assert "likely noise" in noise_warning(many, 90, "the best")
    assert noise_warning(0.99, 90, "the best") is None
    assert "above zero is 40%" in noise_warning(0.4, None, "the out-of-sample result")
    assert not math.isnan(many)


def test_trials_sharing_an_indicators_parameters_compute_it_once_and_match_a_fresh_backtest(shared_data):
    """One series per (function, parameters) on a trial runner's chart, and each trial's result is the plain
    backtest's on a chart nobody shares."""
    import dataclasses
    import json

    from candlebot.assembly import load_chart, run_backtest
    from candlebot.chart import Chart
    from candlebot.cli.args import build_parser
    from candlebot.cli.backtest import settings_from_args
    from candlebot.optimize.runner import TrialRunner, Window
    from candlebot.strategy import indicators

    args = build_parser().parse_args(["--data", str(shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"),
                                      "--strategy", "sma_cross", "--quiet", "--no-cache"])
    setup = settings_from_args(args)
    chart = load_chart(setup)
    space = parse_space("fast=5..10:5 slow=60..80:20", setup.params, set(), "sma_cross")
    runner = TrialRunner(setup, chart, space)
    window = Window(0, len(chart))
    for fast in (5, 10):
        for slow in (60, 80):
            outcome = runner.run(window, {"fast": fast, "slow": slow})
            alone = Chart.from_arrays(chart.pair, chart.period, chart.times, chart.opens, chart.highs, chart.lows,
                                      chart.closes, chart.volumes)
            params = space.build({"fast": fast, "slow": slow})
            _, report = run_backtest(dataclasses.replace(setup, params=params, start=float(chart.times[0])), alone)
            assert outcome.performance.trades == report.metrics.trades > 10
            assert json.dumps(outcome.performance.net_pnl) == json.dumps(float(report.metrics.net_pnl))
    computed = indicators._SHARED[chart]  # one SMA per period, though each ran in two trials
    assert sorted(dict(params)["timeperiod"] for _, _, params, _ in computed) == [5, 10, 60, 80]
    assert alone not in indicators._SHARED
