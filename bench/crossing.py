"""What ``crossed_above``/``crossed_below`` cost against the hand-written comparison they replaced.

    python bench/crossing.py [--data ../shared/data/binance/btcusdt_1m_2023-2024.csv.gz] [--repeat 5]
                             [--baseline CHECKOUT] [--strategies sma_cross,macd,stochastic,bollinger]

Two figures:
- per call, in this process: the inline test ``a[i] > b[i] and a[i - 1] <= b[i - 1]`` and the helper
  over two ``array('d')`` lines of 1M values (what a strategy reads), in ns per candle;
- whole backtests, as separate processes with a warm candle cache: ``python -m candlebot --data FILE
  --strategy S --json`` in this checkout and, with ``--baseline``, in another checkout (the code
  before the helper), alternating within each round; best wall and the CPU of that run.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = (REPO.parent / "shared" / "data" / "binance" / "btcusdt_1m_2023-2024.csv.gz").resolve()


def per_call(n: int = 1_000_000) -> None:
    sys.path.insert(0, str(REPO))
    from candlebot.strategy.crossing import crossed_above

    rng = random.Random(7)
    a = array("d", (rng.random() for _ in range(n)))
    b = array("d", (rng.random() for _ in range(n)))

    def inline() -> int:
        hits = 0
        for i in range(1, n):
            if a[i] > b[i] and a[i - 1] <= b[i - 1]:
                hits += 1
        return hits

    def helper() -> int:
        hits = 0
        for i in range(1, n):
            if crossed_above(a, b, i):
                hits += 1
        return hits

    def level() -> int:
        hits = 0
        for i in range(1, n):
            if crossed_above(a, 0.5, i):
                hits += 1
        return hits

    assert inline() == helper()
    for name, loop in (("inline", inline), ("crossed_above(a, b, i)", helper), ("crossed_above(a, 0.5, i)", level)):
        best = min(_timed(loop) for _ in range(5))
        print(f"{name:<26} {best / (n - 1) * 1e9:6.1f} ns per candle")


def _timed(loop) -> float:
    started = time.perf_counter()
    loop()
    return time.perf_counter() - started


def run(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        sys.exit(f"{' '.join(argv)} in {cwd} failed with status {status}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT", help="the same backtests run in another checkout")
    parser.add_argument("--strategies", default="sma_cross,macd,stochastic,bollinger")
    args = parser.parse_args()
    per_call()
    data = str(Path(args.data).resolve())
    checkouts = [("this checkout", REPO)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print(f"data: {data}")
    print(f"{'strategy':<12} {'code':<14} {'wall s':>7} {'cpu s':>6}")
    with tempfile.TemporaryDirectory(prefix="candlebot-bench-") as cache:
        for strategy in args.strategies.split(","):
            argv = [sys.executable, "-m", "candlebot", "--data", data, "--strategy", strategy, "--json", "--cache-dir", cache]
            run(argv, REPO)  # fills the cache
            best: dict[str, tuple[float, float]] = {}
            for _ in range(args.repeat):
                for name, cwd in checkouts:
                    result = run(argv, cwd)
                    if name not in best or result[0] < best[name][0]:
                        best[name] = result
            for name, _ in checkouts:
                print(f"{strategy:<12} {name:<14} {best[name][0]:7.2f} {best[name][1]:6.2f}")


if __name__ == "__main__":
    main()
