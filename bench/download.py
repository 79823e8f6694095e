"""Download throughput against the simulator: trades per second through ``candlebot download``.

    python bench/download.py [--hours 24] [--repeat 3]

Starts the Kraken simulator (generated market, one public trade per second, no rate counter) in this
process and runs ``python -m candlebot download -c XBTUSD -p 1 --since <now - hours> --pace 0`` as a
child into a fresh data directory, so every run pages ``hours * 3600`` trades (1000 a call), builds the
1-minute candles and checks them against OHLC. Prints the best whole-process wall time and trades/s,
and the paging rate the command itself reports (trades/s while fetching and storing).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with KrakenSimulator(SimConfig(tier="none", history_days=2)) as sim, tempfile.TemporaryDirectory() as scratch:
        since = int(time.time() - args.hours * 3600)
        best: tuple[float, float, str] | None = None
        for k in range(args.repeat):
            argv = [sys.executable, "-m", "candlebot", "download", "-c", "XBTUSD", "-p", "1", "--since", str(since),
                    "--pace", "0", "--kraken-url", sim.url, "--data-dir", str(Path(scratch) / str(k))]
            started = time.perf_counter()
            result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
            wall = time.perf_counter() - started
            if result.returncode:
                sys.exit(f"download failed: {result.stderr}")
            trades = int(re.search(r"([\d,]+) trades in", result.stdout).group(1).replace(",", ""))
            if best is None or wall < best[0]:
                best = (wall, trades / wall, result.stdout.strip())
        assert best is not None
        print(f"command: {' '.join(argv[1:])}")
        print(f"whole process: {best[0]:.2f} s, {best[1]:,.0f} trades/s")
        print(f"reported: {best[2]}")


if __name__ == "__main__":
    main()
