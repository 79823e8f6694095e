"""Issue 18 item 6: PostgreSQL restarting under a running collector. The collector keeps receiving, reconnects with
back-off, records what it could not keep as gaps, and never exits; after the restart the stored books are the
simulator's again and every symbol's rows are contiguous."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from candlebot.collector import metrics as m
from tests.collector.rig import PAIRS, Rig
from tests.support import postgres
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture()
def server() -> Iterator[postgres.PostgresServer]:
    """A server of this test's own: restarting the session's would cut every other test's connections."""
    if not postgres.available():
        pytest.fail(f"PostgreSQL 15 not found under {postgres.PG_BIN} (.ci/run installs it)")
    started = postgres.start()
    try:
        yield started
    finally:
        postgres.stop(started)


class Lines:
    """The collector's stderr, read as it comes (a test waits for a line, never for a time)."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def having(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]

    def text(self) -> str:
        return "".join(self.lines)


def contiguous(rig: Rig) -> list[tuple[str, int, int, int]]:
    """(pair, rows, first seq, last seq) per pair: a lost or doubled batch breaks rows == last - first + 1."""
    return [(pair, int(n), int(a), int(b)) for pair, n, a, b in rig.query(
        "SELECT s.pair, count(*), min(r.seq), max(r.seq) FROM book_rows r JOIN symbols s ON s.id = r.symbol_id "
        "GROUP BY s.pair ORDER BY s.pair")]


def test_a_postgresql_restart_is_a_recorded_gap_and_the_collector_goes_on(server, tmp_path: Path) -> None:
    # Arrange: a collector whose queue holds only 300 messages (a few seconds of the feed), so an outage overflows it
    rig = Rig(server.create_database("collector_outage"), tmp_path)
    try:
        process = rig.start("--no-slack", "--max-pending", "300")
        stderr = Lines(process.stderr)
        wait_until(lambda: {p for p, _, _ in rig.snapshots()} == set(PAIRS), "first snapshots of every pair", 30)
        rows_before = sum(n for _, n, _, _ in contiguous(rig))
        down_at = time.time()

        # Act: PostgreSQL goes down (every session cut) while the feed goes on, then comes back
        postgres.halt(server)
        try:
            wait_until(lambda: stderr.having("store unavailable") or process.poll() is not None,
                       "the collector to notice the store is gone", 30)
            assert process.poll() is None, f"the collector exited ({process.returncode}): {stderr.text()}"
            wait_until(lambda: rig.metric_sum(m.DROPPED.name) > 0, "the full queue to refuse messages", 30)
        finally:
            postgres.resume(server)
        up_at = time.time()

        # Assert: back in business: the store again, gaps where messages were refused, the books right again
        wait_until(lambda: stderr.having("store is back"), "the collector to reconnect", 60)
        # the messages refused while the store was away are gaps: from the last one stored before the outage to a
        # snapshot taken once the store was back
        outage = wait_until(lambda: [g for g in rig.gaps() if g[3] == "dropped" and g[1] < up_at * 1e6 < g[2]],
                            "a gap over the outage, closed by a snapshot after the restart", 60)
        assert all(down_at * 1e6 - 5e6 < start for _, start, _, _ in outage), (down_at, outage)
        for pair in PAIRS:
            wait_until(lambda: rig.books_agree(pair), f"{pair}'s stored book to equal REST Depth", 30)
        for pair, rows, first, last in contiguous(rig):
            assert (first, rows) == (0, last + 1), f"{pair}: rows lost or written twice"
        assert sum(n for _, n, _, _ in contiguous(rig)) > rows_before
        assert process.poll() is None, stderr.text()
        code, elapsed, rest = rig.stop(signal.SIGTERM)
        assert code == 0 and elapsed < 5, stderr.text() + rest
        assert "Traceback" not in stderr.text() + rest
    finally:
        rig.close()


def test_stopped_while_postgresql_is_away_the_collector_exits_0_in_time(server, tmp_path: Path) -> None:
    rig = Rig(server.create_database("collector_outage_stop"), tmp_path)
    halted = False
    try:
        process = rig.start("--no-slack")
        stderr = Lines(process.stderr)
        wait_until(lambda: {p for p, _, _ in rig.snapshots()} == set(PAIRS), "first snapshots of every pair", 30)
        postgres.halt(server)
        halted = True
        wait_until(lambda: stderr.having("store unavailable") or process.poll() is not None,
                   "the collector to notice the store is gone", 30)
        assert process.poll() is None, f"the collector exited ({process.returncode}): {stderr.text()}"

        code, elapsed, rest = rig.stop(signal.SIGTERM)

        assert code == 0 and elapsed < 5, stderr.text() + rest
        assert stderr.having("store unavailable at stop") and "Traceback" not in stderr.text() + rest
    finally:
        if halted:
            postgres.resume(server)
        rig.close()


def test_a_cut_session_is_taken_up_again_with_the_pairs_lock_and_no_row_twice(postgres_server) -> None:
    """The session cut under the store (as a restart does, here by pg_terminate_backend): the next batch is refused
    as StoreUnavailable, offered again it is written once, the pair's lock is this store's again."""
    import asyncio

    import psycopg

    from candlebot.collector.instruments import Instrument
    from candlebot.collector.records import BookRecord
    from candlebot.collector.storage import open_store
    from candlebot.collector.storage.base import StoreUnavailable
    from candlebot.errors import ConfigError

    db = postgres_server.create_database("collector_cut_session")
    btcusd = Instrument("XBTUSD", "BTC/USD", 1, 8)
    batches = [[BookRecord("XBTUSD", None, 1_000 * n + i, [(1, 100 + i, 5), (0, 90 + i, 5)], None) for i in range(3)]
               for n in range(3)]

    async def scenario() -> None:
        store = open_store(db)
        await store.open([btcusd])
        try:
            assert await store.write(batches[0]) == 6
            with psycopg.connect(db, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND pid <> pg_backend_pid()")
            with pytest.raises(StoreUnavailable):
                await store.write(batches[1])
            assert await store.write(batches[1]) == 6  # the same batch, offered again
            assert await store.write(batches[2]) == 6
            rival = open_store(db)
            with pytest.raises(ConfigError, match="XBTUSD is being written by another collector"):
                await rival.open([btcusd])
            await rival.close()
        finally:
            await store.close()

    asyncio.run(scenario())
    with psycopg.connect(db) as reader:
        seqs = [row[0] for row in reader.execute("SELECT seq FROM book_rows ORDER BY seq")]
    assert seqs == list(range(18))
