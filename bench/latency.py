"""A running bot's reaction time, memory and CPU, against the Kraken simulator on loopback.

    python bench/latency.py [--orders 120] [--rss-seconds 60]

1. Latency: a live bot (in this process) with a strategy that trades on every
   candle (1-second candles, polling every 50 ms); for each order, the time
   from the ticker reply that closed the candle being parsed to the AddOrder
   request leaving (a timing transport mounted on the adapter's requests
   session sees it last). The simulator runs as its own process.
2. Footprint: a paper bot as its own process with ``-t 5`` for ``--rss-seconds``:
   steady-state RSS and CPU share, read from /proc.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests.adapters

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from candlebot.cli.args import build_parser  # noqa: E402
from candlebot.assembly import build_bot  # noqa: E402
from candlebot.cli.bot import settings_from_args  # noqa: E402
from candlebot.clock import LiveClock  # noqa: E402
from tests.support.bots import FLIP, KEY, ONE_SECOND, SECRET  # noqa: E402


def start_simulator(folder: Path) -> tuple[subprocess.Popen, str]:
    key_file = folder / "sim.key"
    key_file.write_text(f"{KEY}\n{SECRET}\n")
    key_file.chmod(0o600)
    sim = subprocess.Popen([sys.executable, "-m", "candlebot.exchanges.kraken_sim", "--port", "0", "--tier", "none", "--key-file", str(key_file),
                            "--balance", "ZUSD=1000000000", "--log-level", "WARNING"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    first = sim.stdout.readline().strip() if sim.stdout else ""
    if not first.startswith("listening on "):
        sys.exit(f"simulator did not start: {first!r}")
    return sim, first.split()[-1]


class TimingAdapter(requests.adapters.HTTPAdapter):
    """The last hop before the socket: records when each AddOrder request leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        if request.url.endswith("/0/private/AddOrder"):
            self.sent.append(time.perf_counter())
        return super().send(request, **kwargs)


class ParsedTickers:
    """Wraps the bot's exchange: notes when each ticker reply has been parsed."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.parsed: list[float] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def ticker(self, pair: str):  # type: ignore[no-untyped-def]
        ticker = self.inner.ticker(pair)  # type: ignore[attr-defined]
        self.parsed.append(time.perf_counter())
        return ticker


def measure_latency(url: str, folder: Path, orders: int) -> list[float]:
    key_file = folder / "bot.key"
    key_file.write_text(f"{KEY}\n{SECRET}\n")
    key_file.chmod(0o600)
    args = build_parser().parse_args([
        "-x", "kraken", "-c", "XBTUSD", "-p", ONE_SECOND, "-t", "0.05", "--strategy", FLIP, "--live", "--key-file", str(key_file),
        "--cash", "100000", "--kraken-url", url, "--kraken-tier", "none", "--state-dir", str(folder / "state"),
        "--log-dir", str(folder / "logs"), "--name", "latency", "--quiet",
    ])
    stop = threading.Event()
    bot = build_bot(settings_from_args(args), LiveClock(interrupt=stop), stop)
    transport = TimingAdapter()
    bot.runtime.exchange.kraken.client.session.mount("http://", transport)  # type: ignore[attr-defined]
    tickers = ParsedTickers(bot.runtime.exchange)
    bot.runtime.exchange = tickers  # type: ignore[assignment]
    worker = threading.Thread(target=bot.runtime.run, daemon=True)
    worker.start()
    while len(transport.sent) < orders + 2:
        time.sleep(0.2)
        if not worker.is_alive():
            sys.exit("the bot stopped early; see " + str(folder / "logs"))
    stop.set()
    worker.join(10)
    bot.close()
    latencies = []
    for sent in transport.sent[2:]:  # the first orders pay for warm caches and connections
        before = [t for t in tickers.parsed if t <= sent]
        latencies.append(sent - before[-1])
    return latencies


def measure_footprint(url: str, folder: Path, seconds: float) -> tuple[float, float]:
    bot = subprocess.Popen([sys.executable, "-m", "candlebot", "-x", "kraken", "-c", "XBTUSD", "-p", "1", "-t", "5", "--strategy", "sma_cross",
                            "--kraken-url", url, "--kraken-tier", "none", "--state-dir", str(folder / "state2"),
                            "--log-dir", str(folder / "logs2"), "--name", "footprint", "--quiet"], cwd=REPO)
    time.sleep(5)
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{bot.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    start_cpu, start = cpu(), time.monotonic()
    time.sleep(seconds)
    used, wall = cpu() - start_cpu, time.monotonic() - start
    rss_kb = next(int(line.split()[1]) for line in Path(f"/proc/{bot.pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    bot.terminate()
    bot.wait(10)
    return rss_kb / 1024, 100 * used / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=120)
    parser.add_argument("--rss-seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sim, url = start_simulator(folder)
        try:
            latencies = sorted(measure_latency(url, folder, args.orders))
            p50 = statistics.median(latencies) * 1e6
            p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1e6
            print(f"ticker parsed -> AddOrder leaving, {len(latencies)} orders: p50 {p50:.0f} us, p99 {p99:.0f} us, max {latencies[-1] * 1e6:.0f} us")
            rss, cpu = measure_footprint(url, folder, args.rss_seconds)
            print(f"paper bot at -t 5 for {args.rss_seconds:g} s: steady-state RSS {rss:.1f} MiB, CPU {cpu:.2f}%")
        finally:
            sim.terminate()
            sim.wait(10)


if __name__ == "__main__":
    main()
