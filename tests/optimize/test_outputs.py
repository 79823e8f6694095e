"""What a search hands back: --best-params to paste, the CSV, the self-contained HTML page, the terminal table."""

from __future__ import annotations

import csv
import re

import pytest

from tests.optimize.support import run_cli, run_json

SPACE = "fast=4..12:4 slow=20..40:10"


@pytest.fixture()
def data(shared_data) -> str:
    return str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")


def test_best_params_are_the_flags_of_the_top_trial(data):
    argv = ("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "--param", "stop_loss_pct=1", "--jobs", "1")
    best = run_json(*argv)["ranked"][0]["params"]
    code, out, _ = run_cli(*argv, "--best-params")
    assert code == 0
    assert out == f"--param stop_loss_pct=1 --param fast={best['fast']} --param slow={best['slow']}\n"
    _, table, _ = run_cli(*argv)
    assert f"in a fleet file: params = {{ stop_loss_pct = 1.0, fast = {best['fast']}, slow = {best['slow']} }}" in table


def test_terminal_table_shows_trials_deflated_sharpe_and_gross_next_to_net(data):
    code, out, _ = run_cli("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "--jobs", "1")
    assert code == 0
    assert "9 trials run, 0 invalid combinations skipped" in out
    assert re.search(r"deflated Sharpe of the best: \d+% after 9 trials", out)
    header = next(line for line in out.splitlines() if line.lstrip().startswith("rank"))
    # ranked by the end equity's P/L, shown next to net, gross and fees
    assert header.split()[4:8] == ["total*", "net", "gross", "fees"]


def test_csv_and_html_of_a_walk_forward(data, tmp_path):
    csv_path, html_path = tmp_path / "trials.csv", tmp_path / "page.html"
    code, out, err = run_cli("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "--walk-forward", "2",
                             "--jobs", "1", "--csv", str(csv_path), "--html", str(html_path))
    assert code == 0, err
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 2 * 9 and {r["study"].rpartition("/")[2] for r in rows} == {"fold-1", "fold-2"}
    assert {"fast", "slow", "net_pnl", "gross_pnl", "fees"} <= set(rows[0])
    header = csv_path.read_text().splitlines()[0].split(",")
    assert len(header) == len(set(header)), header  # was "...,net_pnl,net_pnl,..."
    assert {r["ranked_by"] for r in rows} == {"total_pnl"}  # the default objective, named once; its values in its column
    for study in ("fold-1", "fold-2"):
        ranks = [float(r["total_pnl"]) for r in rows if r["study"].endswith(study)]
        assert ranks == sorted(ranks, reverse=True)
    page = html_path.read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page and not re.search(r"(src|href)=\"https?:", page)
    assert page.count("<rect") >= 2 * 9  # one heatmap cell per grid point and fold (plus fold bands)
    assert "Stitched out-of-sample equity" in page and "<polyline" in page
    assert "walk-forward efficiency" in out
