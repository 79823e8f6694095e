"""Kraken's recorded v2 book stream (510 messages): every checksum verifies, every book equals the level file."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from candlebot.collector.book import OrderBook
from candlebot.collector.feed import SymbolFeed
from candlebot.collector.instruments import Instrument
from candlebot.collector.records import BookRecord

BTCUSD = Instrument("XBTUSD", "BTC/USD", 1, 8)


@pytest.fixture(scope="module")
def messages(shared_data: Path) -> list[dict[str, Any]]:
    recording = json.loads((shared_data / "kraken" / "ws_book_v2_btcusd.json").read_text())
    return [recording["init"], *recording["updates"]]


@pytest.fixture(scope="module")
def level_books(shared_data: Path) -> list[tuple[dict[str, dict[Decimal, Decimal]], int]]:
    """The book after each message, rebuilt from the flattened level file with Decimals (an independent model)."""
    rows_by_msg: dict[int, list[dict[str, str]]] = defaultdict(list)
    with open(shared_data / "kraken" / "ws_book_v2_btcusd_levels.csv", newline="") as stream:
        for row in csv.DictReader(stream):
            rows_by_msg[int(row["msg"])].append(row)
    books = []
    sides: dict[str, dict[Decimal, Decimal]] = {"ask": {}, "bid": {}}
    for msg in range(len(rows_by_msg)):
        for row in rows_by_msg[msg]:
            price, qty = Decimal(row["price"]), Decimal(row["qty"])
            if qty == 0:
                sides[row["side"]].pop(price, None)
            else:
                sides[row["side"]][price] = qty
        sides = {"ask": dict(sorted(sides["ask"].items())[:10]),
                 "bid": dict(sorted(sides["bid"].items(), reverse=True)[:10])}
        books.append(({k: dict(v) for k, v in sides.items()}, int(rows_by_msg[msg][0]["checksum"])))
    return books


def as_decimals(book: OrderBook) -> dict[str, dict[Decimal, Decimal]]:
    return {"ask": {Decimal(repr(p)): Decimal(repr(q)) for p, q in book.asks.levels()},
            "bid": {Decimal(repr(p)): Decimal(repr(q)) for p, q in book.bids.levels()}}


def test_every_message_verifies_and_every_book_equals_the_level_file(messages, level_books) -> None:
    # Arrange
    book = OrderBook(10, BTCUSD.price_decimals, BTCUSD.qty_decimals)
    assert len(messages) == len(level_books) == 510
    # Act / Assert
    for index, (message, (expected, checksum)) in enumerate(zip(messages, level_books)):
        data = message["data"][0]
        book.apply(book.asks, data["asks"])
        book.apply(book.bids, data["bids"])
        book.truncate()
        assert book.checksum() == data["checksum"] == checksum, index
        assert as_decimals(book) == expected, index
        assert not book.crossed()


def test_the_feed_accepts_all_510_and_its_rows_replay_to_the_same_book(messages, level_books) -> None:
    # Arrange
    stored: list[BookRecord] = []
    feed = SymbolFeed(BTCUSD, 10, lambda r: stored.append(r) or True, snapshot_interval_us=10**12)
    # Act
    problems = [feed.on_snapshot(messages[0]["data"][0], 1)]
    problems += [feed.on_update(m["data"][0], 2 + i) for i, m in enumerate(messages[1:])]
    # Assert
    assert problems == [None] * 510 and feed.synced
    asks: dict[int, int] = {}
    bids: dict[int, int] = {}
    for record in stored:
        for side, price, qty in record.rows:
            levels = asks if side else bids
            if qty:
                levels[price] = qty
            else:
                levels.pop(price, None)
    expected, _ = level_books[-1]
    assert {Decimal(p).scaleb(-1): Decimal(q).scaleb(-8) for p, q in asks.items()} == expected["ask"]
    assert {Decimal(p).scaleb(-1): Decimal(q).scaleb(-8) for p, q in bids.items()} == expected["bid"]


def test_precision_is_the_pairs_not_the_json_numbers() -> None:
    # 0.001 at 8 decimals is '100000'; str(Decimal(0.001)) would give '1'
    from candlebot.collector.book import digits

    assert digits(0.001, 8) == "100000"
    assert digits(4.0, 8) == "400000000"
    assert digits(29430.2, 1) == "294302"


def test_a_wrong_checksum_a_crossed_book_and_a_replayed_message_are_problems(messages) -> None:
    feed = SymbolFeed(BTCUSD, 10, lambda r: True, snapshot_interval_us=10**12)
    assert feed.on_snapshot(messages[0]["data"][0], 1) is None
    assert feed.on_update(messages[1]["data"][0], 2) is None
    assert feed.on_update(messages[1]["data"][0], 3) == "duplicate" and not feed.synced
    assert feed.on_snapshot(messages[0]["data"][0], 4) is None
    bad = {**messages[1]["data"][0], "checksum": messages[1]["data"][0]["checksum"] ^ 1}
    assert feed.on_update(bad, 5) == "checksum"
    assert feed.on_snapshot(messages[0]["data"][0], 6) is None
    crossing = {"symbol": "BTC/USD", "bids": [{"price": 29440.0, "qty": 1.0}], "asks": [],
                "timestamp": "2023-07-30T15:29:59Z", "checksum": 0}
    assert feed.on_update(crossing, 7) == "crossed"
    assert feed.stats.mismatches == 2 and feed.stats.resyncs == 3


def test_pairs_are_spread_over_connections_of_at_most_20_symbols() -> None:
    from candlebot.collector.app import connection_groups

    feeds = [SymbolFeed(Instrument(f"P{i}", f"P{i}/USD", 1, 8), 10, lambda r: True, snapshot_interval_us=1)
             for i in range(45)]
    groups = connection_groups(feeds)
    assert [len(g) for g in groups] == [15, 15, 15]
    assert sorted(f.pair for g in groups for f in g) == sorted(f.pair for f in feeds)
    assert [len(g) for g in connection_groups(feeds[:20])] == [20]
    assert [len(g) for g in connection_groups(feeds[:21])] == [11, 10]


def test_pairs_resolve_to_v2_symbols_and_precisions_and_an_odd_listing_is_skipped() -> None:
    from candlebot.errors import ConfigError
    from candlebot.collector.instruments import resolve
    from candlebot.exchanges.kraken_pairs import snapshot_reply

    listing = {**snapshot_reply()["result"], "ODD": {"altname": "ODD"}}  # a listing without decimals
    assert resolve(["XBTUSD", "eth/xbt"], listing) == [Instrument("XBTUSD", "BTC/USD", 1, 8),
                                                       Instrument("ETHXBT", "ETH/BTC", 5, 8)]
    with pytest.raises(ConfigError, match="unknown pair 'ODD'"):
        resolve(["ODD"], listing)
    with pytest.raises(ConfigError, match="twice"):
        resolve(["XBTUSD", "BTC/USD"], None)
