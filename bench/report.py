"""HTML report at scale: build time, file size and time to interactive in headless Chromium.

    python bench/report.py [--data ../shared/data/binance/btcusdt_1m_2023-2024.csv.gz] [--strategy sma_cross]
                           [--fee 0] [--repeat 3] [--png]

Builds the report from a real backtest (in this process, timed apart from the backtest; and as a
whole ``candlebot --report`` process), then opens it in /usr/bin/chromium (headless, fresh profile,
no network) with playwright, ``--repeat`` times, and prints the time from navigation to the first
drawn, interactive chart (``window.__report.ready``), with the page's own stage timings. ``--fee 0``
keeps the account trading all along, for the most fills.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "binance" / "btcusdt_1m_2023-2024.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--strategy", default="sma_cross")
    parser.add_argument("--fee", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--png", action="store_true", help="also time the report's --png picture")
    args = parser.parse_args()

    from candlebot.cli.args import build_parser
    from candlebot.assembly import build_backtest, load_chart
    from candlebot.cli.backtest import settings_from_args
    from candlebot.cli.report_output import report_data
    from candlebot.events import EventBus
    from candlebot.output.html import build_html

    flags = ["--data", args.data, "--strategy", args.strategy, "--quiet"] + (["--fee", args.fee] if args.fee else [])
    setup = settings_from_args(build_parser().parse_args(flags))
    log = logging.getLogger("bench.report")
    log.setLevel(logging.WARNING)
    backtest = build_backtest(setup, load_chart(setup), EventBus())
    report = backtest.run()
    out = Path(tempfile.mkdtemp(prefix="candlebot-bench-")) / "report.html"
    builds, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        data = report_data(backtest, report)
        out.write_text(build_html(data), encoding="utf-8")
        builds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    fills = len(data.fills)
    print(f"data: {args.data}: {len(data.times):,} candles, {report.trades:,} trades, {fills:,} fills, "
          f"{len(data.lines)} indicator lines")
    print(f"report build (in process, after the backtest): best {min(builds):.2f} s wall ({min(cpu):.2f} s CPU), "
          f"median {statistics.median(builds):.2f} s")
    print(f"file size: {out.stat().st_size / 1e6:.2f} MB")
    if args.png:
        from candlebot.output.png import write_png

        started = time.perf_counter()
        write_png(data, str(out.with_suffix(".png")))
        print(f"png: {time.perf_counter() - started:.2f} s")

    whole, whole_cpu = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "candlebot", *flags, "--report", str(out)], cwd=REPO,
                                 stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        if status:
            sys.exit(f"candlebot --report failed with status {status}")
        whole.append(time.perf_counter() - started)
        whole_cpu.append(usage.ru_utime + usage.ru_stime)
    print(f"whole process 'candlebot --data ... --report' (load, backtest, report): best {min(whole):.2f} s wall, "
          f"{min(whole_cpu):.2f} s CPU (with its forked parser)")

    sys.path.insert(0, str(REPO / "tests"))
    from tests.report.browser import chromium_page

    ready = []
    for _ in range(args.repeat):
        with chromium_page() as page:
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            started = time.perf_counter()
            page.goto(out.as_uri())
            page.wait_for_function("window.__report && window.__report.ready", timeout=60_000, polling=10)
            ready.append(time.perf_counter() - started)
            state = page.evaluate("({t: __report.timings, markers: __report.drawnMarkers, fills: __report.fills})")
            if errors or state["markers"] != fills:
                sys.exit(f"report broken: errors {errors}, {state['markers']} markers for {fills} fills")
    print(f"time to interactive in headless Chromium (navigation -> first chart drawn): best {min(ready):.2f} s, "
          f"median {statistics.median(ready):.2f} s; page stages (ms since navigation): {json.dumps(state['t'])}")
    print(f"markers drawn at full view: {state['markers']:,} (= fills)")


if __name__ == "__main__":
    main()
