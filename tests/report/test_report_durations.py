"""The HTML report's durations read as the text summary's: "longest drawdown 13d 20h", not "332.0 h"; "holding
24m 49s", not "0.0 h" (a bot on 6 s candles), checked in headless Chromium."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.report.browser import CHROMIUM, chromium_page

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _shown(html) -> dict[str, str]:
    if not CHROMIUM.exists():
        pytest.fail("chromium not installed (.ci/run installs the Debian package)")
    with chromium_page() as page:
        page.goto(html.as_uri())
        rows = page.evaluate("""() => [...document.querySelectorAll('#cb-metrics tr')].slice(1)
                                      .map(r => [r.cells[0].innerText, r.cells[1].innerText])""")
    return dict(rows)


def _summary(stdout: str) -> dict[str, str]:
    return dict(line.strip().split("  ", 1) for line in stdout.splitlines() if "  " in line.strip())


@pytest.mark.parametrize("data, flags", [
    ("kraken/xbtusd_1h_2023q1.csv", ()),  # days under water
    ("kraken/xbtusd_trades_2019-07-01.csv", ("-p", "0.1")),  # 6 s candles: trades held for minutes
])
def test_report_durations_are_the_summarys(shared_data, tmp_path, data, flags):
    html = tmp_path / "r.html"
    done = subprocess.run([sys.executable, "-m", "candlebot", "--data", str(shared_data / data), *flags, "--strategy", "sma_cross",
                           "--param", "fast=3", "--param", "slow=8", "--report", str(html)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    text = _summary(done.stdout)
    longest = text["max drawdown"].split("longest ", 1)[1]
    held = text["holding"].split(", exposure")[0].removeprefix("avg ").split(", max ")
    shown = _shown(html)
    assert shown["longest drawdown"] == longest and " h" not in longest
    assert shown["holding avg / max"] == f"{held[0]} / {held[1]}"
