"""Every message of the v2 book stream leaves each side at its depth, uncrossed, and the checksum right."""

from __future__ import annotations

import math
import random

import pytest

from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.exchanges.kraken_sim.book import BookMaker
from candlebot.exchanges.kraken_sim.wsbook import DepthStream, Market
from tests.collector.test_sim_websocket import DecimalBook


class JumpyPath:
    """A price that jumps up to ``jump`` ticks a second (the generated walk rarely moves more than a few)."""

    genesis = 0

    def __init__(self, seed: int, jump: int) -> None:
        self.seed, self.jump = seed, jump

    def ticks_at(self, t: float) -> int:
        return 300_000 + random.Random(self.seed * 1_000_003 + math.floor(t)).randint(-self.jump, self.jump)


@pytest.mark.parametrize("depth", [10, 25, 100])
@pytest.mark.parametrize("jump", [0, 3, 60])
def test_each_message_keeps_the_depth_uncrossed_and_reaches_the_seconds_book(depth: int, jump: int) -> None:
    pair = find_pair(offline_pairs(), "XBTUSD")
    market = Market(pair, JumpyPath(depth + jump, jump), BookMaker(seed=depth, mean_lots=5_000, min_lots=10))
    stream = DepthStream(market, depth, random.Random(depth))
    client = DecimalBook(depth, (pair.pair_decimals, pair.lot_decimals))
    client.apply(stream.snapshot(100))
    sent = 0
    for second in range(101, 131):
        stream.plan(second)
        for data in stream.due(second + 0.5) + stream.due(math.inf):
            client.apply(data)
            sent += 1
            assert client.checksum() == data["checksum"]
            assert len(client.asks) == len(client.bids) == depth, (second, len(client.asks), len(client.bids))
            assert max(client.bids) < min(client.asks)
        book = market.book(second)
        assert [str(p) for p in client.asks][:depth] == [f"{level.ticks * pair.tick_size}" for level in book.asks[:depth]]
    assert sent > 30
