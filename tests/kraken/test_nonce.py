"""Nonces from the per-key locked file: strictly increasing across threads and processes."""

from __future__ import annotations

import multiprocessing
import stat
import threading
from pathlib import Path

import pytest

from candlebot.clock import SimClock
from candlebot.errors import ConfigError
from candlebot.exchanges.kraken.nonce import NonceSequencer


def test_next_nonce_is_clock_in_microseconds_or_last_plus_one(tmp_path: Path) -> None:
    clock = SimClock(1_700_000_000.0)
    sequencer = NonceSequencer("abc", state_dir=tmp_path, clock=clock)

    with sequencer.lease() as lease:
        first, second = lease.next_nonce(), lease.next_nonce()
    clock.at += 1.0
    with sequencer.lease() as lease:
        third = lease.next_nonce()

    assert first == 1_700_000_000_000_000
    assert second == first + 1
    assert third == 1_700_000_001_000_000


def test_nonce_survives_a_clock_going_back(tmp_path: Path) -> None:
    clock = SimClock(2_000_000_000.0)
    with NonceSequencer("abc", state_dir=tmp_path, clock=clock).lease() as lease:
        high = lease.next_nonce()
    clock.at = 1_000_000_000.0

    with NonceSequencer("abc", state_dir=tmp_path, clock=clock).lease() as lease:
        assert lease.next_nonce() == high + 1


def test_nonce_file_is_private(tmp_path: Path) -> None:
    sequencer = NonceSequencer("abc", state_dir=tmp_path)
    with sequencer.lease() as lease:
        lease.next_nonce()

    assert stat.S_IMODE(sequencer.path.stat().st_mode) == 0o600
    assert sequencer.path.parent == tmp_path / "kraken"


def test_nonce_outside_a_lease_is_refused(tmp_path: Path) -> None:
    with NonceSequencer("abc", state_dir=tmp_path).lease() as lease:
        pass

    with pytest.raises(RuntimeError):
        lease.next_nonce()


def test_key_id_must_be_a_file_name_part(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        NonceSequencer("../etc", state_dir=tmp_path)


def _take(where: str | NonceSequencer, count: int, out: "multiprocessing.Queue[list[int]]") -> None:
    # A frozen clock makes every nonce "last + 1": any unlocked read-modify-write shows up as a duplicate.
    sequencer = where if isinstance(where, NonceSequencer) else NonceSequencer("shared", state_dir=where,
                                                                                clock=SimClock(1.0))
    out.put(_taken(sequencer, count))


@pytest.mark.integration
@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.slow
def test_processes_and_threads_never_share_a_nonce(tmp_path: Path, method: str) -> None:
    ctx = multiprocessing.get_context(method)
    out = ctx.Queue()
    shared = NonceSequencer("shared", state_dir=tmp_path, clock=SimClock(1.0))
    with shared.lease() as lease:  # open the file before forking: children must not reuse its lock
        lease.next_nonce()
    # Forked children use the parent's very object (and its open file); spawned ones their own.
    where = shared if method == "fork" else str(tmp_path)
    procs = [ctx.Process(target=_take, args=(where, 300, out)) for _ in range(6)]
    for proc in procs:
        proc.start()
    local: list[int] = []
    threads = [threading.Thread(target=lambda: local.extend(_taken(shared, 200))) for _ in range(3)]
    for thread in threads:
        thread.start()
    results = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    for thread in threads:
        thread.join()

    every = [n for batch in results for n in batch] + local
    assert len(every) == len(set(every)) == 6 * 300 + 3 * 200
    for batch in results:
        assert batch == sorted(batch)


def _taken(sequencer: NonceSequencer, count: int) -> list[int]:
    taken = []
    for _ in range(count):
        with sequencer.lease() as lease:
            taken.append(lease.next_nonce())
    return taken
