"""What the diary costs a running bot, and how long ``candlebot status`` and ``candlebot report`` take on a full one.

    python bench/bot_report.py [--candles 200000]

A bot file is filled with ``--candles`` one-minute candles (a random walk, two indicator values each, the
diary's bound) through the diary itself; then it times: one diary batch as a live bot writes it (a closed
candle, a poll, a heartbeat), the trading thread's share (a queue append), ``candlebot status`` and
``candlebot report`` as processes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from candlebot.candle import Candle  # noqa: E402
from candlebot.live.diary import Diary  # noqa: E402
from candlebot.events import BotStarted, CandleClosed, Heartbeat, TickerPolled  # noqa: E402
from candlebot.identity import BotIdentity  # noqa: E402
from candlebot.output.sinks.queued import QueuedSink  # noqa: E402
from candlebot.live.store import BotStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=200_000)
    n = parser.parse_args().candles
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state"
        path = state / "bots" / f"{BotIdentity.from_name('benchbot').label}.sqlite"
        store = BotStore(path, now=time.time)
        store.bind(pair="XXBTZUSD", start_cash=Decimal("1000"))
        diary = Diary(BotStore(path, now=time.time, create=False), 60, {"price_decimals": "1", "cost_decimals": "5"})
        rng = np.random.default_rng(7)
        closes = 30_000 + np.cumsum(rng.normal(0, 5, n))
        t0 = 1_700_000_040 - n * 60
        diary.deliver([BotStarted(t0, "benchbot", "XBTUSD", "sma_cross", "paper")])

        def batch(i: int) -> list:
            c = float(closes[i])
            t = t0 + 60 * i
            return [CandleClosed(t + 60.1, Candle(t, c, c + 3, c - 3, c, 1.5), {"fast": c - 1, "slow": c + 1}, Decimal(1000), Decimal(1000), 0),
                    TickerPolled(t + 60.1, c, Candle(t + 60, c, c, c, c, 0.0)), Heartbeat(t + 60.1, 0)]

        chunk = 5_000
        for start in range(0, n - 1000, chunk):
            diary.deliver([e for i in range(start, min(start + chunk, n - 1000)) for e in batch(i)])
        timings = []
        for i in range(n - 1000, n):
            events = batch(i)
            started = time.perf_counter()
            diary.deliver(events)
            timings.append(time.perf_counter() - started)
        print(f"diary batch (closed candle + poll + heartbeat) on a file of {n:,} candles: "
              f"median {statistics.median(timings) * 1e3:.2f} ms, p99 {np.percentile(timings, 99) * 1e3:.2f} ms (worker thread)")

        class Null:
            name = "null"

            def deliver(self, events) -> None:
                pass

            def close(self, deadline: float) -> None:
                pass

        queued = QueuedSink(Null(), capacity=1_000_000)
        events = [e for i in range(10_000) for e in batch(i)]
        started = time.perf_counter()
        for event in events:
            queued(event)
        per_event = (time.perf_counter() - started) / len(events)
        queued.close()
        print(f"trading thread: {per_event * 1e6:.2f} us per diary event (queue append)")
        diary.close(0)
        store.close()
        print(f"state file: {path.stat().st_size / 1e6:.1f} MB")

        for name, argv in (("status", ["status", "--state-dir", str(state)]),
                           ("report", ["report", "--name", "benchbot", "--state-dir", str(state), "-o", str(Path(folder) / "r.html")])):
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "candlebot", *argv], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
            print(f"candlebot {name}: {time.perf_counter() - started:.2f} s (whole process)")


if __name__ == "__main__":
    main()
