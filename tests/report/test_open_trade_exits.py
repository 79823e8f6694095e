"""A trade still open when the backtest's candles run out is not an exit (a new user's report): the summary said
"863 trades (..., 1 still open)" and also "exits  signal 862, stop loss 0, end of data 1". The exits row, the HTML
report's and ``--json``'s ``exit_reasons`` count closed trades only; the open one is named apart."""

from __future__ import annotations

import contextlib
import io
import json

from candlebot.cli import main


def _backtest(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["backtest", *argv])
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_an_open_trade_at_the_end_is_not_counted_as_an_exit(shared_data, tmp_path):
    run = ("--data", str(shared_data / "kraken/xbtusd_1h_2023q1.csv"), "--strategy", "sma_cross", "--param",
           "stop_loss_pct=2")  # this run ends in a trade
    summary = json.loads(_backtest(*run, "--json").splitlines()[-1])
    signal, stop_loss = summary["exit_reasons"]["signal"], summary["exit_reasons"]["stop_loss"]
    assert summary["open_trades"] == 1 and signal + stop_loss == summary["closed_trades"] == summary["trades"] - 1
    expected = f"signal {signal}, stop loss {stop_loss}; 1 still open at the end of the data"

    rows = dict(line.strip().split("  ", 1) for line in _backtest(*run).splitlines() if "  " in line.strip())
    assert rows["exits"].strip() == expected
    assert rows["trades"].endswith(", 1 still open)")
    assert set(summary["exit_reasons"]) == {"signal", "stop_loss"} and summary["open_at_end"] == 1

    report = tmp_path / "report.html"
    _backtest(*run, "--report", str(report))
    assert f"<td>exits</td><td class=num>{expected}</td>" in report.read_text()
