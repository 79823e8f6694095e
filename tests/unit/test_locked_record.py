"""The one-line record file that the nonce sequencer and the trading counters share between processes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from candlebot.errors import ConfigError
from candlebot.lockedrecord import LockedRecord


def test_the_record_is_rewritten_in_place_at_its_fixed_width(tmp_path: Path) -> None:
    record = LockedRecord(tmp_path / "kraken" / "key-k.state", width=32, what="the nonce file")
    with record.locked() as fd:
        assert record.read(fd) == ""
        record.write(fd, "1234567890 12.5 99.0")
        record.write(fd, "7 0.0 1.0")  # shorter: the rest of the line is blanked, not left behind

    other = LockedRecord(record.path, width=32, what="the nonce file")
    with other.locked() as fd:
        assert other.read(fd) == "7 0.0 1.0"
    assert record.path.stat().st_size == 32 and record.path.read_bytes().endswith(b"\n")
    assert stat.S_IMODE(record.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.path.parent.stat().st_mode) == 0o700
    record.close()
    other.close()


def test_try_locked_gives_nothing_while_another_holder_has_the_record(tmp_path: Path) -> None:
    path = tmp_path / "key-k.state"
    holder, other = LockedRecord(path, width=16, what="x"), LockedRecord(path, width=16, what="x")

    with holder.locked():
        with other.try_locked() as fd:
            assert fd is None  # another descriptor (as another process's) holds the lock
        with holder.try_locked() as fd:
            assert fd is None  # another thread of this process holds it
    with other.try_locked() as fd:
        assert fd is not None
    holder.close()
    other.close()


def test_an_unusable_folder_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "kraken").write_text("a file where the folder should be")
    record = LockedRecord(tmp_path / "kraken" / "key-k.trading-XBTUSD", width=16, what="the trading counter")

    with pytest.raises(ConfigError, match="cannot open the trading counter .*key-k.trading-XBTUSD"):
        with record.locked():
            pass
