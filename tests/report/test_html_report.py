"""The HTML report opened in a real headless Chromium: offline, drawn, every fill a marker, finer candles when zoomed."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from candlebot.data.source import load_chart
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from tests.conftest import REPO
from tests.report.browser import CHROMIUM, chromium_page

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def built(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    html, trades = folder / "report.html", folder / "trades.csv"
    result = subprocess.run(
        [sys.executable, "-m", "candlebot", "--data", str(shared_data / "kraken/xbtusdc_1m_2023q1.csv.gz"), "-c", "XBTUSDC",
         "--strategy", "sma_cross", "--param", "stop_loss_pct=1", "--report", str(html), "--trades-csv", str(trades), "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with open(trades) as handle:
        rows = list(csv.DictReader(handle))
    return html, rows, json.loads(result.stdout.splitlines()[-1]), folder


def test_the_report_is_one_offline_file(built):
    html, rows, summary, _ = built
    page = html.read_text()
    assert "<script src" not in page and "<link" not in page and "http://" not in page.split("cb-data")[0].lower()
    assert "id='cb-metrics'" in page and f"{summary['trades']}" in page
    assert html.stat().st_size < 3_000_000  # 129,600 candles


def test_chromium_draws_every_fill_and_finer_candles_when_zoomed(built, shared_data):
    if not CHROMIUM.exists():
        pytest.fail("chromium not installed (.ci/run installs the Debian package)")
    html, rows, summary, folder = built
    fills = len(rows) + sum(1 for r in rows if r["close_time"])
    assert fills > 100
    errors, requests = [], []
    with chromium_page() as page:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.as_uri())
        page.wait_for_function("window.__report && window.__report.ready", timeout=20_000)
        whole = page.evaluate("({level: __report.level, candles: __report.drawnCandles, markers: __report.drawnMarkers, fills: __report.fills})")
        assert whole["fills"] == whole["markers"] == fills  # every fill drawn at full view, none thinned out
        assert whole["level"] > 60 and whole["candles"] > 50  # 129,600 one-minute candles grouped for display
        assert _painted(page, "#cb-price canvas") > 0.02 and _painted(page, "#cb-equity canvas") > 0.002
        # the page unpacks the very numbers the backtest ran on: the file's, with flat candles for its gaps
        candles = load_chart(str(shared_data / "kraken/xbtusdc_1m_2023q1.csv.gz"), "XBTUSDC", None, None,
                             tick=find_pair(offline_pairs(), "XBTUSDC").tick_size)
        for i in (0, 1, 777, len(candles) - 1):
            t, o, h, low, c, equity = page.evaluate(f"__report.candleAt({i})")
            assert (t, o, h, low, c) == (candles.times[i], candles.opens[i], candles.highs[i], candles.lows[i], candles.closes[i])
        assert equity == pytest.approx(summary["final_equity"], rel=1e-9)  # the page's equity from the fills, as the metrics'

        box = page.locator("#cb-price .u-over").bounding_box()
        levels = [whole["level"]]
        for _ in range(3):  # drag-select a narrow slice in the middle: uPlot zooms in, the report swaps in finer candles
            y = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + box["width"] * 0.45, y)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.55, y, steps=5)
            page.mouse.up()  # uPlot sets the scale in the mouseup handler: the level is current once it returns
            levels.append(page.evaluate("__report.level"))
        assert levels == sorted(levels, reverse=True) and levels[-1] == 60 and page.evaluate("__report.drawnCandles") > 20

        shown = page.evaluate("""() => { const u = __report.charts[0], min = u.scales.x.min, max = u.scales.x.max;
            return {min, max}; }""")
        in_view = [r for r in rows if shown["min"] - 60 <= int(r["open_time"]) <= shown["max"]]
        in_view += [r for r in rows if r["close_time"] and shown["min"] - 60 <= int(r["close_time"]) <= shown["max"]]
        assert page.evaluate("__report.drawnMarkers") == len(in_view)

        page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(f"__report.level === {whole['level']}")
        assert page.evaluate("__report.drawnMarkers") == fills

        first = rows[0]
        page.evaluate(f"__report.zoomTo({int(first['open_time']) - 3600}, {int(first['open_time']) + 3600})")
        page.wait_for_function("__report.level === 60")
        where = page.evaluate(f"""() => {{ const u = __report.charts[0], p = {int(first['open_time'])};
            return {{x: u.valToPos(Math.floor(p / __report.level) * __report.level + __report.level / 2, 'x'),
                     y: u.valToPos({float(first['entry_price'])}, 'y')}}; }}""")
        page.mouse.move(box["x"] + where["x"], box["y"] + where["y"] + 4)
        tip = page.locator("#cb-tip")
        tip.wait_for(state="visible", timeout=5000)
        assert "BUY" in tip.inner_text() and first["volume"].rstrip("0") in tip.inner_text()

        shot = folder / "report-screenshot.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"report screenshot: {shot}")
    assert not errors, errors
    assert all(url.startswith("file://") for url in requests), requests  # nothing fetched from the network
    assert shot.stat().st_size > 20_000


def _painted(page, selector: str) -> float:
    """Share of the canvas's pixels that are not background (a blank canvas gives 0)."""
    return page.evaluate(f"""() => {{
        const c = document.querySelector('{selector}'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 230 || d[i + 1] < 230 || d[i + 2] < 230)) n++;
        return n / (c.width * c.height); }}""")


def test_the_time_axis_is_utc_whatever_the_browser_time_zone(shared_data, tmp_path):
    """The title, the hover and the monthly table say UTC: a viewer in New York must not see 8:00pm 6/30 for 00:00 7/1."""
    html = tmp_path / "r.html"
    result = subprocess.run([sys.executable, "-m", "candlebot", "--data", str(shared_data / "kraken/xbtusd_trades_2019-07-01.csv"),
                             "-p", "1", "--strategy", "sma_cross", "--report", str(html)], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    with chromium_page(timezone="America/New_York") as page:
        page.goto(html.as_uri())
        page.wait_for_function("window.__report && window.__report.ready", timeout=20_000)
        assert page.evaluate("new Date(0).getTimezoneOffset()") == 300  # the browser really is in New York
        labels = page.evaluate("__report.charts[0].axes[0]._values")  # uPlot 1.6.32's drawn tick labels (vendored)
    assert labels and any("7/1/19" in label for label in labels if label)
    assert not any("6/30" in label or "pm" in label for label in labels if label), labels
