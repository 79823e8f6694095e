"""What the sinks cost the trading thread, and a 1M-candle backtest with metrics off vs on.

    python bench/sinks.py [--data ../shared/data/binance/btcusdt_1m_2023-2024.csv.gz] [--repeat 5] [--events 200000]
                          [--sections 1,2,3] [--skip-on]

1. Per event, in process: ``bus.emit`` with no sink subscribed, then with the
   real StatsD sink (QueuedSink + DogStatsd to a UDP socket on loopback) and
   with StatsD + Slack (webhook to a local HTTP server), while their workers
   run. "added" is the difference to no sink: what the trading thread pays
   (enqueue, plus sharing the GIL with the workers). Goal: <= 5 us.
2. Whole process, ``python -m candlebot --data FILE --strategy sma_cross --json``:
   - "no sinks": a copy of this tree whose candlebot/cli/sinks.py is a stub
     that builds nothing (the build before the sinks existed);
   - "off": an unmodified copy of this tree (same place on disk), ``--statsd`` absent;
   - "on": the same, ``--statsd --statsd-port P`` with the bench reading P.
   Runs alternate; best and median of ``--repeat`` are printed (2 shared cores: take the best).
3. Where "on" goes, in process on the same candles: the engine alone; the
   engine building a CandleClosed per candle for a no-op subscriber (core
   cost); the same through a QueuedSink to a sink that does nothing; the real
   StatsD sink.
"""

from __future__ import annotations

import argparse
import http.server
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_DATA = REPO.parent / "shared" / "data" / "binance" / "btcusdt_1m_2023-2024.csv.gz"

STUB_SINKS = '''"""Bench stub: the sink wiring point before there were sinks (builds nothing)."""
from __future__ import annotations
import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class SinkTags:
    bot: str
    pair: str
    strategy: str
    mode: str
    quote: str | None = None


def add_sink_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metrics and alerts")
    group.add_argument("--statsd", action="store_true")


def build_sinks(args, bus, tags, **kwargs):
    return lambda: None
'''


# -- listeners -----------------------------------------------------------------------------


class UdpSink:
    """Reads and counts datagrams (so the kernel buffer never fills and drops them)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.payloads = 0
        self.lines: list[str] = []
        self.keep = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except (socket.timeout, OSError):
                continue
            self.payloads += 1
            if self.keep:
                self.lines.extend(data.decode().split("\n"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


class OkHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


# -- 1. per event ----------------------------------------------------------------------------


def sample_events() -> dict[str, object]:
    from candlebot.candle import Candle
    from candlebot.events import CandleClosed, Heartbeat, TradeClosed
    from candlebot.venue import Fill, Side
    from candlebot.trade import BotTrade

    buy = Fill("OBUY", 1, "XXBTZUSD", Side.BUY, 0.0, Decimal("42000.1"), Decimal("0.01"), Decimal("420.001"), Decimal("1.09"))
    sell = Fill("OSELL", 2, "XXBTZUSD", Side.SELL, 60.0, Decimal("43000"), Decimal("0.01"), Decimal("430"), Decimal("1.12"))
    candle = Candle(0, 42000.0, 42100.0, 41900.0, 42050.0, 1.0)
    return {
        "CandleClosed": CandleClosed(60.0, candle, {"sma_10": 42010.0, "sma_30": 41990.0}, Decimal("9000"), Decimal("10001"), 1),
        "TradeClosed": TradeClosed(60.0, BotTrade(1, buy).closed_by(sell), 0.01),
        "Heartbeat": Heartbeat(60.0, 0),
    }


def emit_cost(bus: object, event: object, events: int, rounds: int) -> float:
    emit = bus.emit  # type: ignore[attr-defined]
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(events):
            emit(event)
        best = min(best, (time.perf_counter() - started) / events)
        time.sleep(0.05)  # let the workers catch up between rounds, as between candles
    return best


def per_event(events: int, rounds: int) -> None:
    from candlebot.output.sinks.config import SinkConfig, SlackConfig
    from candlebot.output.sinks.wiring import start_sinks
    from candlebot.events import EventBus
    from candlebot.output.sinks.settings import StatsdAddress
    from candlebot.output.sinks.secret import Redactor, Secret
    from candlebot.output.sinks.tags import SinkTags

    udp = UdpSink()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OkHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    tags = SinkTags("bench", "XBTUSD", "sma_cross", "backtest")
    hook = Secret(f"http://127.0.0.1:{httpd.server_address[1]}/services/T/B/x")
    configs = {
        "no sink": None,
        "statsd": SinkConfig(StatsdAddress("127.0.0.1", udp.port), None, Redactor()),
        "statsd+slack": SinkConfig(StatsdAddress("127.0.0.1", udp.port), SlackConfig(webhook=hook), Redactor()),
    }
    print(f"1. bus.emit per event on the trading thread (best of {rounds} x {events} events)")
    print(f"   {'event':<14}{'no sink':>10}{'statsd':>10}{'added':>9}{'statsd+slack':>14}{'added':>9}   drops")
    for name, event in sample_events().items():
        row: dict[str, float] = {}
        drops = 0
        for label, config in configs.items():
            bus = EventBus()
            closer = start_sinks(config, bus, tags) if config is not None else None
            row[label] = emit_cost(bus, event, events, rounds)
            if closer is not None:
                closer()
                drops += sum(queue.dropped for queue in closer.queues)
        base = row["no sink"]
        print(f"   {name:<14}{base * 1e6:>8.2f}us{row['statsd'] * 1e6:>8.2f}us{(row['statsd'] - base) * 1e6:>+7.2f}us"
              f"{row['statsd+slack'] * 1e6:>12.2f}us{(row['statsd+slack'] - base) * 1e6:>+7.2f}us   {drops}")
    print(f"   ({udp.payloads} datagrams received)")
    httpd.shutdown()
    udp.close()


# -- 2. whole process ----------------------------------------------------------------------


def copy_tree(target: Path, *, stub: bool) -> Path:
    """This tree's packages; with ``stub`` the sink wiring is replaced by one that builds nothing."""
    for entry in REPO.iterdir():
        if entry.is_dir() and (entry / "__init__.py").exists() and entry.name != "tests":
            shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
    if stub:
        (target / "candlebot" / "cli" / "sinks.py").write_text(STUB_SINKS)
    return target


def timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"{' '.join(argv)} failed: {proc.stderr.strip()[-500:]}")
    return wall, proc.stdout


def wiring_cost_off(path: Path, rounds: int = 20) -> float:
    """Seconds a cli/sinks.py file costs a run with every sink off: its import, its flags, ``build_sinks``.

    Measured in a fresh process after the modules every run loads anyway (events, argparse with a parser
    already built); the file is loaded on its own, because candlebot.cli's __init__ imports the whole CLI.
    """
    code = f"""
import argparse, importlib.util, sys, time
import candlebot.events
parser = argparse.ArgumentParser()
parser.add_argument("--data")
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("cli_sinks", {str(path)!r})
sinks = importlib.util.module_from_spec(spec)
sys.modules["cli_sinks"] = sinks
spec.loader.exec_module(sinks)
sinks.add_sink_arguments(parser)
closer = sinks.build_sinks(parser.parse_args([]), candlebot.events.EventBus(), sinks.SinkTags("b", "XBTUSD", "s", "backtest"))
closer()
print(time.perf_counter() - started)
"""
    best = float("inf")
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", code], cwd=path.parents[2], capture_output=True, text=True, check=True).stdout
        best = min(best, float(out))
    return best


def whole_process(data: str, repeat: int, with_on: bool = True) -> None:
    udp = UdpSink()
    base = [sys.executable, "-m", "candlebot", "--data", data, "--strategy", "sma_cross", "--json"]
    with tempfile.TemporaryDirectory(prefix="candlebot-bench-") as tmp:
        stub = copy_tree(Path(tmp) / "stub", stub=True)
        this = copy_tree(Path(tmp) / "this", stub=False)
        runs = {
            "no sinks (stub build)": (base, stub),
            "off (--statsd absent)": (base, this),
            "on (--statsd)": ([*base, "--statsd", "--statsd-port", str(udp.port)], this),
        }
        if not with_on:
            del runs["on (--statsd)"]
        times: dict[str, list[float]] = {name: [] for name in runs}
        outputs: dict[str, str] = {}
        for argv, cwd in runs.values():  # warm the page cache and write the .pyc files
            timed(argv, cwd)
        names = list(runs)
        for rep in range(repeat):
            for name in names[rep % len(names):] + names[: rep % len(names)]:  # rotate: no run always follows another
                argv, cwd = runs[name]
                udp.keep = name.startswith("on")
                wall, out = timed(argv, cwd)
                times[name].append(wall)
                outputs[name] = out.strip().splitlines()[-1]
    udp.close()
    candles = outputs["off (--statsd absent)"].split('"candles": ')[1].split(",")[0]
    same = len({o.split('"elapsed_s"')[0] for o in outputs.values()}) == 1
    print(f"\n2. whole-process backtest, {Path(data).name}, sma_cross, {candles} candles ({repeat} runs each, alternating)")
    print(f"   {'':<24}{'best':>8}{'median':>9}{'vs no sinks':>13}")
    reference = min(times["no sinks (stub build)"])
    for name, values in times.items():
        best = min(values)
        print(f"   {name:<24}{best:>7.2f}s{statistics.median(values):>8.2f}s{(best / reference - 1) * 100:>+12.1f}%")
    with tempfile.TemporaryDirectory(prefix="candlebot-bench-") as tmp:
        stub_cost = wiring_cost_off(copy_tree(Path(tmp), stub=True) / "candlebot" / "cli" / "sinks.py")
    cost = wiring_cost_off(REPO / "candlebot" / "cli" / "sinks.py")
    print(f"   cli/sinks.py with every sink off (import, flags, build_sinks; best of 20 fresh processes): "
          f"{cost * 1e3:.2f} ms, stub {stub_cost * 1e3:.2f} ms, difference {(cost - stub_cost) * 1e3:+.2f} ms")
    if not with_on:
        return
    lines = [line for line in udp.lines if line]
    dropped = sum(float(line.split(":")[1].split("|")[0]) for line in lines if line.startswith("candlebot.sink.dropped:"))
    closed = sum(float(line.split(":")[1].split("|")[0]) for line in lines if line.startswith("candlebot.candles.closed:"))
    print(f"   on: {len(lines) // max(repeat, 1)} metric lines per run; candles.closed summed over the runs {closed:.0f}, "
          f"sink.dropped {dropped:.0f}; same summary in every run: {same}")


