"""A 100-combination sma_cross grid on the 1M-candle file: 100 ``candlebot`` processes vs ``candlebot optimize``.

    python bench/optimize.py [--data ../shared/data/binance/btcusdt_1m_2023-2024.csv.gz] [--jobs 2]

Way 1 runs ``python -m candlebot --data FILE --strategy sma_cross --param fast=F --param slow=S --json``
once per combination, ``--jobs`` at a time (what a user looping over ``--param`` does). Way 2 runs
``python -m candlebot optimize --data FILE --strategy sma_cross --space SPACE --jobs N --json``: the
candles are loaded once and shared by forked workers. It prints both walls, the speed-up, and
checks that every combination's net P/L, fees and trades agree between the two. CPU seconds (of
the child processes) are printed too: on a shared machine they vary less than the walls.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "binance" / "btcusdt_1m_2023-2024.csv.gz"
SPACE = "fast=5..50:5 slow=60..240:20"  # 10 x 10, every combination valid (slow > fast)
COMBINATIONS = [(fast, slow) for fast in range(5, 55, 5) for slow in range(60, 260, 20)]
COMPARED = ("net_pnl", "gross_pnl", "fees", "trades")


def last_json(argv: list[str]) -> dict:
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    python = sys.executable

    optimize = [python, "-m", "candlebot", "optimize", "--data", args.data, "--strategy", "sma_cross", "--space", SPACE,
                "--jobs", str(args.jobs), "--json", "--top", "100"]
    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), _children_cpu()
    study = last_json(optimize)
    optimize_wall, optimize_cpu = time.perf_counter() - started, _children_cpu() - cpu

    def one(combination: tuple[int, int]) -> dict:
        fast, slow = combination
        return last_json([python, "-m", "candlebot", "--data", args.data, "--strategy", "sma_cross",
                          "--param", f"fast={fast}", "--param", f"slow={slow}", "--json"])

    started, cpu = time.perf_counter(), _children_cpu()
    with ThreadPoolExecutor(args.jobs) as pool:
        separate = dict(zip(COMBINATIONS, pool.map(one, COMBINATIONS)))
    separate_wall, separate_cpu = time.perf_counter() - started, _children_cpu() - cpu

    by_params = {(r["params"]["fast"], r["params"]["slow"]): r for r in study["ranked"]}
    mismatches = [c for c in COMBINATIONS if any(abs(by_params[c][k] - separate[c][k]) > 1e-9 for k in COMPARED)]
    print(f"data: {args.data}")
    print(f"grid: {SPACE} ({len(COMBINATIONS)} combinations), {args.jobs} at a time")
    print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  100 processes:  {separate_wall:7.1f} s wall {separate_cpu:7.1f} s CPU   python -m candlebot --data FILE "
          f"--strategy sma_cross --param fast=F --param slow=S --json")
    print(f"  optimize:       {optimize_wall:7.1f} s wall {optimize_cpu:7.1f} s CPU   python -m candlebot optimize --data FILE "
          f"--strategy sma_cross --space \"{SPACE}\" --jobs {args.jobs} --json")
    print(f"  speed-up:       {separate_wall / optimize_wall:7.1f}x wall {separate_cpu / optimize_cpu:5.1f}x CPU   results identical: "
          f"{'yes' if not mismatches and len(by_params) == len(COMBINATIONS) else f'NO ({mismatches[:3]})'}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
