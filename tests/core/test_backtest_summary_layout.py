"""The backtest summary is one right-aligned column of names: the rows the candle convention adds (gaps, tick,
spread) line up with the others. On data spanning two years the monthly block's second row (no name, indented
past the column) was taken for the widest name, and those rows were pushed six columns right."""

from __future__ import annotations

import contextlib
import io
import math

from candlebot.cli import main

DAY = 86_400
NOV_2023 = 1_698_796_800


def test_every_name_ends_in_one_column_when_the_monthly_block_spans_two_years(tmp_path):
    data = tmp_path / "two_years.csv"
    rows = ["time,open,high,low,close,volume"]
    for i in range(150):  # 2023-11-01 .. 2024-03-29: monthly % has a 2023 row and a 2024 row
        price = 30_000 + 2_000 * math.sin(i / 7)
        rows.append(f"{NOV_2023 + DAY * i},{price:.1f},{price * 1.01:.1f},{price * 0.99:.1f},{price * 1.002:.1f},1.5")
    data.write_text("\n".join(rows) + "\n")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["backtest", "--data", str(data), "--strategy", "sma_cross", "--param", "fast=3", "--param", "slow=8",
                     "--no-cache", "--spread", "0.1%"])
    assert code == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert any(line.strip().startswith("2024  ") for line in lines)  # the second row of the monthly block
    named = {line.lstrip().split("  ")[0]: line for line in lines if line.strip() and not line.strip()[:4].isdigit()}
    ends = {name: line.index(name) + len(name) for name, line in named.items()}
    assert {"candles", "gaps", "spread", "monthly %"} <= set(ends)
    assert set(ends.values()) == {ends["candles"]}, ends
