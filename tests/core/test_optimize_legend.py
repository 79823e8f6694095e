"""optimize's ranked table marks the column it ranks by with ``*`` (``net*``) and abbreviates its headings: one line
under the table says what they mean (the new-user review: nothing in the output explained ``net*``)."""

from __future__ import annotations

import contextlib
import io

import pytest

from candlebot.cli import main


@pytest.mark.parametrize("objective, heading", [("net_pnl", "net*"), ("sharpe", "sharpe*")])
def test_a_legend_under_the_table_explains_the_starred_column(shared_data, objective, heading):
    pytest.importorskip("optuna")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["optimize", "--data", str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv"), "--strategy", "sma_cross",
                     "--space", "fast=4..8:4 slow=20", "--jobs", "1", "--no-cache", "--objective", objective])
    assert code == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    header = next(k for k, line in enumerate(lines) if line.lstrip().startswith("rank"))
    assert heading in lines[header].split()
    at = next(k for k in range(header + 1, len(lines)) if not lines[k].lstrip()[:1].isdigit())  # the first line after the rows
    assert lines[at].startswith(f"{heading}: ranked by this column (--objective {objective}); maxDD% = max drawdown"), lines[at]
    assert lines[at + 1].startswith("total = end equity - start cash") and "net = closed trades' gross - every fee" in lines[at + 1]
