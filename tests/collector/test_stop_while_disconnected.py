"""A collector stopped while it is still disconnected stores the gap up to the stop and counts it in its summary.

Found by a new user: simulator killed, collector stopped 21 s later; the summary said "0 gaps (0.0 s without a
verified book)" and no gap row was stored, so a research dataset had a hole that said nothing about itself."""

from __future__ import annotations

import re
import signal
import time
import zlib
from pathlib import Path

import pytest

from candlebot.collector import metrics as m
from tests.collector.rig import PAIRS, Rig
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'books.sqlite'}"
    name = f"collector_stop_{zlib.crc32(request.node.nodeid.encode()):08x}"  # one database per test
    return request.getfixturevalue("postgres_server").create_database(name)


def recorded_then_disconnected(rig: Rig) -> None:
    """The collector records every pair, then the exchange goes away and every pair is marked disconnected."""
    rig.start("--no-slack", "--status-every", "0")
    wait_until(lambda: {pair for pair, _, _ in rig.snapshots()} == set(PAIRS), "every pair's first snapshot", 30)
    rig.sim.stop()
    wait_until(lambda: all(rig.metric_sum(m.RESYNCS.name, pair=pair, reason="disconnected") >= 1 for pair in PAIRS),
               "every pair to be marked disconnected", 30)


def test_a_stop_while_disconnected_closes_each_pairs_gap_at_the_stop(db: str, tmp_path: Path) -> None:
    # Arrange: every pair recorded, then the exchange goes away
    rig = Rig(db, tmp_path)
    try:
        recorded_then_disconnected(rig)
        disconnected_seen = time.time_ns() // 1000
        # Act
        code, elapsed, stderr = rig.stop(signal.SIGTERM)
        stopped = time.time_ns() // 1000
    finally:
        rig.close()
    # Assert: one gap row per pair, its cause the disconnect, from the last stored message up to the stop
    assert code == 0 and elapsed < 5, stderr[-2000:]
    gaps = [g for g in rig.gaps() if g[3] == "disconnected"]
    assert sorted(pair for pair, *_ in gaps) == sorted(PAIRS), (rig.gaps(), stderr[-2000:])
    assert all(start < disconnected_seen <= end <= stopped for _, start, end, _ in gaps), gaps
    # ... and the summary counts them, with their length
    summary = re.search(r"stopped after .* for 3 pairs, ([\d,]+) gaps? since start \(([\d,.]+) s without a verified book\)",
                        stderr)
    assert summary is not None, stderr[-2000:]
    assert int(summary.group(1)) == len(rig.gaps()) == 3
    stored_s = sum(end - start for _, start, end, _ in gaps) / 1e6
    assert float(summary.group(2).replace(",", "")) == pytest.approx(stored_s, abs=0.1)


def test_the_next_start_continues_from_the_stop_not_over_the_stored_gap_again(db: str, tmp_path: Path) -> None:
    # Arrange: a stop while disconnected has stored each pair's gap up to the stop
    rig = Rig(db, tmp_path)
    try:
        recorded_then_disconnected(rig)
        code, _, stderr = rig.stop(signal.SIGTERM)
    finally:
        rig.close()
    assert code == 0, stderr[-2000:]
    stop_ends = {pair: end for pair, _, end, reason in rig.gaps() if reason == "disconnected"}
    # Act: the exchange is back and the collector starts again on the same database
    again = Rig(db, tmp_path)
    try:
        again.start("--no-slack", "--status-every", "0")
        wait_until(lambda: {pair for pair, *_, reason in again.gaps() if reason == "restart"} == set(PAIRS),
                   "every pair's restart gap", 30)
        code, _, stderr = again.stop(signal.SIGTERM)
    finally:
        again.close()
    # Assert: the restart gap starts where the stored gap ended: the gaps table covers each moment once
    assert code == 0, stderr[-2000:]
    restarts = {pair: start for pair, start, _, reason in again.gaps() if reason == "restart"}
    assert restarts == stop_ends
