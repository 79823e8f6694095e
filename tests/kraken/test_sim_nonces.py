"""Many processes sharing one key against one simulator: never an invalid nonce."""

from __future__ import annotations

import pytest

import multiprocessing
from pathlib import Path
from typing import Any

from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.assembly.venues import kraken_venue
from tests.kraken.conftest import KEY, SECRET, fast_config

pytestmark = pytest.mark.integration

PROCESSES = 8
CALLS = 220


def _bot(url: str, key: str, secret: str, state_dir: str, calls: int, ready: Any, go: Any, out: Any) -> None:
    exchange = kraken_venue(fast_config(url), credentials=KrakenCredentials(key, secret), state_dir=state_dir)
    ready.put(True)
    go.wait(60)  # every process starts calling at once, so their calls really interleave
    errors = 0
    for i in range(calls):
        try:
            if i % 2:
                exchange.balances()
            else:
                exchange.open_orders()
        except Exception:  # counted, then asserted on in the parent
            errors += 1
    out.put(errors)


@pytest.mark.slow
def test_eight_processes_sharing_a_key_never_send_an_invalid_nonce(sim: Any, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    ready, go = ctx.Queue(), ctx.Event()
    bots = [ctx.Process(target=_bot, args=(sim.url, KEY, SECRET, str(tmp_path), CALLS, ready, go, out))
            for _ in range(PROCESSES)]

    for bot in bots:
        bot.start()
    for _ in bots:
        ready.get(timeout=60)
    go.set()
    errors = [out.get(timeout=120) for _ in bots]
    for bot in bots:
        bot.join(timeout=30)

    counters = sim.counters()
    assert errors == [0] * PROCESSES
    assert counters["invalid_nonce"] == 0 and counters["invalid_signature"] == 0
    assert counters["private"] >= PROCESSES * CALLS


@pytest.mark.slow
def test_without_the_shared_sequencer_processes_do_collide(sim: Any, tmp_path: Path) -> None:
    """The control: each process with its own state dir (no shared file) gets invalid nonces."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    ready, go = ctx.Queue(), ctx.Event()
    bots = [ctx.Process(target=_bot, args=(sim.url, KEY, SECRET, str(tmp_path / f"own{i}"), 100, ready, go, out))
            for i in range(4)]

    for bot in bots:
        bot.start()
    for _ in bots:
        ready.get(timeout=60)
    go.set()
    for _ in bots:
        out.get(timeout=120)
    for bot in bots:
        bot.join(timeout=30)

    assert sim.counters()["invalid_nonce"] > 0
