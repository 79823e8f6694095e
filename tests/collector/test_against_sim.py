"""The collector process against the simulator's WebSocket v2 feed, three pairs, every fault, both stores."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Iterator

import pytest

from candlebot.collector import metrics as m
from tests.collector.rig import PAIRS, SYMBOLS, Rig
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# fault -> the gap reasons it may leave (a dropped message shows up as the next message's mismatch)
FAULTS = {
    "ws_drop": {"checksum", "crossed"},
    "ws_corrupt_checksum": {"checksum"},
    "ws_duplicate": {"duplicate"},
    "ws_close": {"disconnected"},
    "ws_rate_limit": {"rate_limited"},
    "ws_stall": {"stalled"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    if request.param == "sqlite":
        db = f"sqlite:///{tmp_path / 'books.sqlite'}"
    else:
        db = request.getfixturevalue("postgres_server").create_database(f"collector_{request.node.name[-12:-1]}")
    rig = Rig(db, tmp_path)
    try:
        yield rig
    finally:
        rig.close()


def all_synced(rig: Rig, since: int) -> bool:
    """Every pair has a snapshot taken after ``since`` and no gap left open (the book is verified again)."""
    return all(any(p == pair and t > since for p, t, _ in rig.snapshots()) for pair in PAIRS)


def test_every_fault_becomes_a_resync_and_a_gap_and_the_books_end_equal(rig: Rig) -> None:
    # Arrange
    rig.start()
    wait_until(lambda: all_synced(rig, 0), "first snapshots", 15)
    # Act: one fault at a time, each on another pair
    for index, (kind, reasons) in enumerate(FAULTS.items()):
        symbol = SYMBOLS[PAIRS[index % len(PAIRS)]]
        before = len(rig.gaps())
        rig.admin("/admin/faults", {kind: {"count": 1, "symbols": [symbol], "stall_s": 2.5}})
        wait_until(lambda: rig.fired(kind) == 1, f"{kind} to fire", 10)
        wait_until(lambda: [g for g in rig.gaps()[before:] if g[3] in reasons], f"a gap after {kind}", 15)
    # a lost snapshot: the resync falls back to REST Depth, and the stream's checksums go on verifying
    before = len(rig.gaps())
    rig.admin("/admin/faults", {"ws_corrupt_checksum": {"count": 1, "symbols": [SYMBOLS[PAIRS[0]]]},
                                "ws_drop": {"count": 1, "symbols": [SYMBOLS[PAIRS[0]]], "snapshot": True}})
    wait_until(lambda: [g for g in rig.gaps()[before:] if g[3] == "checksum"], "the gap closed by REST Depth", 15)
    rig.admin("/admin/faults", {})
    # Assert: every pair's stored book is the simulator's own book
    for pair in PAIRS:
        wait_until(lambda: rig.books_agree(pair), f"{pair}'s stored book to equal REST Depth", 10)
    code, elapsed, stderr = rig.stop(signal.SIGTERM)
    assert code == 0 and elapsed < 5, stderr
    assert "Traceback" not in stderr
    gaps = rig.gaps()
    assert all(start <= end for _, start, end, _ in gaps)
    # one pair's fault leaves the others alone; a connection fault touches every pair on it
    by_reason: dict[str, set[str]] = {}
    for pair, _, _, reason in gaps:
        by_reason.setdefault(reason, set()).add(pair)
    assert by_reason.get("checksum", set()) | by_reason.get("crossed", set()) == {PAIRS[0], PAIRS[1]}
    assert by_reason["duplicate"] == {PAIRS[2]}
    assert by_reason["disconnected"] == by_reason["rate_limited"] == by_reason["stalled"] == set(PAIRS)
    assert set(by_reason) <= {"checksum", "crossed", "duplicate", "disconnected", "rate_limited", "stalled"}
    # zero unresolved mismatches: every gap was closed by a resync snapshot taken at its end
    resync_snapshots = {(pair, t) for pair, t, reason in rig.snapshots() if reason.startswith("resync:")}
    assert {(pair, end) for pair, _, end, _ in gaps} <= resync_snapshots
    assert [reason for pair, _, reason in rig.snapshots() if reason.endswith("(rest)")] == ["resync:checksum(rest)"]
    rig.statsd.settle()
    assert rig.metric_sum(m.MISMATCHES.name) == sum(1 for g in gaps if g[3] in ("checksum", "crossed"))
    for reason in ("duplicate", "disconnected", "rate_limited", "stalled"):
        assert rig.metric_sum(m.RESYNCS.name, reason=reason) >= 1, reason
    assert rig.metric_sum(m.ROWS_WRITTEN.name) == rig.query("SELECT count(*) FROM book_rows")[0][0]


def test_kill_9_loses_nothing_written_and_a_restart_continues_with_a_fresh_snapshot(rig: Rig) -> None:
    # Arrange
    rig.start()
    wait_until(lambda: rig.metric_sum(m.ROWS_WRITTEN.name) > 300, "rows written", 20)
    # Act
    rig.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    rig.process.wait(5)  # type: ignore[union-attr]
    rig.process = None
    rig.statsd.settle()
    acknowledged = {pair: rig.metric_sum(m.ROWS_WRITTEN.name, pair=pair) for pair in PAIRS}
    stored = dict(rig.query("SELECT s.pair, count(*) FROM book_rows b JOIN symbols s ON s.id = b.symbol_id GROUP BY s.pair"))
    killed_at = time.time_ns() // 1000
    rig.start()
    wait_until(lambda: all_synced(rig, killed_at), "snapshots after the restart", 15)
    # Assert
    assert all(stored[pair] >= acknowledged[pair] > 0 for pair in PAIRS), (stored, acknowledged)
    restarts = [g for g in rig.gaps() if g[3] == "restart"]
    assert {pair for pair, *_ in restarts} == set(PAIRS)
    assert all(start < killed_at < end for _, start, end, _ in restarts)
    assert {reason for pair, t, reason in rig.snapshots() if t > killed_at and reason == "start"} == {"start"}
    for pair in PAIRS:
        wait_until(lambda: rig.books_agree(pair), f"{pair}'s stored book to equal REST Depth", 10)
    code, elapsed, stderr = rig.stop()
    assert code == 0 and elapsed < 5, stderr
