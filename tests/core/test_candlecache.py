"""The candle cache: bit-identical results, invalidated by any change of the source, never a reason to fail."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from candlebot.data.candlecache import SUBDIR, CandleCache
from candlebot.data.candlefile import load_candles
from tests.core.test_backtest import _run

FIELDS = ("times", "opens", "highs", "lows", "closes", "volumes")


@pytest.fixture()
def candle_file(tmp_path, shared_data):
    path = tmp_path / "data" / "xbtusd_1h.csv"
    path.parent.mkdir()
    shutil.copyfile(shared_data / "kraken/xbtusd_1h_2023q1.csv", path)
    return path


def _same(a, b) -> bool:
    return all(getattr(a, f).dtype == getattr(b, f).dtype and np.array_equal(getattr(a, f), getattr(b, f)) for f in FIELDS)


def test_the_second_load_maps_the_cache_and_equals_the_parse_bit_for_bit(candle_file):
    parsed = load_candles(candle_file)
    first = CandleCache().load(candle_file)
    [entry] = (candle_file.parent / SUBDIR).iterdir()
    second = CandleCache().load(candle_file)
    assert _same(parsed, first) and _same(parsed, second)
    assert isinstance(second.closes, np.memmap) and not isinstance(first.closes, np.memmap)
    assert sorted(p.name for p in entry.iterdir()) == sorted([f"{f}.npy" for f in FIELDS] + ["manifest.json"])


@pytest.mark.slow
def test_backtest_results_are_identical_with_and_without_the_cache(shared_data, tmp_path):
    data = shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"
    results = []
    for flags in (["--no-cache"], ["--cache-dir", str(tmp_path)], ["--cache-dir", str(tmp_path)]):
        backtest, report = _run("macd", data, *flags)
        summary = report.to_json()
        summary.pop("elapsed_s")
        results.append((json.dumps(summary, sort_keys=True), [repr(t) for t in backtest.ledger.trades],
                        bytes(backtest.chart.closes), bytes(backtest.chart.times)))
    assert len(list(tmp_path.iterdir())) == 1
    assert results[0] == results[1] == results[2]
    assert json.loads(results[0][0])["trades"] > 10


def test_a_changed_source_misses_and_its_stale_entry_goes(candle_file):
    cache = CandleCache()
    before = cache.load(candle_file)
    stat = candle_file.stat()
    text = candle_file.read_bytes()
    last = text.rstrip(b"\n").rsplit(b"\n", 1)[1]
    changed = last.split(b",")
    changed[5] = changed[5][:-1] + (b"7" if changed[5][-1:] != b"7" else b"8")  # same size, other volume
    candle_file.write_bytes(text.replace(last, b",".join(changed)))
    os.utime(candle_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same mtime
    after = cache.load(candle_file)
    assert after.volumes[-1] != before.volumes[-1]
    assert _same(after, load_candles(candle_file))
    assert len(list((candle_file.parent / SUBDIR).iterdir())) == 1


def test_a_damaged_entry_is_parsed_again_and_replaced(candle_file):
    cache = CandleCache()
    cache.load(candle_file)
    [entry] = (candle_file.parent / SUBDIR).iterdir()
    (entry / "closes.npy").write_bytes(b"\x93NUMPY garbage")
    again = cache.load(candle_file)
    assert _same(again, load_candles(candle_file)) and not isinstance(again.closes, np.memmap)
    assert isinstance(cache.load(candle_file).closes, np.memmap)


def test_a_read_only_data_directory_is_used_without_a_cache(candle_file):
    candle_file.parent.chmod(0o555)
    try:
        loaded = CandleCache().load(candle_file)
        assert _same(loaded, load_candles(candle_file))
        assert not (candle_file.parent / SUBDIR).exists()
    finally:
        candle_file.parent.chmod(0o755)


def test_an_unwritable_cache_dir_falls_back_to_parsing(candle_file, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    loaded = CandleCache(blocker / "cache").load(candle_file)
    assert _same(loaded, load_candles(candle_file))
