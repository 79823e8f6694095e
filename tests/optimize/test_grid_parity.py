"""Every grid point is the plain backtest: same engine, fees, fill model, sizing and flags."""

from __future__ import annotations

import pytest

from tests.optimize.support import assert_same, process_json, run_json

pytestmark = pytest.mark.integration

SPACE = "fast=5..25:5 slow=10..40:10"
FLAGS = ("--fee", "0.1%", "--slippage-bps", "5", "--spread", "0.04%", "--cash", "5000", "-s", "2023-01-10")
# every figure the optimizer shows for a trial, against the plain backtest's --json (docs/metrics.md)
COMPARED = ("net_pnl", "gross_pnl", "fees", "trades", "return_pct", "cagr_pct", "max_drawdown_pct", "sharpe", "sortino", "calmar")


@pytest.mark.slow
def test_grid_results_equal_individual_backtests(shared_data):
    data = str(shared_data / "kraken" / "xbtusd_15m_2023q1.csv.gz")
    study = run_json("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, *FLAGS,
                     "--jobs", "2", "--top", "100")

    # 5 x 4 grid; slow <= fast is refused by SmaCrossParams.validate and never run
    invalid = {(f, s) for f in range(5, 30, 5) for s in range(10, 50, 10) if s <= f}
    assert study["skipped_invalid"] == len(invalid) == 6
    ranked = study["ranked"]
    assert len(ranked) == study["trials"] == 20 - len(invalid)
    assert sorted((r["params"]["fast"], r["params"]["slow"]) for r in ranked) == sorted(
        (f, s) for f in range(5, 30, 5) for s in range(10, 50, 10) if (f, s) not in invalid)
    # ranked by the default objective, the end equity's P/L (an open trade marked at the last close)
    assert [r["total_pnl"] for r in ranked] == sorted((r["total_pnl"] for r in ranked), reverse=True)

    for record in (ranked[0], ranked[len(ranked) // 2], ranked[-1]):
        params = record["params"]
        plain = process_json("--data", data, "--strategy", "sma_cross", "--param", f"fast={params['fast']}",
                         "--param", f"slow={params['slow']}", *FLAGS)
        for key in COMPARED:
            assert_same(record[key], plain[key], key)
        assert_same(record["total_pnl"], plain["final_equity"] - plain["start_cash"], "total_pnl")

