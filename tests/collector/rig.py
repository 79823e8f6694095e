"""A collector process against the in-process Kraken simulator (REST + WebSocket), with a StatsD listener."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from candlebot.errors import ConfigError
from candlebot.collector import read
from candlebot.collector.storage import open_reader
from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig
from tests.sinks.servers import UdpCollector

REPO = Path(__file__).resolve().parents[2]
PAIRS = ("XBTUSD", "ETHUSD", "ETHXBT")
SYMBOLS = {"XBTUSD": "BTC/USD", "ETHUSD": "ETH/USD", "ETHXBT": "ETH/BTC"}


@dataclass
class Rig:
    db: str
    tmp: Path
    pairs: tuple[str, ...] = PAIRS
    sim: KrakenSimulator = field(init=False)
    ws_url: str = field(init=False)
    statsd: UdpCollector = field(init=False)
    process: subprocess.Popen[str] | None = None

    def __post_init__(self) -> None:
        self.sim = KrakenSimulator(SimConfig(pair="XBTUSD", seed=3)).start()
        self.ws_url = self.sim.serve_websocket(self.pairs)
        self.statsd = UdpCollector()

    # -- the collector process ----------------------------------------------------------------------------------

    def start(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        argv = [sys.executable, "-m", "candlebot.collector", "--pairs", ",".join(self.pairs), "--db", self.db,
                "--ws-url", self.ws_url, "--rest-url", self.sim.url, "--stall-timeout", "1", "--resync-timeout", "1",
                "--snapshot-interval", "3", "--statsd-host", "127.0.0.1", "--statsd-port", str(self.statsd.port),
                "--name", "test-collector", *(extra or ("--no-slack",))]
        env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.process = subprocess.Popen(argv, cwd=self.tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        return self.process

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> tuple[int, float, str]:
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        elapsed = time.monotonic() - started
        stderr = self.process.stderr.read() if self.process.stderr else ""
        self.process = None
        return code, elapsed, stderr

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.sim.stop()
        self.statsd.close()

    # -- what the simulator says --------------------------------------------------------------------------------

    def admin(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(urllib.request.Request(self.sim.url + path, data=data), timeout=5) as reply:
            return json.loads(reply.read())

    def fired(self, kind: str) -> int:
        return int(self.admin("/admin/faults").get("ws_faults", {}).get(kind, {}).get("fired", 0))

    def depth(self, pair: str, count: int = 10) -> dict[str, list[tuple[Decimal, Decimal]]]:
        with urllib.request.urlopen(f"{self.sim.url}/0/public/Depth?pair={pair}&count={count}", timeout=5) as reply:
            (book,) = json.loads(reply.read())["result"].values()
        return {side: [(Decimal(p), Decimal(q)) for p, q, _ in book[side]] for side in ("asks", "bids")}

    # -- what the database holds --------------------------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows, or [] before the collector has created its schema."""
        try:
            reader = open_reader(self.db)
        except ConfigError:
            return []
        try:
            return reader._query(sql, params)
        finally:
            reader.close()

    def gaps(self) -> list[tuple[str, int, int, str]]:
        return [(pair, int(a), int(b), reason) for pair, a, b, reason in self.query(
            "SELECT s.pair, g.start_local, g.end_local, g.reason FROM gaps g JOIN symbols s ON s.id = g.symbol_id "
            "ORDER BY g.end_local")]

    def snapshots(self) -> list[tuple[str, int, str]]:
        return [(pair, int(t), reason) for pair, t, reason in self.query(
            "SELECT s.pair, n.ts_local, n.reason FROM snapshots n JOIN symbols s ON s.id = n.symbol_id ORDER BY n.ts_local")]

    def stored_book(self, pair: str) -> dict[str, list[tuple[Decimal, Decimal]]] | None:
        try:
            book = read.book_at(self.db, pair, time.time() + 1)
        except (read.NoBook, Exception):  # noqa: BLE001 - nothing stored yet
            return None
        return {"asks": [(p.normalize(), q.normalize()) for p, q in book.asks],
                "bids": [(p.normalize(), q.normalize()) for p, q in book.bids]}

    def books_agree(self, pair: str) -> bool:
        expected = {side: [(p.normalize(), q.normalize()) for p, q in levels] for side, levels in self.depth(pair).items()}
        return self.stored_book(pair) == expected

    def metric_sum(self, name: str, **tags: str) -> float:
        return sum(d.value for d in self.statsd.datagrams()
                   if d.name == name and all(d.tag(k) == v for k, v in tags.items()))
