"""The simulator's WebSocket v2 book feed: checksums right at any depth, REST Depth agrees, the CLI's two lines."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from decimal import Decimal
from typing import Any
from zlib import crc32

import pytest
import websockets

from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig
from tests.collector.rig import REPO

PLACES = {"BTC/USD": (1, 8), "ETH/USD": (2, 8)}


class DecimalBook:
    """An independent model: Decimal levels, the checksum from strings."""

    def __init__(self, depth: int, places: tuple[int, int]) -> None:
        self.depth, self.places = depth, places
        self.asks: dict[Decimal, Decimal] = {}
        self.bids: dict[Decimal, Decimal] = {}

    def apply(self, data: dict[str, Any]) -> None:
        for side, levels in (("asks", self.asks), ("bids", self.bids)):
            for level in data[side]:
                price, qty = Decimal(repr(level["price"])), Decimal(repr(level["qty"]))
                if qty == 0:
                    levels.pop(price, None)
                else:
                    levels[price] = qty
        self.asks = dict(sorted(self.asks.items())[:self.depth])
        self.bids = dict(sorted(self.bids.items(), reverse=True)[:self.depth])

    def checksum(self) -> int:
        p, q = self.places
        text = "".join(f"{price:.{p}f}".replace(".", "").lstrip("0") + f"{qty:.{q}f}".replace(".", "").lstrip("0")
                       for levels in (self.asks, self.bids) for price, qty in list(levels.items())[:10])
        return crc32(text.encode())


def depth(url: str, pair: str, count: int) -> dict[str, dict[Decimal, Decimal]]:
    with urllib.request.urlopen(f"{url}/0/public/Depth?pair={pair}&count={count}", timeout=5) as reply:
        (book,) = json.loads(reply.read())["result"].values()
    return {side: {Decimal(p).normalize(): Decimal(q).normalize() for p, q, _ in book[side]} for side in ("asks", "bids")}


@pytest.mark.integration
@pytest.mark.slow
def test_every_message_at_depth_25_carries_the_right_checksum_and_the_book_is_rest_depth() -> None:
    sim = KrakenSimulator(SimConfig(pair="XBTUSD", seed=5)).start()
    ws_url = sim.serve_websocket(["XBTUSD", "ETHUSD"])
    pairs = {"BTC/USD": "XBTUSD", "ETH/USD": "ETHUSD"}

    async def run() -> tuple[dict[str, int], set[str]]:
        books = {symbol: DecimalBook(25, PLACES[symbol]) for symbol in pairs}
        counts = {symbol: 0 for symbol in pairs}
        agreed: set[str] = set()
        async with websockets.connect(ws_url) as ws:
            await ws.send(json.dumps({"method": "subscribe", "params": {"channel": "book", "symbol": list(pairs),
                                                                        "depth": 25}, "req_id": 7}))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 6
            while loop.time() < deadline and (len(agreed) < 2 or min(counts.values()) < 30):
                message = json.loads(await asyncio.wait_for(ws.recv(), 3))
                if message.get("channel") != "book":
                    assert message.get("success", True), message
                    continue
                data = message["data"][0]
                book = books[data["symbol"]]
                if message["type"] == "snapshot":
                    assert len(data["asks"]) == len(data["bids"]) == 25
                book.apply(data)
                assert book.checksum() == data["checksum"]
                assert not (book.bids and book.asks) or max(book.bids) < min(book.asks)  # deletes go first
                counts[data["symbol"]] += 1
                rest = depth(sim.url, pairs[data["symbol"]], 25)
                if rest == {"asks": {p.normalize(): q.normalize() for p, q in book.asks.items()},
                            "bids": {p.normalize(): q.normalize() for p, q in book.bids.items()}}:
                    agreed.add(data["symbol"])
        return counts, agreed

    try:
        counts, agreed = asyncio.run(run())
    finally:
        sim.stop()
    assert min(counts.values()) >= 30 and agreed == set(pairs), (counts, agreed)


@pytest.mark.integration
@pytest.mark.slow
def test_the_cli_prints_the_websocket_line_second_and_refuses_bad_ws_settings() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "candlebot.exchanges.kraken_sim", "--ws-pairs", "XBTUSD,ETHUSD",
                             "--fault", "ws_drop:count=1:symbols=ETH/USD", "--fault", "latency:ms=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        first, second = proc.stdout.readline().strip(), proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert first.startswith("listening on http://127.0.0.1:")
        assert second.startswith("websocket on ws://127.0.0.1:") and second.endswith("/v2")
        with urllib.request.urlopen(first.split()[-1] + "/admin/faults", timeout=5) as reply:
            state = json.loads(reply.read())
        assert state["ws_faults"]["ws_drop"]["symbols"] == ["ETH/USD"] and "latency" in state["faults"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    for argv in (["--fault", "ws_sideways:count=1"], ["--fault", "ws_stall:stall_s=-1"], ["--ws-pairs", "XBTUSD,NOPE"]):
        bad = subprocess.run([sys.executable, "-m", "candlebot.exchanges.kraken_sim", *argv], capture_output=True, text=True,
                             cwd=REPO, timeout=30)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, (argv, bad.stderr)
