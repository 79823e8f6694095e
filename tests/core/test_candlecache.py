"""The candle cache: bit-identical results, invalidated by any change of the source, never a reason to fail."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from candlebot.data.candlecache import CandleCache, default_cache_dir
from candlebot.data.candlefile import load_candles
from tests.core.test_backtest import _run

FIELDS = ("times", "opens", "highs", "lows", "closes", "volumes")


@pytest.fixture()
def candle_file(tmp_path, shared_data):
    path = tmp_path / "data" / "xbtusd_1h.csv"
    path.parent.mkdir()
    shutil.copyfile(shared_data / "kraken/xbtusd_1h_2023q1.csv", path)
    return path


@pytest.fixture()
def cache_dir(tmp_path):
    return tmp_path / "cache"


def _same(a, b) -> bool:
    return all(getattr(a, f).dtype == getattr(b, f).dtype and np.array_equal(getattr(a, f), getattr(b, f)) for f in FIELDS)


def test_the_second_load_maps_the_cache_and_equals_the_parse_bit_for_bit(candle_file, cache_dir):
    parsed = load_candles(candle_file)
    first = CandleCache(cache_dir).load(candle_file)
    [entry] = cache_dir.iterdir()
    second = CandleCache(cache_dir).load(candle_file)
    assert _same(parsed, first) and _same(parsed, second)
    assert isinstance(second.closes, np.memmap) and not isinstance(first.closes, np.memmap)
    assert sorted(p.name for p in entry.iterdir()) == sorted([f"{f}.npy" for f in FIELDS] + ["manifest.json"])


def test_a_prepared_entry_written_behind_is_whole_once_its_writer_ends(candle_file, cache_dir):
    """A backtest process writes its prepared entry on a thread while the run goes on (issue 23: a first run's
    result does not wait for the disk): the load returns the prepared columns, the entry is renamed into place whole
    (no staging left), and the writer is not a daemon, so the interpreter waits for it before exiting."""

    def prepare(columns):
        return columns, {"filled": 0, "longest_run": 0, "tick_rounded": 0}

    cache = CandleCache(cache_dir, write_behind=True)
    first, facts = cache.load_prepared(candle_file, "v", prepare)
    [writer] = cache.writers  # kept, not looked up among live threads: a writer already done would be missed
    assert not writer.daemon
    writer.join()
    [entry] = cache_dir.iterdir()
    assert not entry.name.startswith(".")
    second, _ = CandleCache(cache_dir).load_prepared(candle_file, "v", lambda columns: None)
    assert _same(first, second) and _same(second, load_candles(candle_file)) and isinstance(second.closes, np.memmap)


def test_raw_columns_are_cached_before_the_caller_may_change_them(candle_file, cache_dir):
    """``load`` hands back the parsed columns, which a caller may round in place (a single-candle file): their
    entry is written before it returns, even for a backtest process, so the cache holds the file's values."""
    cache = CandleCache(cache_dir, write_behind=True)
    cache.load(candle_file)
    assert cache.writers == []  # written on the caller's thread, not behind
    [entry] = cache_dir.iterdir()
    assert (entry / "manifest.json").is_file()


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


def test_a_changed_source_misses_and_its_stale_entry_goes(candle_file, cache_dir):
    cache = CandleCache(cache_dir)
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
    assert len(list(cache_dir.iterdir())) == 1


def test_a_damaged_entry_is_parsed_again_and_replaced(candle_file, cache_dir):
    cache = CandleCache(cache_dir)
    cache.load(candle_file)
    [entry] = cache_dir.iterdir()
    (entry / "closes.npy").write_bytes(b"\x93NUMPY garbage")
    again = cache.load(candle_file)
    assert _same(again, load_candles(candle_file)) and not isinstance(again.closes, np.memmap)
    assert isinstance(cache.load(candle_file).closes, np.memmap)


