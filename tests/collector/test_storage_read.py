"""The recorded BTC/USD stream stored through the writer, read back as books, features, tardis rows and CLI output."""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from candlebot.errors import ConfigError
from candlebot.collector import read
from candlebot.collector.book import OrderBook
from candlebot.collector.feed import SymbolFeed, exchange_us
from candlebot.collector.instruments import Instrument
from candlebot.collector.records import BookRecord, GapRecord
from candlebot.collector.storage import open_store
from candlebot.collector.writer import Writer

BTCUSD = Instrument("XBTUSD", "BTC/USD", 1, 8)
REPO = Path(__file__).resolve().parents[2]


def recorded(shared_data: Path) -> list[dict[str, Any]]:
    recording = json.loads((shared_data / "kraken" / "ws_book_v2_btcusd.json").read_text())
    return [recording["init"]["data"][0], *(m["data"][0] for m in recording["updates"])]


def receive_time(data: dict[str, Any], index: int, first_us: int) -> int:
    """The recording has no receive times: the exchange time plus 1 ms (the snapshot: 1 ms before the first update)."""
    ts = exchange_us(data.get("timestamp"))
    return (ts if ts is not None else first_us - 2000) + 1000


async def store_stream(db: str, messages: list[dict[str, Any]], *, gap_after: int | None = None) -> list[int]:
    """Feed every message through a SymbolFeed into the writer and the store; returns each message's receive time."""
    store = open_store(db)
    await store.open([BTCUSD])
    writer = Writer(store, linger_s=0)
    feed = SymbolFeed(BTCUSD, 10, writer.offer, snapshot_interval_us=20_000_000)
    stop = asyncio.Event()
    task = asyncio.ensure_future(writer.run(stop))
    first = exchange_us(messages[1]["timestamp"])
    times = []
    for index, data in enumerate(messages):
        recv = receive_time(data, index, first)
        times.append(recv)
        if index == gap_after:
            feed.fail("checksum", recv)
            assert feed.on_snapshot(_snapshot_of(messages, index), recv + 1) is None
            continue
        problem = feed.on_snapshot(data, recv) if index == 0 else feed.on_update(data, recv)
        assert problem is None, index
    stop.set()
    await task
    await store.close()
    return times


def _snapshot_of(messages: list[dict[str, Any]], upto: int) -> dict[str, Any]:
    book = OrderBook(10, 1, 8)
    for data in messages[:upto + 1]:
        book.apply(book.asks, data["asks"])
        book.apply(book.bids, data["bids"])
        book.truncate()
    return {"symbol": "BTC/USD", "asks": [{"price": p, "qty": q} for p, q in book.asks.levels()],
            "bids": [{"price": p, "qty": q} for p, q in book.bids.levels()], "checksum": book.checksum()}


def books_after(messages: list[dict[str, Any]]) -> list[dict[str, list[tuple[Decimal, Decimal]]]]:
    book = OrderBook(10, 1, 8)
    out = []
    for data in messages:
        book.apply(book.asks, data["asks"])
        book.apply(book.bids, data["bids"])
        book.truncate()
        out.append({side: [(Decimal(repr(p)), Decimal(repr(q))) for p, q in levels.levels()]
                    for side, levels in (("asks", book.asks), ("bids", book.bids))})
    return out


def plain(book: read.Book) -> dict[str, list[tuple[Decimal, Decimal]]]:
    return {"asks": [(p.normalize(), q.normalize()) for p, q in book.asks],
            "bids": [(p.normalize(), q.normalize()) for p, q in book.bids]}


def normal(expected: dict[str, list[tuple[Decimal, Decimal]]]) -> dict[str, list[tuple[Decimal, Decimal]]]:
    return {side: [(p.normalize(), q.normalize()) for p, q in levels] for side, levels in expected.items()}


POSTGRESQL = pytest.param("postgresql", marks=[pytest.mark.integration, pytest.mark.slow])  # a real server, started once


def database(request: pytest.FixtureRequest, folder: Path, name: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{folder / (name + '.sqlite')}"
    return request.getfixturevalue("postgres_server").create_database(f"collector_read_{name}")


@pytest.fixture(scope="module", params=["sqlite", POSTGRESQL])
def stored(request: pytest.FixtureRequest, shared_data: Path,
           tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, Any]], list[int]]:
    messages = recorded(shared_data)
    db = database(request, tmp_path_factory.mktemp("stored"), "books")
    times = asyncio.run(store_stream(db, messages))
    return db, messages, times


