"""Whole-process backtest speed and memory: candlebot (first run and cached) vs the minimal reference.

    python bench/backtest.py [--data ../shared/data/binance/btcusdt_1m_2023-2024.csv.gz] [--repeat 3]

For sma_cross and macd it runs, as separate processes and alternating within each round:
- ``bench/reference_backtest.py`` (pandas read_csv + the same gap/tick convention + TA-Lib arrays + a bare loop);
- ``python -m candlebot --data FILE --strategy S --json --cache-dir NEW``: a first run, which parses the
  CSV and writes the candle cache (a new, empty cache directory every time);
- the same with a cache directory already filled: a later run;
- with ``--baseline CHECKOUT``, the same command run in another checkout (the code before the cache); with
  ``--baseline-cached`` too, that checkout reads the same warm cache (a like-for-like "candlebot cached");
  ``--cached-only`` times just those two (ratios then to "candlebot cached"), for more rounds in the same time.
It prints the best wall time of each, candles per second, the peak RSS (ru_maxrss of the child, from
wait4), the ratio to the reference, the CPU time of that run and, for candlebot, the best ``elapsed_s`` its
JSON report gives (the engine loop and the report, without interpreter start-up and candle loading).
Caches go to a temporary directory, never beside the data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = (REPO.parent / "shared" / "data" / "binance" / "btcusdt_1m_2023-2024.csv.gz").resolve()


def run(argv: list[str], cwd: Path = REPO) -> tuple[float, float, str, float]:
    """(wall s, peak RSS MiB, stdout, CPU s: user + system, less sensitive than wall to a busy machine)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd)
    out = child.stdout.read().decode() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status:
        sys.exit(f"{' '.join(argv)} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="also time `python -m candlebot` run in another checkout (e.g. the main branch, before the cache)")
    parser.add_argument("--cached-only", action="store_true",
                        help="time only the cached run (and the baseline): more rounds for a small difference")
    parser.add_argument("--baseline-cached", action="store_true",
                        help="the baseline checkout has the candle cache: give it the warm one, as 'candlebot cached'")
    args = parser.parse_args()

    args.data = str(Path(args.data).resolve())
    print(f"data: {args.data}")
    print(f"{'strategy':<10} {'engine':<18} {'wall s':>7} {'candles/s':>11} {'peak MiB':>9}  ratio  {'cpu s':>6}  {'loop s':>6}")
    with tempfile.TemporaryDirectory(prefix="candlebot-bench-") as scratch:
        warm = Path(scratch) / "warm"
        for strategy in ("sma_cross", "macd"):
            ours = [sys.executable, "-m", "candlebot", "--data", args.data, "--strategy", strategy, "--json",
                    "--cache-dir"]
            reference = [sys.executable, str(REPO / "bench/reference_backtest.py"), "--data", args.data,
                         "--strategy", strategy]
            run(ours + [str(warm)])  # fills the warm cache
            best: dict[str, tuple[float, float, str, float]] = {}
            loop: dict[str, float] = {}  # the run's own elapsed_s (engine loop and report, no start-up): best of the rounds
            for round_ in range(args.repeat):
                cold = Path(scratch) / f"cold-{strategy}-{round_}"
                runs = [("reference", reference, REPO), ("candlebot first", ours + [str(cold)], REPO),
                        ("candlebot cached", ours + [str(warm)], REPO)][2 if args.cached_only else 0:]
                if args.baseline:
                    runs.append(("baseline", ours + [str(warm)] if args.baseline_cached else ours[:-1], args.baseline))
                for name, argv, cwd in runs:
                    result = run(argv, cwd)
                    if name not in best or result[0] < best[name][0]:
                        best[name] = result
                    elapsed = _elapsed(result[2])
                    if elapsed is not None:
                        loop[name] = min(loop.get(name, elapsed), elapsed)
            candles = json.loads(best["candlebot cached"][2].strip().splitlines()[-1])["candles"]
            for name in [name for name, _, _ in runs]:
                wall, rss, _, cpu = best[name]
                ratio = wall / best["reference" if "reference" in best else "candlebot cached"][0]
                elapsed = f"{loop[name]:6.2f}" if name in loop else f"{'-':>6}"
                print(f"{strategy:<10} {name:<18} {wall:7.2f} {candles / wall:11,.0f} {rss:9.0f}  {ratio:.2f}x  {cpu:6.2f}  {elapsed}")


def _elapsed(stdout: str) -> float | None:
    """candlebot's --json report times its own run (``elapsed_s``); the reference prints no such line."""
    try:
        return float(json.loads(stdout.strip().splitlines()[-1])["elapsed_s"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


if __name__ == "__main__":
    main()
