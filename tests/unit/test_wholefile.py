"""The one way the live package writes a file other processes read: whole or not at all."""

from __future__ import annotations

import pytest

from candlebot.live.wholefile import UnreadableFile, read_json, write_json


def test_a_file_is_replaced_whole_and_read_back(tmp_path) -> None:
    path = tmp_path / "k1-XXBT.hold"
    write_json(path, {"asset": "XXBT", "at": 1.5})
    write_json(path, {"asset": "XXBT", "at": 2.5})
    assert read_json(path) == {"asset": "XXBT", "at": 2.5}
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left beside it


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path) -> None:
    path = tmp_path / "k1-fee-XXBTZUSD.json"
    write_json(path, {"taker": "0.0026"})
    with pytest.raises(TypeError):
        write_json(path, {"taker": object()})  # not JSON: fails before anything replaces the old file
    assert read_json(path) == {"taker": "0.0026"} and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_missing_file_is_not_an_unreadable_one(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "absent.json")
    half = tmp_path / "half.json"
    half.write_text('{"taker": "0.00')  # what a writer without the rename could leave
    with pytest.raises(UnreadableFile, match="half.json is not whole JSON"):
        read_json(half)
