"""Walk-forward folds: boundaries by hand, and no window ever sees candles after its end (truncate and compare)."""

from __future__ import annotations

import pytest

from candlebot.errors import ConfigError
from candlebot.output.lines import utc
from candlebot.optimize.runner import Window
from candlebot.optimize.walkforward import plan_folds
from tests.optimize.support import assert_same, process_json, run_json

SPACE = "fast=4..12:4 slow=20..40:10"
COMPARED = ("net_pnl", "gross_pnl", "fees", "trades", "return_pct", "cagr_pct", "max_drawdown_pct", "sharpe", "sortino", "calmar")


def test_rolling_and_anchored_fold_boundaries_by_hand():
    # 100 candles, 2 in-sample blocks + 3 folds = 5 blocks of 20
    rolling = plan_folds(0, 100, folds=3, in_sample_blocks=2, anchored=False)
    assert [(f.in_sample, f.out_of_sample) for f in rolling] == [
        (Window(0, 40), Window(40, 60)), (Window(20, 60), Window(60, 80)), (Window(40, 80), Window(80, 100))]
    anchored = plan_folds(0, 100, folds=3, in_sample_blocks=2, anchored=True)
    assert [f.in_sample for f in anchored] == [Window(0, 40), Window(0, 60), Window(0, 80)]
    # uneven: 103 candles from index 10 in 5 blocks -> edges 10, 30, 51, 71, 92, 113
    uneven = plan_folds(10, 113, folds=2, in_sample_blocks=3, anchored=False)
    assert [(f.in_sample, f.out_of_sample) for f in uneven] == [(Window(10, 71), Window(71, 92)), (Window(30, 92), Window(92, 113))]


def test_too_many_folds_for_the_data_is_a_config_error():
    with pytest.raises(ConfigError, match="too few for 60 folds"):
        plan_folds(0, 100, folds=60, in_sample_blocks=3, anchored=False)


@pytest.mark.integration
@pytest.mark.slow
def test_folds_on_a_small_file_never_see_later_candles(shared_data):
    data = str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")  # 2,160 hourly candles
    walk = run_json("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE,
                    "--walk-forward", "3", "--in-sample-blocks", "2", "--jobs", "1")
    # 2 + 3 = 5 blocks of 432 candles
    assert [(f["in_sample"], f["out_of_sample"]) for f in walk["folds"]] == [
        ([0, 864], [864, 1296]), ([432, 1296], [1296, 1728]), ([864, 1728], [1728, 2160])]
    assert walk["trials"] == 3 * 9
    first = 1672531200  # the file's first candle, then one an hour without gaps
    fold = walk["folds"][1]
    is_start, is_stop = (first + 3600 * i for i in fold["in_sample"])
    oos_start, oos_stop = (first + 3600 * i for i in fold["out_of_sample"])

    # in-sample: the same search on a file that ends where the window ends picks the same winner with the same result
    truncated = run_json("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE,
                         "-s", str(is_start), "-e", str(is_stop), "--jobs", "1", "--top", "1")
    assert truncated["ranked"][0]["params"] == fold["params"]
    for key in COMPARED:
        assert truncated["ranked"][0][key] == fold["in_sample_metrics"][key], key

    # out-of-sample: a plain backtest of the winner on the data cut at the window's end
    plain = process_json("--data", data, "--strategy", "sma_cross", "-s", utc(oos_start), "-e", str(oos_stop),
                         *(f"--param={k}={v}" for k, v in fold["params"].items()))
    for key in COMPARED:
        assert_same(fold["out_of_sample_metrics"][key], plain[key], key)
    assert_same(fold["out_of_sample_metrics"]["total_pnl"], plain["final_equity"] - plain["start_cash"], "total_pnl")
    assert set(walk["stability"]) == {"fast", "slow"}
    assert walk["out_of_sample"]["trades"] == sum(f["out_of_sample_metrics"]["trades"] for f in walk["folds"])


def test_the_stitched_line_adds_up_total_from_closed_gross_fees_and_open_marks(shared_data):
    """A review read "net 138.56 (closed trades gross 896.74, fees 835.48)": gross less fees is 61.26. The rest is
    trades open at a fold's end, marked at its last close; the line names it, so the figures add up (the curve's
    change is called total, net is closed trades' gross less fees as everywhere else)."""
    import re

    from tests.optimize.support import run_cli

    data = str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")
    code, out, err = run_cli("optimize", "--data", data, "--strategy", "sma_cross", "--space", "fast=5..10:5 slow=20..30:10",
                             "--walk-forward", "3", "--jobs", "1", "--quiet")
    assert code == 0, err
    found = re.search(r"total (-?[\d.]+) \(closed trades gross (-?[\d.]+), fees (-?[\d.]+), open at fold ends ([-+][\d.]+); "
                      r"net (-?[\d.]+)\)", out)
    assert found, out
    total, gross, fees, marks, net = (float(x) for x in found.groups())
    assert marks != 0  # this run ends folds with open trades: the case the line must explain
    assert abs(total - (gross - fees + marks)) <= 0.015
    assert abs(net - (gross - fees)) <= 0.015
