"""The crash count a bot keeps beside its state file (candlebot/live/crashes.py): what counts as a crash, the window,
the refusal, and that the refusal starts the count over."""

from __future__ import annotations

import json
import os

import pytest

from candlebot.live.crashes import CrashLoop, CrashRecord

OTHER_PID = os.getpid() + 100_000  # a process that left its mark and is gone


class Monotonic:
    def __init__(self, at: float = 10_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def left_by_a_crash(path, crashes=()) -> None:
    path.write_text(json.dumps({"running": OTHER_PID, "crashes": list(crashes)}))


def test_a_mark_left_by_a_dead_process_is_a_crash_and_a_clean_exit_leaves_none(tmp_path):
    clock = Monotonic()
    record = CrashRecord(tmp_path / "bot.crashes", clock, limit=3, window_s=600)
    record.start("bot 'b'")  # a first start: nothing to count
    record.clean_exit()
    assert not record.path.exists()  # nothing to remember
    clock.at += 1
    record.start("bot 'b'")
    assert json.loads(record.path.read_text()) == {"running": os.getpid(), "crashes": []}
    record.start("bot 'b'")  # this process's own mark (a rebuild in one process) is no crash
    left_by_a_crash(record.path)
    record.start("bot 'b'")
    assert json.loads(record.path.read_text())["crashes"] == [clock.at]


def test_the_limit_within_the_window_refuses_once_and_the_count_starts_over(tmp_path):
    clock = Monotonic()
    record = CrashRecord(tmp_path / "bot.crashes", clock, limit=3, window_s=600)
    left_by_a_crash(record.path, [clock.at - 700, clock.at - 500])  # one of them too old to count
    record.start("bot 'b'")  # 2 crashes in the window (the old one dropped, the mark added): still < 3
    left_by_a_crash(record.path, json.loads(record.path.read_text())["crashes"])
    with pytest.raises(CrashLoop, match=r"bot 'b' crashed 3 times within 10 minutes .* fix that, then start it again"):
        record.start("bot 'b'")
    assert json.loads(record.path.read_text()) == {"crashes": []}  # refused: no mark, the count starts over
    record.start("bot 'b'")  # a person's start


def test_times_from_before_a_reboot_do_not_count_and_limit_0_never_refuses(tmp_path):
    clock = Monotonic(50.0)  # the machine restarted: CLOCK_MONOTONIC began again
    record = CrashRecord(tmp_path / "bot.crashes", clock, limit=2, window_s=600)
    left_by_a_crash(record.path, [9_000.0, 9_100.0])
    record.start("bot 'b'")
    assert json.loads(record.path.read_text())["crashes"] == [50.0]  # only the mark the reboot left
    unbounded = CrashRecord(tmp_path / "other.crashes", clock, limit=0, window_s=600)
    for _ in range(20):
        left_by_a_crash(unbounded.path, json.loads(unbounded.path.read_text())["crashes"] if unbounded.path.exists() else [])
        unbounded.start("bot 'o'")
    assert len(json.loads(unbounded.path.read_text())["crashes"]) == 20


def test_a_clean_exit_never_removes_another_process_mark(tmp_path):
    record = CrashRecord(tmp_path / "bot.crashes", Monotonic(), limit=3, window_s=600)
    left_by_a_crash(record.path, [1.0])  # e.g. a second process refused by the lock ends cleanly beside the first
    record.clean_exit()
    assert json.loads(record.path.read_text()) == {"running": OTHER_PID, "crashes": [1.0]}
