"""A fleet on one starter key starts polling at once, and its start reads the account once (issue 17, item 6).

Twelve live bots are launched together on one key whose REST counter (starter: 15, regaining 0.33 a second) cannot
pay every bot's own account read at start. Each bot polls within a few poll intervals of its own first log line,
however many bots share the key; no bot sends an order before its start-up audit has compared its books with the
account; and the whole fleet's start-up costs one Balance read. Real bot processes, one simulator, one state dir.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.bots import REPO, BotRun, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BOTS = 12
POLL_S = 0.5
FIRST_POLL_S = 16 * POLL_S  # from a bot's first log line to its first ticker line: a few polls, whatever BOTS is
EVERY = "tests.support.strategies:Every"
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}):")
AGREE = "audit: the books agree with the account"


def stamped(text: str) -> list[tuple[float, str]]:
    found = []
    for line in text.splitlines():
        match = _STAMP.match(line)
        if match:
            when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=timezone.utc)
            found.append((when.timestamp(), line))
    return found


def first(lines: list[tuple[float, str]], needle: str) -> float | None:
    return next((when for when, line in lines if needle in line), None)


class FleetBot(BotRun):
    """A bot with its own log folder, in the fleet's one state dir (bots on one key share it)."""

    def __init__(self, folder: Path, url: str, name: str, shared: Path) -> None:
        super().__init__(folder, url, name)
        self.shared = shared

    @property
    def state_dir(self) -> Path:
        return self.shared


def test_a_fleet_on_one_starter_key_polls_at_once_and_reads_the_account_once(tmp_path):
    sim = start_simulator(tier="starter", balances={"ZUSD": Decimal("1000000")})
    key_file = write_key_file(tmp_path)
    bots = [FleetBot(tmp_path / f"bot{i}", sim.url, f"bot{i}", tmp_path / "state") for i in range(BOTS)]
    processes: list[subprocess.Popen] = []
    try:
        for bot in bots:
            argv = bot.argv("--live", "--key-file", str(key_file), "--cash", "1000", "--no-statsd", "--strategy", EVERY,
                            "--param", "every=3", "-p", "0.05", "-t", str(POLL_S))
            argv[argv.index("--kraken-tier") + 1] = "starter"
            processes.append(subprocess.Popen(argv, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))

        def exited() -> list[str]:
            return [f"{bot.name}: exit {p.returncode}" for bot, p in zip(bots, processes) if p.poll() is not None]

        def all_audited() -> bool:
            assert not exited(), exited()
            return all(AGREE in bot.logs() and "Current: " in bot.logs() for bot in bots)

        # generous: today's code needs about 5 units of the key per bot before its first poll (60 for 12 bots)
        wait_until(all_audited, "every bot's first poll and start-up audit", timeout=240)
        balance_reads = sim.counters().get("private.Balance", 0)
        late = {}
        for bot in bots:
            lines = stamped(bot.logs())
            started, polled, audited = lines[0][0], first(lines, "Current: "), first(lines, AGREE)
            assert polled is not None and audited is not None
            if polled - started > FIRST_POLL_S:
                late[bot.name] = round(polled - started, 1)
            store = bot.store()
            try:
                early = [o["userref"] for o in store.orders() if float(o["created"]) < audited]
            finally:
                store.close()
            assert not early, f"{bot.name} sent orders {early} before its start-up audit"
        assert not late, f"first poll later than {FIRST_POLL_S:g} s after the bot's first log line: {late}"
        # one read serves every bot started while it is fresh (a loaded machine may spread the starts past that)
        assert balance_reads <= 2, f"the fleet's start read the account balance {balance_reads} times, not once"
    finally:
        results = [stop(p, timeout=30) for p in processes]
        sim.stop()
    assert all(code == 0 for code, _, _ in results), [err[-300:] for _, _, err in results]
    assert sim.counters().get("invalid_nonce", 0) == 0
