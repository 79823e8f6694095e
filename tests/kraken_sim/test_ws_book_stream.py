"""The WebSocket v2 book streams changes over time as Kraken does, and never shows a book thinner than its depth."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest
import websockets

from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig
from tests.collector.test_sim_websocket import DecimalBook

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_changes_arrive_spread_over_each_second_and_every_book_keeps_its_depth() -> None:
    sim = KrakenSimulator(SimConfig(pair="XBTUSD", seed=3)).start()
    url = sim.serve_websocket(["XBTUSD"])

    async def run() -> tuple[int, dict[str, list[float]], list[tuple[int, int]]]:
        book = DecimalBook(10, (1, 8))
        arrivals: dict[str, list[float]] = defaultdict(list)  # simulator second -> wall arrival times
        thin: list[tuple[int, int]] = []
        updates = 0
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"method": "subscribe",
                                      "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}}))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while loop.time() < deadline and (updates < 60 or len(arrivals) < 6):
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if message.get("channel") != "book":
                    continue
                data = message["data"][0]
                book.apply(data)
                assert book.checksum() == data["checksum"]
                assert not (book.bids and book.asks) or max(book.bids) < min(book.asks)
                if message["type"] == "update":
                    updates += 1
                    arrivals[data["timestamp"][:19]].append(loop.time())
                    if len(book.asks) < 10 or len(book.bids) < 10:
                        thin.append((len(book.asks), len(book.bids)))
        return updates, arrivals, thin

    try:
        updates, arrivals, thin = asyncio.run(run())
    finally:
        sim.stop()
    assert updates >= 60 and thin == []            # never 10 asks and 2 bids halfway through a change
    complete = [times for times in list(arrivals.values())[1:-1] if len(times) >= 5]
    assert complete, arrivals
    spreads = sorted(max(times) - min(times) for times in complete)
    assert spreads[len(spreads) // 2] >= 0.3, spreads  # a second's changes come over the second, not in one burst
