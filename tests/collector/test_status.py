"""The collector says what it is doing: a status line every 10 s (messages/s, books in sync, gaps) and a summary when
it stops (it used to print nothing while running or when stopped)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from candlebot.collector import metrics as m
from candlebot.collector.status import StatusBoard
from tests.collector.rig import Rig
from tests.support.wait import wait_until


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _second(board: StatusBoard, clock: _Clock, messages: dict[str, int], unsynced: dict[str, float], gaps: int = 0) -> None:
    """One metrics pass, with the calls ops.Metrics makes."""
    clock.now += 1
    board.open_buffer()
    for pair, count in messages.items():
        board.increment(m.MESSAGES.name, count, tags=[f"pair:{pair}"])
        board.gauge(m.UNSYNCED.name, unsynced.get(pair, 0), tags=[f"pair:{pair}"])
    if gaps:
        board.increment(m.RESYNCS.name, gaps, tags=["pair:ETHUSD", "reason:checksum"])
        board.increment(m.GAP_SECONDS.name, 2.5, tags=["pair:ETHUSD"])
    board.gauge(m.QUEUE_DEPTH.name, 3, tags=["pair:all"])
    board.close_buffer()


def test_a_status_line_every_10_seconds_and_a_summary():
    clock, lines = _Clock(), []
    board = StatusBoard(pairs=["XBTUSD", "ETHUSD"], every_s=10, clock=clock, write=lines.append)
    for second in range(25):
        _second(board, clock, {"XBTUSD": 100, "ETHUSD": 50}, {"ETHUSD": 4.0} if 12 <= second < 14 else {},
                gaps=1 if second == 12 else 0)
    assert lines == ["status: 150 messages/s, 2/2 books in sync, 0 gaps in the last 10 s, 0 dropped, 3 queued",
                     "status: 150 messages/s, 2/2 books in sync, 1 gap in the last 10 s, 0 dropped, 3 queued"]
    _second(board, clock, {"XBTUSD": 100, "ETHUSD": 50}, {"ETHUSD": 1.0})
    assert board.summary() == ("stopped after 0m 26s: 3,900 messages (150/s) for 2 pairs, 1 gap since start (2.5 s "
                               "without a verified book), 0 dropped, 0 rows written")


def test_it_forwards_every_metric_to_statsd_when_metrics_are_on():
    calls = []

    class Client:
        def __getattr__(self, name):
            return lambda *args, **kwargs: calls.append((name, args))

    clock = _Clock()
    board = StatusBoard(pairs=["XBTUSD"], inner=Client(), every_s=0, clock=clock, write=lambda line: None)
    _second(board, clock, {"XBTUSD": 7}, {})
    assert [name for name, _ in calls] == ["open_buffer", "increment", "gauge", "gauge", "close_buffer"]
    assert calls[1][1] == (m.MESSAGES.name, 7)


@pytest.mark.integration
@pytest.mark.slow
def test_the_collector_process_prints_status_lines_and_a_summary_on_stop(tmp_path: Path) -> None:
    rig = Rig(f"sqlite:///{tmp_path / 'books.sqlite'}", tmp_path)
    try:
        rig.start("--no-slack", "--status-every", "0.5")
        wait_until(lambda: rig.metric_sum(m.ROWS_WRITTEN.name) > 100, "rows written", 30)
        code, _, stderr = rig.stop(signal.SIGTERM)
    finally:
        rig.close()
    assert code == 0
    status = re.findall(r"status: [\d,]+ messages/s, (\d)/3 books in sync, [\d,]+ gaps? in the last [\d.]+ s, "
                        r"\d+ dropped, [\d,]+ queued", stderr)
    assert status and status[-1] == "3", stderr[-2000:]
    summary = re.search(r"stopped after \d+m \d\ds: ([\d,]+) messages \([\d,]+/s\) for 3 pairs, "
                        r"[\d,]+ gaps? since start \(.*\), "
                        r"\d+ dropped, ([\d,]+) rows written", stderr)
    assert summary is not None, stderr[-2000:]
    assert int(summary.group(1).replace(",", "")) > 0 and int(summary.group(2).replace(",", "")) > 100


@pytest.mark.integration
@pytest.mark.slow
def test_a_clean_stop_is_not_counted_as_a_gap(tmp_path: Path) -> None:
    """SIGTERM closes the socket on purpose: the summary and the resync metric must not report that as a gap
    (before, every clean stop said '3 gaps' and sent resyncs reason:disconnected for every pair)."""
    rig = Rig(f"sqlite:///{tmp_path / 'books.sqlite'}", tmp_path)
    try:
        rig.start("--no-slack", "--status-every", "0.5")
        wait_until(lambda: rig.metric_sum(m.ROWS_WRITTEN.name) > 100, "rows written", 30)
        code, _, stderr = rig.stop(signal.SIGTERM)
        resyncs = rig.metric_sum(m.RESYNCS.name)
        disconnects = rig.metric_sum(m.RESYNCS.name, reason="disconnected")
    finally:
        rig.close()
    assert code == 0, stderr[-2000:]
    assert disconnects == 0, stderr[-2000:]
    summary = re.search(r"stopped after .* for 3 pairs, ([\d,]+) gaps? since start \(", stderr)
    assert summary is not None, stderr[-2000:]
    assert int(summary.group(1).replace(",", "")) == resyncs, stderr[-2000:]


@pytest.mark.integration
@pytest.mark.slow
def test_no_datadog_agent_is_said_once_not_every_second(tmp_path: Path) -> None:
    """Metrics on (the default) and nothing listening: DogStatsD's client logged 'Error submitting packet' about
    every second, forever, into the collector's log; once is enough to know the agent is missing."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    rig = Rig(f"sqlite:///{tmp_path / 'books.sqlite'}", tmp_path)
    try:
        rig.start("--no-slack", "--statsd-port", str(closed_port))
        # interval snapshots every 3 s: two rounds of them are at least 6 metrics passes (one a second)
        wait_until(lambda: sum(reason == "interval" for _, _, reason in rig.snapshots()) >= 2 * 3, "snapshots", 60)
        code, _, stderr = rig.stop(signal.SIGTERM)
    finally:
        rig.close()
    assert code == 0, stderr[-2000:]
    assert stderr.count("Error submitting packet") == 1, stderr[-3000:]
