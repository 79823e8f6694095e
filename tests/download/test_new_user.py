"""A new user's first downloads, offline: what is typed wrong is refused up front, in words for what was typed."""

from __future__ import annotations

import pytest

from candlebot.cli import main
from candlebot.cli.download import _request, build_parser

OFFLINE = ["--kraken-url", "http://127.0.0.1:9"]  # nothing listens there: a refusal must come before any call


def test_a_pair_the_catalog_lacks_is_refused_before_any_call_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["download", "-c", "XBTUSX", "-p", "5", "--from", "2024-01-01", *OFFLINE])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "unknown pair 'XBTUSX'" in line and "did you mean XBTUSD" in line
    assert "run the same command again" not in line
    assert list(tmp_path.iterdir()) == []  # no data/kraken/XBTUSX that `data list` would call incomplete


def test_one_bad_pair_among_good_ones_refuses_them_all_before_anything_starts(tmp_path, capsys):
    code = main(["download", "-c", "XBTUSD", "-c", "ETHUSX", "-p", "5", "--from", "2024-01-01", "-o",
                 str(tmp_path / "data"), *OFFLINE])
    assert code == 2 and "unknown pair 'ETHUSX'" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("typed", ["XBTUSD", "xbtusd", "XBT/USD", "btc/usd", "BTCUSD"])
def test_a_pair_is_downloaded_under_krakens_name_whatever_the_spelling(typed, tmp_path):
    args = build_parser().parse_args(["-c", typed, "-p", "5", "--from", "2024-01-01", "-o", str(tmp_path)])
    assert _request(args).pairs == ("XBTUSD",)


@pytest.mark.parametrize("typed", ["2099-01-01", "2099-01-01T12:00", "4070908800"])
def test_a_future_date_or_time_is_not_called_milliseconds(typed, tmp_path, capsys):
    code = main(["download", "-c", "XBTUSD", "-p", "5", "--from", typed, "-o", str(tmp_path), *OFFLINE])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and f"--from {typed}" in line and "is in the future" in line and "2099-01-01" in line
    assert "milliseconds" not in line


def test_a_time_in_milliseconds_is_named_as_such(tmp_path, capsys):
    code = main(["download", "-c", "XBTUSD", "-p", "5", "--from", "1704067200000", "-o", str(tmp_path), *OFFLINE])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "milliseconds" in line and "1704067200" in line and "2024-01-01" in line
