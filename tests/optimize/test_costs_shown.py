"""Every optimize result names the costs its trials ran with (the new-user review: two studies run with and without
--spread showed tables that did not say which was which)."""

from __future__ import annotations

import json

import pytest

from tests.optimize.support import run_cli

SPACE = "fast=4..12:4 slow=20..40:10"


@pytest.fixture()
def data(shared_data) -> str:
    return str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv")


def test_the_table_header_shows_fee_spread_and_slippage(data):
    code, out, err = run_cli("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "--jobs", "1",
                             "--spread", "0.04%", "--slippage-bps", "3")
    assert code == 0, err
    lines = out.splitlines()
    costs = lines[1]  # under the study line, above the ranked table
    assert costs == ("costs per fill: fee 0.26% (XBTUSD's taker fee), spread 0.04% (half of it paid on each fill), "
                     "slippage 3 bps"), out
    assert lines[2].lstrip().startswith("rank")
    _, plain, _ = run_cli("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "--jobs", "1",
                          "--fee", "0.1%")
    assert "costs per fill: fee 0.1%, no spread, slippage 0 bps" in plain.splitlines()  # not "spread 0% (half of it ...)"


def test_json_html_and_walk_forward_carry_the_costs(data, tmp_path):
    argv = ("optimize", "--data", data, "--strategy", "sma_cross", "--space", SPACE, "--jobs", "1", "--spread", "0.0004")
    code, out, err = run_cli(*argv, "--json")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["costs"] == {
        "fee_rate": "0.0026", "fee_source": "XBTUSD's taker fee", "spread": "0.0004", "slippage_bps": "0"}
    page = tmp_path / "walk.html"
    code, out, err = run_cli(*argv, "--walk-forward", "2", "--html", str(page))
    assert code == 0, err
    assert out.splitlines()[1].startswith("costs per fill: fee 0.26% (XBTUSD's taker fee), spread 0.04% ")
    assert "costs per fill: fee 0.26% (XBTUSD&#x27;s taker fee), spread 0.04% " in page.read_text()