@pytest.mark.slow
def test_the_book_at_any_moment_is_the_book_after_the_last_message_received_by_then(stored) -> None:
    db, messages, times = stored
    expected = books_after(messages)
    for index in (0, 1, 77, 250, 509):
        assert plain(read.book_at(db, "XBTUSD", times[index] / 1e6)) == normal(expected[index]), index
        assert plain(read.book_at(db, "BTC/USD", (times[index] + 1) / 1e6, depth=3)) == \
            {side: levels[:3] for side, levels in normal(expected[index]).items()}
    with pytest.raises(read.NoBook):
        read.book_at(db, "XBTUSD", times[0] / 1e6 - 1)


@pytest.mark.slow
def test_every_book_in_a_window_and_per_second_features(stored) -> None:
    db, messages, times = stored
    expected = books_after(messages)
    books = list(read.books(db, "XBTUSD", times[100] / 1e6, times[200] / 1e6))
    assert [plain(b) for b in books] == [normal(e) for e in expected[100:200]]
    early = list(read.books(db, "XBTUSD", times[0] / 1e6 - 60, times[5] / 1e6))  # starts before anything was stored
    assert [plain(b) for b in early] == [normal(e) for e in expected[:5]]
    features = list(read.books(db, "XBTUSD", times[1] / 1e6, times[509] / 1e6, every=1.0, features=True))
    assert 45 <= len(features) <= 52
    for feature in features:
        book = read.book_at(db, "XBTUSD", feature.time)
        bid, bid_qty = map(float, book.bids[0])
        ask, ask_qty = map(float, book.asks[0])
        assert (feature.bid, feature.ask) == (bid, ask) and feature.spread == pytest.approx(ask - bid)
        assert feature.mid == pytest.approx((ask + bid) / 2)
        assert feature.microprice == pytest.approx((bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty))
        assert feature.imbalance == pytest.approx((bid_qty - ask_qty) / (bid_qty + ask_qty))
        assert bid < feature.microprice < ask


def replay_tardis(rows: list[list[str]]) -> dict[str, dict[Decimal, Decimal]]:
    """How a tardis reader rebuilds a book: a snapshot block (is_snapshot turning true) resets it."""
    book: dict[str, dict[Decimal, Decimal]] = {"ask": {}, "bid": {}}
    previous_snapshot = False
    for timestamp, local, is_snapshot, side, price, amount in rows:
        if is_snapshot == "true" and not previous_snapshot:
            book = {"ask": {}, "bid": {}}
        previous_snapshot = is_snapshot == "true"
        if Decimal(amount) == 0:
            book[side].pop(Decimal(price), None)
        else:
            book[side][Decimal(price)] = Decimal(amount)
    return book


