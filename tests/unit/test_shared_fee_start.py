"""Two bots of one key starting together read the account's fee tier (TradeVolume) once: the second waits for the
first's reading (or, on the poll loop, which never waits, takes it at its next poll) instead of reading again."""

from __future__ import annotations

import logging
import os
import threading
from decimal import Decimal
from pathlib import Path

from candlebot.clock import SimClock
from candlebot.exchanges.kraken.replies import AccountFees
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.live.fees import AccountFee
from candlebot.live.feeshare import SharedFee
from tests.support.wait import wait_until

PAIR = find_pair(offline_pairs(), "XBTUSD")
LOG = logging.getLogger("test.fee.start")
TIER = AccountFees(Decimal("0.0024"), Decimal("0.001"), Decimal("60000"))


class TradeVolume:
    """The key's TradeVolume, counted; the first read is held until ``release`` (a slow reply, a busy budget)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.reading = threading.Event()
        self.gate = threading.Event()

    def reader(self, bot: str):
        def read(deferrable: bool) -> AccountFees:
            self.calls.append(bot)
            if len(self.calls) == 1:
                self.reading.set()
                assert self.gate.wait(30), "the first read was never released"
            return TIER
        return read


def bot(folder: Path, volume: TradeVolume, name: str, clock: SimClock, flag: str | None = None) -> AccountFee:
    shared = SharedFee(folder, "k1", PAIR.name, volume.reader(name), clock.monotonic)
    return AccountFee(shared, PAIR, flag=None if flag is None else Decimal(flag), flag_text=flag, log=LOG)


def waits_for_lock(path: Path) -> bool:
    """Some thread or process is blocked waiting for the ``flock`` on ``path`` (Linux's /proc/locks: ``->``)."""
    try:
        inode = str(os.stat(path).st_ino)
    except FileNotFoundError:
        return False
    with open("/proc/locks") as locks:
        return any("->" in line and line.split()[6].rsplit(":", 1)[-1] == inode for line in locks)


def test_a_bot_starting_while_another_reads_the_tier_takes_its_reading_at_the_next_poll(tmp_path) -> None:
    clock, volume = SimClock(1000.0), TradeVolume()
    alpha, beta = bot(tmp_path, volume, "alpha", clock), bot(tmp_path, volume, "beta", clock)
    started = threading.Thread(target=alpha.start, kwargs={"live": True})
    started.start()
    try:
        assert volume.reading.wait(10)
        first = beta.start(live=True)  # alpha's read is in flight: beta does not read the same tier again
        assert first.source == "published" and volume.calls == ["alpha"]
    finally:
        volume.gate.set()
        started.join(10)
    assert alpha.rate == Decimal("0.0024")
    beta.poll()  # the next ticker poll: alpha's reading, no call
    assert beta.rate == Decimal("0.0024") and volume.calls == ["alpha"]


def test_bots_that_must_wait_for_the_tier_wait_for_one_read(tmp_path) -> None:
    """With --fee the start waits for the account's fee (the flag is checked against it): one read serves both."""
    clock, volume = SimClock(1000.0), TradeVolume()
    bots = [bot(tmp_path, volume, name, clock, flag="0.0026") for name in ("alpha", "beta")]
    readings: dict[int, object] = {}
    threads = [threading.Thread(target=lambda i=i: readings.update({i: bots[i].start(live=True)})) for i in (0, 1)]
    threads[0].start()
    try:
        assert volume.reading.wait(10)
        threads[1].start()
        lock = tmp_path / f"k1-fee-{PAIR.name}.lock"
        wait_until(lambda: waits_for_lock(lock) or len(volume.calls) > 1, "beta to wait for alpha's read, or read")
    finally:
        volume.gate.set()
        for thread in threads:
            thread.join(10)
    assert volume.calls == ["alpha"]
    assert [readings[i].account for i in (0, 1)] == [Decimal("0.0024")] * 2
