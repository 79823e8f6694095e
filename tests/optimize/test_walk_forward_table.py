"""The walk-forward fold table as a new user read it: a 13-day window's CAGR annualised to +166361%, the objective
to 4 significant figures ("2602", "-98.04") beside 2-decimal money columns, and "IS DSR" explained nowhere."""

from __future__ import annotations

import re

import pytest

from tests.optimize.support import run_cli


@pytest.fixture(scope="module")
def table(shared_data) -> list[str]:
    data = str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")
    code, out, err = run_cli("optimize", "--data", data, "--strategy", "sma_cross", "--space", "fast=5..30:5 slow=20..120:10",
                             "--walk-forward", "4", "--jobs", "1")
    assert code == 0, err
    return out.splitlines()


def _folds(lines: list[str]) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in lines if re.match(r"\s+\d+\s+20\d\d-", line)]


def test_a_window_too_short_for_a_cagr_shows_none(table):
    header = re.split(r"\s{2,}", next(line for line in table if line.lstrip().startswith("fold")).strip())
    rows = _folds(table)
    assert len(rows) == 4
    for row in rows:  # 39-day in-sample and 13-day out-of-sample windows of a 90-day file
        assert (row[header.index("IS CAGR%")], row[header.index("OOS CAGR%")]) == ("n/a (39 d)", "n/a (13 d)")
    assert any("(CAGR n/a (51 d))" in line for line in table)  # the stitched out-of-sample windows, too


def test_the_objective_has_two_decimals_like_the_money_beside_it(table):
    header = re.split(r"\s{2,}", next(line for line in table if line.lstrip().startswith("fold")).strip())
    for row in _folds(table):
        for column in ("IS total_pnl", "OOS total_pnl", "OOS gross", "OOS fees", "OOS net"):
            assert re.fullmatch(r"-?\d+\.\d\d", row[header.index(column)]), (column, row)


def test_the_legend_says_what_is_dsr_and_cagr_mean(table):
    legend = next(line for line in table if line.startswith("IS = in-sample"))
    assert "IS DSR = deflated Sharpe ratio" in legend and "n/a for a window under 90 days" in legend
