"""One process per bot (issue 17): a second process with the same name and state dir exits 2 at once, before any
exchange call, naming the holder; a state file that is another bot's (copied, renamed) or a dangling link is refused.
Real bot processes against the simulator."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from candlebot.identity import BotIdentity
from tests.support.bots import FLIP, ONE_SECOND, BotRun, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_a_second_process_of_a_bot_exits_2_at_once_naming_the_holder(tmp_path):
    sim, elsewhere = start_simulator(), start_simulator()
    first = BotRun(tmp_path, sim.url)
    process = first.start("--paper", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP)
    try:
        wait_until(lambda: " started: " in first.logs(), "the first process to start", timeout=60)

        # the same name and state dir, pointed at another exchange: it must not call it at all
        second = BotRun(tmp_path, elsewhere.url)
        result = second.run("--paper", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "20",
                            timeout=60)

        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        lock = first.store_path.with_suffix(".lock")
        assert len(lines) == 1 and f"PID {process.pid} holds {lock}" in lines[0], result.stderr
        assert elsewhere.counters()["requests"] == 0  # refused before any exchange call
        assert process.poll() is None  # the first one trades on
    finally:
        code, _, err = stop(process)
        sim.stop()
        elsewhere.stop()
    assert code == 0, err

    sim = start_simulator()  # the lock goes with its process: the next start is free
    try:
        result = BotRun(tmp_path, sim.url).run("--paper", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP,
                                               "--stop-after", "3", timeout=60)
        assert result.returncode == 0, result.stderr
    finally:
        sim.stop()


@pytest.mark.slow
def test_a_state_file_of_another_bot_or_a_dangling_link_is_refused(tmp_path):
    sim = start_simulator()
    try:
        alpha = BotRun(tmp_path, sim.url, name="alpha")
        made = alpha.run("--paper", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "2", timeout=60)
        assert made.returncode == 0, made.stderr
        identity = dict(sqlite3.connect(alpha.store_path).execute("SELECT key, value FROM meta"))
        assert (identity["bot_name"], identity["bot_id"], identity["account"]) == (
            "alpha", BotIdentity.from_name("alpha").bot_id, "paper")

        beta = BotRun(tmp_path, sim.url, name="beta")
        shutil.copy(alpha.store_path, beta.store_path)  # copied (or renamed) to another bot's name
        before = sim.counters()["requests"]
        copied = beta.run("--paper", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "20", timeout=60)
        assert copied.returncode == 2, copied.stderr
        assert copied.stderr.count("\n") == 1 and "holds the books of bot 'alpha'" in copied.stderr, copied.stderr
        assert sim.counters()["requests"] == before

        beta.store_path.unlink()
        os.symlink(tmp_path / "gone.sqlite", beta.store_path)  # a link whose target is gone
        dangling = beta.run("--paper", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "20", timeout=60)
        assert dangling.returncode == 2, dangling.stderr
        assert dangling.stderr.count("\n") == 1 and "symbolic link" in dangling.stderr, dangling.stderr
        assert beta.store_path.is_symlink() and not (tmp_path / "gone.sqlite").exists()  # nothing created behind it
    finally:
        sim.stop()


@pytest.mark.slow
def test_bots_on_one_key_must_share_one_state_dir(tmp_path):
    sim = start_simulator()
    key_file = write_key_file(tmp_path)
    live = ("--live", "--key-file", str(key_file), "--cash", "100", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP)
    first = BotRun(tmp_path / "one", sim.url, name="alpha")
    process = first.start(*live)
    try:
        wait_until(lambda: " started: " in first.logs(), "the first bot to start", timeout=60)
        same_dir = BotRun(tmp_path / "one", sim.url, name="beta")  # another bot on the key, in the key's state dir
        ok = same_dir.run(*live, "--stop-after", "3", timeout=60)
        assert ok.returncode == 0, ok.stderr

        other_dir = BotRun(tmp_path / "two", sim.url, name="gamma")
        refused = other_dir.run(*live, "--stop-after", "20", timeout=60)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.count("\n") == 1 and f"--state-dir {first.state_dir}" in refused.stderr, refused.stderr
        assert "must share one state dir" in refused.stderr
    finally:
        code, _, err = stop(process)
        sim.stop()
    assert code == 0, err
