"""The order-book collector's figures (not tests): throughput, rows/s, memory, receive-to-stored lag.

    python bench/collector.py [--messages 100000] [--sections 1,2,3] [--postgres URL]

1. Throughput, in one process: pre-generated v2 update messages (JSON text, the simulator's books
   for 5 pairs at depth 10, correct checksums) are parsed, applied, verified and handed to the
   writer, which commits them to the store in batches on its own task; the clock stops when the
   last batch is committed. SQLite (WAL file in a temp folder) and PostgreSQL (--postgres, or a
   throwaway server like the tests' one). Goal: >= 20,000 messages/s at depth 10. The socket read
   and websocket framing are not included (section 3 runs the real process on a real socket).
2. Memory: a child process holds 20 symbols at depth 100 (20 feeds, books full, the writer and the
   SQLite store) and applies 20,000 messages; its VmRSS / VmHWM. Goal: <= 80 MiB. Also the real
   ``python -m candlebot.collector`` process against the simulator (6 pairs, depth 100) after 8 s.
3. Lag: the real collector process against the simulator (6 pairs, depth 10, ``--speed`` raised to
   a few hundred messages/s); the receive-to-commit lag samples it sends as StatsD
   ``candlebot.collector.store.lag``, p50/p99, and the messages/s it reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAIRS = ("XBTUSD", "ETHUSD", "XBTEUR", "XBTUSDT", "XBTUSDC")


def generate(pairs: int, depth: int, messages: int, out: Path) -> list[tuple[str, str, int, int]]:
    """Snapshots then updates as JSON lines; returns (pair, symbol, price_decimals, qty_decimals) per symbol."""
    from decimal import Decimal

    from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
    from candlebot.exchanges.kraken_sim.wsbook import DepthStream, generated_market

    known = offline_pairs()
    streams = []
    symbols = []
    for index in range(pairs):
        pair = find_pair(known, PAIRS[index % len(PAIRS)])
        market = generated_market(pair, seed=index + 1, origin=1_790_000_000.0, history_days=2,
                                  price=Decimal("30000") if "XBT" in pair.altname else Decimal("1900"), trade_lots=1000.0)
        market.symbol = f"S{index:02d}/{pair.altname}"
        streams.append(DepthStream(market, depth, random.Random(index)))
        symbols.append((f"P{index:02d}", market.symbol, pair.pair_decimals, pair.lot_decimals))
    second = 1_790_000_000
    written = 0
    with out.open("w") as stream:
        for s in streams:
            stream.write(json.dumps({"channel": "book", "type": "snapshot", "data": [s.snapshot(second)]}) + "\n")
        while written < messages:
            second += 1
            for s in streams:
                for data in s.advance(second):
                    stream.write(json.dumps({"channel": "book", "type": "update", "data": [data]}) + "\n")
                    written += 1
    return symbols


async def apply_and_store(db: str, symbols: list[tuple[str, str, int, int]], lines: Path, depth: int) -> dict[str, float]:
    import orjson

    from candlebot.collector.app import tune_gc
    from candlebot.collector.connection import now_us
    from candlebot.collector.feed import SymbolFeed
    from candlebot.collector.instruments import Instrument
    from candlebot.collector.storage import open_store
    from candlebot.collector.writer import Writer

    instruments = [Instrument(pair, symbol, p, q) for pair, symbol, p, q in symbols]
    store = open_store(db)
    await store.open(instruments)
    writer = Writer(store, max_pending=2_000_000)
    feeds = {i.symbol: SymbolFeed(i, depth, writer.offer, snapshot_interval_us=60_000_000) for i in instruments}
    raw = lines.read_bytes().splitlines()
    tune_gc()
    stop = asyncio.Event()
    task = asyncio.ensure_future(writer.run(stop))
    loads = orjson.loads
    started = time.perf_counter()
    for index, text in enumerate(raw):
        message = loads(text)
        recv = now_us()
        for data in message["data"]:
            feed = feeds[data["symbol"]]
            problem = feed.on_update(data, recv) if message["type"] == "update" else feed.on_snapshot(data, recv)
            if problem is not None:
                raise SystemExit(f"message {index}: {problem}")
        if index % 256 == 0:
            await asyncio.sleep(0)
    stop.set()
    await task
    elapsed = time.perf_counter() - started
    await store.close()
    return {"messages": len(raw), "rows": writer.rows_written, "seconds": elapsed}


def section_throughput(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        lines = Path(folder) / "messages.jsonl"
        symbols = generate(5, 10, args.messages, lines)
        targets = [("SQLite", f"sqlite:///{folder}/bench.sqlite")]
        server = None
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        else:
            from tests.support import postgres

            if postgres.available():
                server = postgres.start()
                targets.append(("PostgreSQL (throwaway server, fsync off)", server.create_database("bench_collector")))
        try:
            print(f"1. apply + verify + store, {args.messages:,} update messages, 5 pairs, depth 10, one process")
            for name, db in targets:
                result = asyncio.run(apply_and_store(db, symbols, lines, 10))
                print(f"   {name:<42} {result['messages'] / result['seconds']:>9,.0f} msg/s  "
                      f"{result['rows'] / result['seconds']:>9,.0f} rows/s  ({result['rows']:,} rows in {result['seconds']:.2f} s)")
            import orjson

            raw = lines.read_bytes().splitlines()
            from candlebot.collector.book import OrderBook

            books = {s[1]: OrderBook(10, s[2], s[3]) for s in symbols}
            started = time.perf_counter()
            for text in raw:
                data = orjson.loads(text)["data"][0]
                book = books[data["symbol"]]
                book.apply(book.asks, data["asks"])
                book.apply(book.bids, data["bids"])
                book.truncate()
                if book.checksum() != data["checksum"]:
                    raise SystemExit("checksum")
            elapsed = time.perf_counter() - started
            print(f"   {'(parse + apply + verify only, no store)':<42} {len(raw) / elapsed:>9,.0f} msg/s")
        finally:
            if server is not None:
                postgres.stop(server)


CHILD = """
import asyncio, json, sys, resource
sys.path.insert(0, {repo!r})
from bench.collector import apply_and_store
symbols = json.loads(open({symbols!r}).read())
asyncio.run(apply_and_store({db!r}, [tuple(s) for s in symbols], __import__('pathlib').Path({lines!r}), 100))
status = dict(line.split(':', 1) for line in open('/proc/self/status') if ':' in line)
print(status['VmRSS'].strip(), status['VmHWM'].strip())
"""


def section_memory(args: argparse.Namespace) -> None:
    print("2. memory")
    with tempfile.TemporaryDirectory() as folder:
        lines = Path(folder) / "messages.jsonl"
        symbols = generate(20, 100, 20_000, lines)
        (Path(folder) / "symbols.json").write_text(json.dumps(symbols))
        code = CHILD.format(repo=str(REPO), symbols=f"{folder}/symbols.json", db=f"sqlite:///{folder}/mem.sqlite",
                            lines=str(lines))
        # the child reads the message file line list in one go (~20k lines): measured, then subtracted below
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        print(f"   20 symbols at depth 100, 20,000 messages applied and stored: VmRSS {out[0]} {out[1]}, "
              f"peak {out[2]} {out[3]} (includes the {lines.stat().st_size / 2**20:.1f} MiB message file held as text)")
    with Simulated(pairs="XBTUSD,ETHUSD,ETHXBT,XBTEUR,XBTUSDT,XBTUSDC", speed=1.0) as sim:
        with tempfile.TemporaryDirectory() as folder:
            proc = sim.collector(f"sqlite:///{folder}/real.sqlite", depth=100)
            time.sleep(8)
            status = dict(line.split(":", 1) for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines() if ":" in line)
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
            print(f"   python -m candlebot.collector, 6 pairs at depth 100 on a real socket, after 8 s: VmRSS {status['VmRSS'].strip()}, "
                  f"peak {status['VmHWM'].strip()}")


class Simulated:
    """A simulator process (REST + WebSocket) and collector processes against it."""

    def __init__(self, pairs: str, speed: float) -> None:
        self.pairs, self.speed = pairs, speed

    def __enter__(self) -> Simulated:
        self.sim = subprocess.Popen([sys.executable, "-m", "candlebot.exchanges.kraken_sim", "--ws-pairs", self.pairs, "--speed",
                                     str(self.speed), "--log-level", "WARNING"], stdout=subprocess.PIPE, text=True, cwd=REPO)
        self.http = self.sim.stdout.readline().split()[-1]
        self.ws = self.sim.stdout.readline().split()[-1]
        return self

    def collector(self, db: str, depth: int, statsd_port: int | None = None) -> subprocess.Popen:
        metrics = ["--statsd-host", "127.0.0.1", "--statsd-port", str(statsd_port)] if statsd_port else ["--no-statsd"]
        return subprocess.Popen([sys.executable, "-m", "candlebot.collector", "--pairs", self.pairs, "--depth", str(depth), "--db", db,
                                 "--ws-url", self.ws, "--rest-url", self.http, "--no-slack", "--log-level", "WARNING",
                                 *metrics], cwd=REPO)

    def __exit__(self, *exc: object) -> None:
        self.sim.terminate()
        self.sim.wait(10)


def section_lag(args: argparse.Namespace) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    lines: list[str] = []
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            try:
                lines.extend(sock.recv(65535).decode().split("\n"))
            except (socket.timeout, OSError):
                continue

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    with Simulated(pairs="XBTUSD,ETHUSD,ETHXBT,XBTEUR,XBTUSDT,XBTUSDC", speed=args.speed) as sim:
        with tempfile.TemporaryDirectory() as folder:
            proc = sim.collector(f"sqlite:///{folder}/lag.sqlite", depth=10, statsd_port=sock.getsockname()[1])
            time.sleep(args.lag_seconds)
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    time.sleep(0.3)
    done.set()
    reader.join(1)
    sock.close()
    lags = sorted(float(l.split(":")[1].split("|")[0]) for l in lines if l.startswith("candlebot.collector.store.lag:"))
    messages = sum(float(l.split(":")[1].split("|")[0]) for l in lines if l.startswith("candlebot.collector.messages:"))
    if not lags:
        raise SystemExit("no lag samples received")
    q = statistics.quantiles(lags, n=100)
    print(f"3. real process, real socket, 6 pairs at depth 10, simulator --speed {args.speed}: "
          f"{messages / args.lag_seconds:,.0f} msg/s over {args.lag_seconds:.0f} s")
    print(f"   receive -> committed: p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms ({len(lags)} samples)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--sections", default="1,2,3")
    parser.add_argument("--postgres", help="postgresql:// URL of an empty database (default: a throwaway server)")
    parser.add_argument("--speed", type=float, default=4.0, help="section 3: simulator speed (default 4)")
    parser.add_argument("--lag-seconds", type=float, default=15.0)
    args = parser.parse_args()
    sections = {s.strip() for s in args.sections.split(",")}
    if "1" in sections:
        section_throughput(args)
    if "2" in sections:
        section_memory(args)
    if "3" in sections:
        section_lag(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