def where_on_goes(data: str, repeat: int) -> None:
    import logging

    from candlebot import assembly as bt
    from candlebot.cli.backtest import settings_from_args
    from candlebot.cli.args import build_parser
    from candlebot.events import EventBus
    from candlebot.output.sinks.settings import StatsdAddress
    from candlebot.output.sinks.queued import QueuedSink
    from candlebot.output.sinks.statsd import StatsdSink, statsd_client

    class NullSink:
        name = "null"

        def deliver(self, events: object) -> None:
            pass

        def close(self, deadline: float) -> None:
            pass

    udp = UdpSink()
    setup = settings_from_args(build_parser().parse_args(["--data", data, "--strategy", "sma_cross"]))
    chart = bt.load_chart(setup)
    log = logging.getLogger("bench.sinks")
    log.setLevel(logging.WARNING)

    def subscribe(kind: str, bus: EventBus) -> QueuedSink | None:
        if kind == "no-op subscriber (core: CandleClosed)":
            bus.subscribe(lambda event: None)
        elif kind == "QueuedSink -> null sink":
            queue = QueuedSink(NullSink())
            bus.subscribe(queue)
            return queue
        elif kind == "QueuedSink -> StatsdSink":
            queue = QueuedSink(StatsdSink(statsd_client(StatsdAddress("127.0.0.1", udp.port), ["bot:bench"])))
            bus.subscribe(queue)
            return queue
        return None

    kinds = ["engine alone", "no-op subscriber (core: CandleClosed)", "QueuedSink -> null sink", "QueuedSink -> StatsdSink"]
    best = {kind: float("inf") for kind in kinds}
    dropped = {kind: 0 for kind in kinds}
    for _ in range(max(1, repeat // 2)):
        for kind in kinds:
            bus = EventBus()
            backtest = bt.build_backtest(setup, chart, bus)
            queue = subscribe(kind, bus)
            started = time.perf_counter()
            backtest.run()
            if queue is not None:
                queue.close(5)
                dropped[kind] += queue.dropped
            best[kind] = min(best[kind], time.perf_counter() - started)
    udp.close()
    n = len(chart)
    print(f"\n3. where 'on' goes, in process, engine.run over {n} candles (best of {max(1, repeat // 2)})")
    previous = None
    for kind in kinds:
        extra = "" if previous is None else f"  {(best[kind] - best[previous]) / n * 1e6:+.2f} us/candle vs the line above"
        print(f"   {kind:<40}{best[kind]:>7.2f}s{extra}" + (f"  ({dropped[kind]} dropped)" if dropped[kind] else ""))
        previous = kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--sections", default="1,2,3", help="which parts to run (1 per event, 2 whole process, 3 where 'on' goes)")
    parser.add_argument("--skip-on", action="store_true", help="part 2 without the --statsd runs (off vs no sinks only)")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    if "1" in sections:
        per_event(args.events, args.repeat)
    if "2" in sections:
        whole_process(args.data, args.repeat, with_on=not args.skip_on)
    if "3" in sections:
        where_on_goes(args.data, args.repeat)


if __name__ == "__main__":
    main()