def test_a_read_only_data_directory_is_cached_in_the_cache_directory(candle_file, cache_dir):
    candle_file.parent.chmod(0o555)
    try:
        CandleCache(cache_dir).load(candle_file)
        loaded = CandleCache(cache_dir).load(candle_file)
        assert _same(loaded, load_candles(candle_file)) and isinstance(loaded.closes, np.memmap)
        assert sorted(p.name for p in candle_file.parent.iterdir()) == [candle_file.name]
    finally:
        candle_file.parent.chmod(0o755)


def test_a_read_only_cache_directory_means_no_cache(candle_file, cache_dir):
    cache_dir.mkdir()
    cache_dir.chmod(0o555)
    try:
        loaded = CandleCache(cache_dir).load(candle_file)
        assert _same(loaded, load_candles(candle_file))
        assert list(cache_dir.iterdir()) == []
    finally:
        cache_dir.chmod(0o755)


def test_the_cache_directory_is_the_users(tmp_path):
    home = Path.home()
    assert default_cache_dir({}) == home / ".cache" / "candlebot"
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "candlebot"
    assert default_cache_dir({"XDG_CACHE_HOME": "relative/cache"}) == home / ".cache" / "candlebot"  # the XDG spec: ignored
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path), "CANDLEBOT_CACHE_DIR": str(tmp_path / "x")}) == tmp_path / "x"


@pytest.mark.integration
@pytest.mark.parametrize("where", ["xdg", "home", "flag"])
def test_a_backtest_caches_in_the_users_cache_directory_never_beside_the_data(candle_file, tmp_path, where):
    """The data folder may be shared or read-only: a backtest leaves nothing in it (it used to write .candlebot-cache/)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CANDLEBOT_CACHE_DIR", "XDG_CACHE_HOME")}
    env["HOME"] = str(tmp_path / "home")
    flags: list[str] = []
    if where == "xdg":
        env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    elif where == "flag":
        flags = ["--cache-dir", str(tmp_path / "chosen")]
    expected = {"xdg": tmp_path / "xdg" / "candlebot", "home": tmp_path / "home" / ".cache" / "candlebot",
                "flag": tmp_path / "chosen"}[where]
    result = subprocess.run([sys.executable, "-m", "candlebot", "--data", str(candle_file), "--strategy", "sma_cross", *flags],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in candle_file.parent.iterdir()) == [candle_file.name]
    [entry] = expected.iterdir()
    assert entry.name.startswith(candle_file.name) and (entry / "manifest.json").is_file()


def test_an_unwritable_cache_dir_falls_back_to_parsing(candle_file, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    loaded = CandleCache(blocker / "cache").load(candle_file)
    assert _same(loaded, load_candles(candle_file))


def test_a_backtest_caches_its_candles_filled_and_on_the_tick_so_a_later_run_does_no_load_time_work(shared_data, tmp_path):
    """The cached entry is the convention's output (gaps filled, prices on XBTUSD's 0.1 tick), with what the
    convention changed in its manifest: a cached run maps it and reports the same, bit for bit."""
    from decimal import Decimal

    from candlebot.data.gaps import fill_gaps
    from candlebot.data.ticks import round_to_tick

    data = shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"  # 19 missing bars
    results = []
    for flags in (["--no-cache"], ["--cache-dir", str(tmp_path)], ["--cache-dir", str(tmp_path)]):
        backtest, report = _run("sma_cross", data, *flags)
        summary = report.to_json()
        summary.pop("elapsed_s")
        results.append((summary, bytes(backtest.chart.closes), bytes(backtest.chart.opens)))
    assert results[0] == results[1] == results[2]
    (entry,) = tmp_path.iterdir()
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["facts"]["filled"] == 19 and manifest["facts"]["longest_run"] > 1
    gapless = fill_gaps(load_candles(data), 300).candles
    expected = round_to_tick(gapless, Decimal("0.1"))
    assert manifest["facts"]["tick_rounded"] == expected.changed
    assert _same(CandleCache(tmp_path).load_prepared(data, f"tick={Decimal('0.1')} keep_gaps=False", lambda c: None)[0],
                 expected.candles)
