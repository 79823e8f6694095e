"""Order references stay unique across the bots of a machine and across restarts (one locked record per state dir)."""

from __future__ import annotations

import pytest

from candlebot.errors import ConfigError
from candlebot.live.userrefs import UserrefSequence

NOW = 1_800_000_000.0


def test_two_bots_on_one_state_dir_never_share_a_reference_and_a_restart_continues_above(tmp_path) -> None:
    alpha, beta = (UserrefSequence(tmp_path, now=lambda: NOW, block=4) for _ in range(2))
    refs = [alpha() for _ in range(6)] + [beta() for _ in range(6)] + [alpha() for _ in range(3)]
    alpha.close()
    beta.close()

    restarted = UserrefSequence(tmp_path, now=lambda: NOW, block=4)
    later = restarted()
    restarted.close()

    assert len(set(refs)) == len(refs) and later > max(refs)
    assert (tmp_path / "userref.seq").read_bytes() == f"{later + 3}".ljust(31).encode() + b"\n"


def test_an_unusable_state_dir_is_refused_when_the_sequence_is_made(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(ConfigError, match="cannot open the userref sequence"):
        UserrefSequence(blocker / "state", now=lambda: NOW)