@pytest.mark.integration
@pytest.mark.slow
def test_export_writes_tardis_rows_that_rebuild_the_same_book(stored, tmp_path: Path) -> None:
    db, messages, times = stored
    target = tmp_path / "btc.csv.gz"
    run = subprocess.run([sys.executable, "-m", "candlebot.collector", "export", "--db", db, "--pair", "XBTUSD",
                          "--from", str(times[50] / 1e6), "--to", str(times[300] / 1e6), "-o", str(target)],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 0, run.stderr
    with gzip.open(target, "rt", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["timestamp", "local_timestamp", "is_snapshot", "side", "price", "amount"]
    assert rows[1][2] == "true" and int(rows[1][1]) == times[50]  # the book at --from, as a snapshot
    book = replay_tardis(rows[1:])
    expected = read.book_at(db, "XBTUSD", (times[300] - 1) / 1e6)
    assert sorted(book["ask"].items()) == sorted(expected.asks)
    assert sorted(book["bid"].items(), reverse=True) == sorted(expected.bids, reverse=True)
    assert all(int(r[1]) < times[300] for r in rows[1:])


@pytest.mark.integration
@pytest.mark.slow
def test_export_to_dash_writes_stdout_not_a_file_named_dash(stored, tmp_path: Path) -> None:
    db, messages, times = stored
    run = subprocess.run([sys.executable, "-m", "candlebot.collector", "export", "--db", db, "--pair", "XBTUSD",
                          "--from", str(times[50] / 1e6), "--to", str(times[60] / 1e6), "-o", "-"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "timestamp,local_timestamp,is_snapshot,side,price,amount"
    assert not (tmp_path / "-").exists()


@pytest.mark.integration
@pytest.mark.slow
def test_book_prints_the_levels_and_bad_input_is_one_line_and_exit_2(stored) -> None:
    db, messages, times = stored
    run = subprocess.run([sys.executable, "-m", "candlebot.collector", "book", "--db", db, "--pair", "XBTUSD",
                          "--at", str(times[509] / 1e6), "--depth", "2"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("XBTUSD at ") and len(lines) == 2 + 4
    expected = books_after(messages)[509]
    assert lines[3].split()[0] == "ask" and Decimal(lines[3].split()[1]) == expected["asks"][0][0]
    assert lines[4].split()[0] == "bid" and Decimal(lines[4].split()[1]) == expected["bids"][0][0]
    assert Decimal(lines[4].split()[2]) == expected["bids"][0][1]
    for argv in (["book", "--db", db, "--pair", "DOGEUSD", "--at", "1"], ["book", "--db", "mysql://x", "--pair", "X", "--at", "1"],
                 ["book", "--db", db, "--pair", "XBTUSD", "--at", "yesterday"], ["--pairs", "XBTUSD", "--depth", "7"],
                 ["export", "--db", db, "--pair", "XBTUSD", "--from", "5", "--to", "4"]):
        bad = subprocess.run([sys.executable, "-m", "candlebot.collector", *argv], capture_output=True, text=True, cwd=REPO, timeout=60)
        assert bad.returncode == 2, (argv, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr, bad.stderr


@pytest.fixture(params=["sqlite", POSTGRESQL])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database(request, tmp_path, "gap")


def test_a_gap_is_stored_and_no_book_is_given_inside_it(shared_data: Path, empty_db: str) -> None:
    messages = recorded(shared_data)
    db = empty_db
    times = asyncio.run(store_stream(db, messages, gap_after=120))
    with pytest.raises(read.NoBook, match="checksum"):
        read.book_at(db, "XBTUSD", (times[119] + times[120]) / 2e6)
    assert plain(read.book_at(db, "XBTUSD", times[300] / 1e6)) == normal(books_after(messages)[300])


class _StuckStore:
    """An in-memory store whose writes never finish: the queue fills."""

    async def open(self, instruments):  # type: ignore[no-untyped-def]
        return {}

    async def write(self, batch):  # type: ignore[no-untyped-def]
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


def test_a_full_queue_drops_counts_and_resyncs_the_symbol(shared_data: Path) -> None:
    messages = recorded(shared_data)
    writer = Writer(_StuckStore(), max_pending=5)
    feed = SymbolFeed(BTCUSD, 10, writer.offer, snapshot_interval_us=10**12)
    assert feed.on_snapshot(messages[0], 1) is None
    problems = [feed.on_update(m, 2 + i) for i, m in enumerate(messages[1:6])]
    assert problems == [None, None, None, None, "dropped"]
    assert writer.dropped == 1 and feed.stats.dropped == 1 and not feed.synced
    assert writer.offer(GapRecord("XBTUSD", 1, 2, "dropped"))  # gaps are never refused
    assert all(isinstance(r, BookRecord) for r in list(writer._queue)[:5])


@pytest.mark.integration
def test_export_into_a_reader_that_stops_early_ends_quietly(stored) -> None:
    """`candlebot-collector export ... | head -1`: exit 0 and no BrokenPipeError traceback."""
    db, messages, times = stored
    process = subprocess.Popen([sys.executable, "-m", "candlebot.collector", "export", "--db", db, "--pair", "XBTUSD",
                                "--from", str(times[0] / 1e6), "--to", str(times[509] / 1e6)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"timestamp,")
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err.decode()) == (0, "")


def test_sampled_books_end_with_the_recording(stored) -> None:
    """An hour asked for after the last stored message gives no copies of the last book: nothing is known there."""
    db, messages, times = stored
    features = list(read.books(db, "XBTUSD", times[500] / 1e6, times[509] / 1e6 + 3600, every=1.0, features=True))
    assert features and all(f.time <= times[509] / 1e6 for f in features)
    assert features[-1].time > times[509] / 1e6 - 1


@pytest.mark.slow
@pytest.mark.integration
def test_an_export_from_a_missing_database_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    for output in (["-o", str(target)], []):
        run = subprocess.run([sys.executable, "-m", "candlebot.collector", "export", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}",
                              "--pair", "XBTUSD", "--from", "1", "--to", "2", *output],
                             capture_output=True, text=True, cwd=REPO, timeout=60)
        assert run.returncode == 2 and "no such file" in run.stderr, run.stderr
        assert run.stdout == "" and not target.exists()


@pytest.mark.integration
@pytest.mark.slow
def test_a_relative_sqlite_path_that_was_meant_absolute_gets_the_four_slash_hint(tmp_path: Path) -> None:
    """`sqlite:///tmp/x.sqlite` is the relative path tmp/x.sqlite: say how to write /tmp/x.sqlite."""
    meant = tmp_path / "books.sqlite"
    record = [sys.executable, "-m", "candlebot.collector", "--pairs", "XBTUSD", "--db", f"sqlite://{meant}", "--no-statsd",
              "--rest-url", "http://127.0.0.1:9", "--ws-url", "ws://127.0.0.1:9/v2"]
    meant.touch()
    read_back = [sys.executable, "-m", "candlebot.collector", "book", "--db", f"sqlite://{meant}", "--pair", "XBTUSD", "--at", "1"]
    for argv in (record, read_back):
        run = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=60)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert f"(relative to {REPO}; for {meant} write sqlite:///{meant})" in run.stderr.splitlines()[-1], run.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_a_second_collector_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    """Two writers of a pair collide on (symbol, seq) and the first died with an IntegrityError traceback: refuse
    the second; a collector of other pairs may share the file."""
    db = f"sqlite:///{tmp_path / 'books.sqlite'}"
    argv = [sys.executable, "-m", "candlebot.collector", "--db", db, "--no-statsd", "--rest-url", "http://127.0.0.1:9",
            "--ws-url", "ws://127.0.0.1:9/v2", "--pairs"]

    def other_pair_starts() -> bool:
        process = subprocess.Popen([*argv, "ETHUSD"], stderr=subprocess.PIPE, text=True, cwd=REPO)
        try:
            return any("candlebot.collector.app: collecting ETHUSD" in line for line in process.stderr)
        finally:
            process.terminate()
            process.communicate(timeout=30)

    async def others_while_the_first_writes() -> tuple[subprocess.CompletedProcess, bool]:
        store = open_store(db)
        await store.open([BTCUSD])
        try:
            same = await asyncio.to_thread(subprocess.run, [*argv, "XBTUSD"], capture_output=True, text=True, cwd=REPO,
                                           timeout=30)
            return same, await asyncio.to_thread(other_pair_starts)
        finally:
            await store.close()

    run, other_started = asyncio.run(others_while_the_first_writes())
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1].endswith("XBTUSD is being written by another collector (one writer per pair and file)")
    assert other_started
    store = open_store(db)  # the first one's lock is gone with it
    asyncio.run(store.open([BTCUSD]))
    asyncio.run(store.close())


@pytest.mark.slow
@pytest.mark.integration
def test_a_second_writer_of_a_pair_in_postgresql_is_refused(postgres_server) -> None:
    db = postgres_server.create_database("collector_two_writers")
    ethusd = Instrument("ETHUSD", "ETH/USD", 2, 8)

    async def two_writers() -> None:
        first = open_store(db)
        await first.open([BTCUSD])
        try:
            second = open_store(db)
            with pytest.raises(ConfigError, match="XBTUSD is being written by another collector"):
                await second.open([ethusd, BTCUSD])
            await second.close()
            other = open_store(db)  # another pair may share the database
            await other.open([ethusd])
            await other.close()
        finally:
            await first.close()
        again = open_store(db)  # the lock went with the first writer's session
        await again.open([BTCUSD])
        await again.close()

    asyncio.run(two_writers())
