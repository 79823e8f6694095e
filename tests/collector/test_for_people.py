"""What the collector tells a person agrees with what it stored, in times a person reads.

- The end summary's gaps are the gaps table's rows: a restart's gap (closed by the first snapshot, never a resync)
  was summed into the seconds but not counted ("0 gaps (136.6 s without a verified book)"), and a gap whose
  resync had two causes was counted twice.
- ``book --at`` and its "nothing stored" / "no verified book" errors print UTC ISO times, not "at 1796631558.983448".
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

from candlebot.cli.collector import main as collector
from candlebot.collector import read
from candlebot.collector.feed import SymbolFeed, exchange_us
from candlebot.collector.ops import Metrics
from candlebot.collector.status import StatusBoard
from candlebot.collector.storage import open_reader, open_store
from candlebot.collector.writer import Writer
from tests.collector.test_storage_read import BTCUSD, _snapshot_of, recorded

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


async def _run(db: str, messages: list, start_us: int, *, resync_at: int | None = None) -> tuple[StatusBoard, int]:
    """One collector run over ``messages`` (the first a snapshot), receive times from ``start_us`` a millisecond
    apart, as collector.app wires it: the feed offers to the writer, the metrics pass feeds the status board."""
    store = open_store(db)
    last = await store.open([BTCUSD])
    writer = Writer(store, linger_s=0)
    feed = SymbolFeed(BTCUSD, 10, writer.offer, snapshot_interval_us=60_000_000, last_stored_us=last.get("XBTUSD"))
    now = [start_us]
    board = StatusBoard(pairs=["XBTUSD"], every_s=0, clock=lambda: now[0] / 1e6, write=lambda line: None)
    metrics = Metrics(board, [feed], writer, lambda: now[0])
    stop = asyncio.Event()
    task = asyncio.ensure_future(writer.run(stop))
    for index, data in enumerate(messages):
        now[0] = start_us + 1000 * index
        if index == resync_at:  # the checksum fails, then the socket drops before the new snapshot: one gap
            feed.fail("checksum", now[0])
            feed.fail("disconnected", now[0] + 1)
            assert feed.on_snapshot(_snapshot_of(messages, index), now[0] + 2) is None
            continue
        assert (feed.on_snapshot(data, now[0]) if index == 0 else feed.on_update(data, now[0])) is None, index
        if index % 100 == 0:
            metrics.flush()
    metrics.flush()
    stop.set()
    await task
    await store.close()
    return board, now[0]


def _gap_rows(db: str) -> list[tuple[int, int, str]]:
    reader = open_reader(db)
    try:
        return reader.gaps(reader.symbol("XBTUSD").id, 0, 2 ** 62)
    finally:
        reader.close()


def _summary_gaps(board: StatusBoard) -> tuple[int, float]:
    found = re.search(r", ([\d,]+) gaps? since start \(([\d,.]+) s without a verified book\)", board.summary())
    assert found is not None, board.summary()
    return int(found.group(1).replace(",", "")), float(found.group(2).replace(",", ""))


def test_the_summary_counts_the_gaps_the_table_holds_a_restart_and_a_two_cause_resync_included(shared_data, tmp_path):
    messages = recorded(shared_data)
    db = f"sqlite:///{tmp_path / 'books.sqlite'}"
    start = exchange_us(messages[1]["timestamp"])
    first, end = asyncio.run(_run(db, messages[:200], start, resync_at=120))
    assert [reason for _, _, reason in _gap_rows(db)] == ["checksum"]
    assert _summary_gaps(first)[0] == 1

    later = end + 136_600_000  # restarted 136.6 s after the last stored message
    second, _ = asyncio.run(_run(db, [_snapshot_of(messages, 199), *messages[200:260]], later))
    rows = _gap_rows(db)
    assert [reason for _, _, reason in rows] == ["checksum", "restart"]
    start_us, end_us, _ = rows[1]
    assert _summary_gaps(second) == (1, round((end_us - start_us) / 1e6, 1))


def test_book_at_prints_utc_iso_times_and_its_errors_too(shared_data, tmp_path, capsys):
    messages = recorded(shared_data)
    db = f"sqlite:///{tmp_path / 'books.sqlite'}"
    start = exchange_us(messages[1]["timestamp"])
    asyncio.run(_run(db, messages[:200], start, resync_at=120))

    at = datetime.fromtimestamp((start + 1000 * 150) / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert collector(["book", "--db", db, "-c", "XBTUSD", "--at", at, "--depth", "1"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert re.fullmatch(rf"XBTUSD at {ISO}: 1 asks, 1 bids", head), head
    assert read.parse_time(head.split()[2].rstrip(":")) == read.book_at(db, "XBTUSD", at).time  # --at takes it back

    for moment, words in ((start - 10_000_000, "nothing stored at or before"), (start + 1000 * 120 + 1, "no verified book at")):
        assert collector(["book", "--db", db, "-c", "XBTUSD", "--at", str(moment / 1e6)]) == 1
        err = capsys.readouterr().err
        assert re.search(rf"{words} {ISO}", err) and not re.search(r"\d{10}\.\d{6}", err), err
