"""This checkout against another one (a baseline commit), as ratios of paired runs alternating in one call.

    git worktree add /tmp/base19 <rev>
    python bench/ab.py --baseline /tmp/base19 [--rounds 5] [--only backtest|latency]
        [--orders 30] [--rss-seconds 15] [--data FILE]

Why: "within noise" needs both trees measured side by side on the same (shared, busy) machine; a figure taken
alone an hour apart says nothing. Each round runs the two trees one right after the other, the order swapped
every round (neither tree always gets the warmer machine), and each measure is reported as the ratio
this / baseline: median, min and max over the rounds (1.00x: the same; > 1: this checkout is slower/larger).

- **backtest** (what ``bench/backtest.py`` times): ``python -m candlebot --data FILE --strategy S --json`` with
  a warm candle cache (each tree its own, filled once before the rounds), for sma_cross and macd; whole-process
  wall time, CPU time (user + system), the run's own ``elapsed_s`` (engine loop and report) and peak RSS.
- **latency**: each tree's own ``bench/latency.py --orders N --rss-seconds S`` (a live bot against the Kraken
  simulator on loopback, then a paper bot's footprint): reaction p50 and p99, steady RSS and CPU share.

Every child runs in its tree's folder with only that tree on ``PYTHONPATH``: each measures its own code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = (REPO.parent / "shared" / "data" / "binance" / "btcusdt_1m_2023-2024.csv.gz").resolve()
STRATEGIES = ("sma_cross", "macd")
LATENCY_LINE = re.compile(r"p50 (\d+) us, p99 (\d+) us")
FOOTPRINT_LINE = re.compile(r"RSS ([\d.]+) MiB, CPU ([\d.]+)%")

Measures = dict[str, float]


class RunFailed(Exception):
    """A child exited non-zero: its round is dropped (the others still count), and its stderr's end is shown."""


def in_tree(tree: Path, argv: list[str]) -> tuple[float, float, str, float]:
    """(wall s, peak RSS MiB, stdout, CPU s) of ``argv`` run in ``tree`` with only that tree on the path (the
    editable install points at another checkout), and a runtime dir of its own: the latency bench's bots use the
    tests' fixed API key, which a bench or test run elsewhere on the machine may hold from another state dir
    (the key register would refuse the start)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory(prefix="candlebot-ab-run-") as runtime:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, cwd=tree,
                                 env={**os.environ, "PYTHONPATH": str(tree), "CANDLEBOT_RUNTIME_DIR": runtime})
        out = child.stdout.read().decode() if child.stdout else ""
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if status:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RunFailed(f"{tree}: {' '.join(argv[1:])} exited with status {status >> 8}: {' | '.join(tail)}")
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def backtest(tree: Path, data: str, strategy: str, cache: Path) -> Measures:
    wall, rss, out, cpu = in_tree(tree, [sys.executable, "-m", "candlebot", "--data", data, "--strategy", strategy,
                                         "--json", "--cache-dir", str(cache)])
    report = json.loads(out.strip().splitlines()[-1])
    return {"wall": wall, "cpu": cpu, "loop": float(report["elapsed_s"]), "peak MiB": rss,
            "trades": float(report["trades"]), "net_pnl": float(report["net_pnl"])}  # the same results: 1.00x


def latency(tree: Path, orders: int, rss_seconds: float) -> Measures:
    _, _, out, _ = in_tree(tree, [sys.executable, "bench/latency.py", "--orders", str(orders),
                                  "--rss-seconds", str(rss_seconds)])
    reaction, footprint = LATENCY_LINE.search(out), FOOTPRINT_LINE.search(out)
    if not (reaction and footprint):
        raise RunFailed(f"{tree}: bench/latency.py printed no figures: {out!r}")
    return {"p50 us": float(reaction[1]), "p99 us": float(reaction[2]), "RSS MiB": float(footprint[1]),
            "CPU %": float(footprint[2])}


def paired(label: str, rounds: int, this: Callable[[], Measures], base: Callable[[], Measures]) -> None:
    """Runs both ``rounds`` times, alternating which goes first, and prints each measure's ratio this / base."""
    pairs: list[tuple[Measures, Measures]] = []
    for round_ in range(rounds):
        try:
            if round_ % 2:
                b = base()
                a = this()
            else:
                a = this()
                b = base()
        except RunFailed as failed:
            print(f"  {label} round {round_ + 1} dropped: {failed}", flush=True)
            continue
        pairs.append((a, b))
        print(f"  {label} round {round_ + 1}: " + ", ".join(f"{k} {a[k]:g}/{b[k]:g}" for k in a), flush=True)
    if not pairs:
        print(f"{label:<20} no round completed", flush=True)
        return
    for key in pairs[0][0]:
        ratios = [a[key] / b[key] for a, b in pairs if b[key]]
        if not ratios:
            continue
        print(f"{label:<20} {key:<9} this/baseline median {statistics.median(ratios):.2f}x "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f}); medians {statistics.median(a[key] for a, _ in pairs):g} "
              f"vs {statistics.median(b[key] for _, b in pairs):g}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, metavar="CHECKOUT",
                        help="the other tree, e.g. a `git worktree add` of the commit before a change")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("backtest", "latency"))
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--orders", type=int, default=30, help="orders per latency run (one a second)")
    parser.add_argument("--rss-seconds", type=float, default=15)
    args = parser.parse_args()
    base = args.baseline.resolve()
    if not (base / "candlebot" / "__main__.py").is_file():
        sys.exit(f"--baseline: {base} is not a candlebot checkout")
    data = str(Path(args.data).resolve())
    print(f"this {REPO} vs baseline {base}; {args.rounds} rounds; load average {os.getloadavg()[0]:.1f}", flush=True)

    if args.only in (None, "backtest"):
        with tempfile.TemporaryDirectory(prefix="candlebot-ab-") as scratch:
            for strategy in STRATEGIES:
                caches = {tree: Path(scratch) / f"{name}-cache" for name, tree in (("this", REPO), ("base", base))}
                for tree, cache in caches.items():
                    backtest(tree, data, strategy, cache)  # fills the warm cache
                paired(f"backtest {strategy}", args.rounds,
                       lambda s=strategy: backtest(REPO, data, s, caches[REPO]),
                       lambda s=strategy: backtest(base, data, s, caches[base]))
    if args.only in (None, "latency"):
        paired("latency", args.rounds, lambda: latency(REPO, args.orders, args.rss_seconds),
               lambda: latency(base, args.orders, args.rss_seconds))


if __name__ == "__main__":
    try:
        main()
    except RunFailed as failed:  # before the rounds (filling a cache): nothing to compare
        sys.exit(str(failed))
