"""A fleet on one starter key starts polling at once, and its start reads the account once (issue 17, item 6).

Twelve live bots are launched together on one key whose REST counter (starter: 15, regaining 0.33 a second) cannot
pay every bot's own account read at start. Each bot's first poll waits for no private call: every bot polls while
another process holds the key (no private call can go out), and its first poll comes before its start-up audit has
compared; no bot sends an order before that audit; and the whole fleet's start-up costs one Balance read. Real bot
processes, one simulator, one state dir. Proven by the order of events, not by timing, so a loaded machine that
starts the bots slowly cannot fail it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken.nonce import NonceSequencer
from tests.support.bots import KEY, SECRET, BotRun, first_time, log_times, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BOTS = 12
POLL_S = 0.5
EVERY = "tests.support.strategies:Every"
AGREE = "audit: the books agree with the account"
POLLED = "Current: "  # the ticker line each poll logs


class FleetBot(BotRun):
    """A bot with its own log folder, in the fleet's one state dir (bots on one key share it)."""

    def __init__(self, folder: Path, url: str, name: str, shared: Path) -> None:
        super().__init__(folder, url, name, tier="starter")
        self.shared = shared

    @property
    def state_dir(self) -> Path:
        return self.shared


def hold_the_key(state_dir: Path) -> int:
    """Hold the key's lock as another process does while its private call is in flight: no bot on the key can send
    a private call (nor wait for the rate counter) until it is released; a call that may be put off is put off."""
    path = NonceSequencer(KrakenCredentials(KEY, SECRET).key_id, state_dir=state_dir).path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    holder = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    return holder


def test_a_fleet_on_one_starter_key_polls_at_once_and_reads_the_account_once(tmp_path):
    sim = start_simulator(tier="starter", balances={"ZUSD": Decimal("1000000")})
    key_file = write_key_file(tmp_path)
    bots = [FleetBot(tmp_path / f"bot{i}", sim.url, f"bot{i}", tmp_path / "state") for i in range(BOTS)]
    processes: list[subprocess.Popen] = []
    holder: int | None = hold_the_key(tmp_path / "state")
    try:
        for bot in bots:
            processes.append(bot.start("--live", "--key-file", str(key_file), "--cash", "1000", "--no-statsd",
                                       "--strategy", EVERY, "--param", "every=3", "-p", "0.05", "-t", str(POLL_S),
                                       stdout=subprocess.DEVNULL))

        def exited() -> list[str]:
            return [f"{bot.name}: exit {p.returncode}" for bot, p in zip(bots, processes) if p.poll() is not None]

        def all_logged(needle: str) -> bool:
            assert not exited(), exited()
            return all(needle in bot.logs() for bot in bots)

        # however slowly a loaded machine starts them, every bot polls with no private call possible: its start
        # (the account read, the fee read, the start-up audit) waits for none before its first poll
        wait_until(lambda: all_logged(POLLED), "every bot's first poll while the key is held", timeout=240)
        audited = [bot.name for bot in bots if AGREE in bot.logs()]
        assert not audited, f"{audited} audited while the key was held: the hold did not keep private calls out"
        os.close(holder)  # releases the lock
        holder = None

        # generous: the fleet's start-up audits share the key's budget
        wait_until(lambda: all_logged(AGREE), "every bot's start-up audit", timeout=240)
        balance_reads = sim.counters().get("private.Balance", 0)
        for bot in bots:
            audited_at = first_time(log_times(bot.logs()), AGREE)
            assert audited_at is not None
            store = bot.store()
            try:
                early = [o["userref"] for o in store.orders() if float(o["created"]) < audited_at]
            finally:
                store.close()
            assert not early, f"{bot.name} sent orders {early} before its start-up audit"
        # one read serves every bot audited while it is fresh (a loaded machine may spread the audits past that)
        assert balance_reads <= 2, f"the fleet's start read the account balance {balance_reads} times, not once"
    finally:
        if holder is not None:
            os.close(holder)
        results = [stop(p, timeout=30) for p in processes]
        sim.stop()
    assert all(code == 0 for code, _, _ in results), [err[-300:] for _, _, err in results]
    assert sim.counters().get("invalid_nonce", 0) == 0
