"""The trade store's crash ordering, and the OHLCVT archive import with malformed rows."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from candlebot.data.candlefile import load_candles
from candlebot.data.download.candles import find_gaps
from candlebot.data.download.tradestore import TradeRow, TradeStore
from candlebot.errors import ConfigError
from tests.support.bots import REPO

ROWS = [TradeRow(1561939203.172, "10749.4", "0.004", "sell"), TradeRow(1561939205.224, "10749.7", "0.03869709", "buy")]


def test_a_page_appended_but_never_recorded_is_dropped_on_restart(tmp_path):
    store = TradeStore(tmp_path / "XBTUSD")
    state = store.begin("XBTUSD", 1561939200.0)
    state = store.append(state, ROWS[:1], cursor="1561939203172000000", skip=0, caught_up=False)
    with open(store.trades_path, "a") as handle:  # a run that died between the append and the state write
        handle.write(ROWS[1].csv() + "1561939206.0,107")
    resumed = TradeStore(tmp_path / "XBTUSD").begin("XBTUSD", 1561939200.0)
    assert resumed == state and resumed.cursor == "1561939203172000000"
    assert store.trades_path.read_text() == "time,price,volume,side\n" + ROWS[0].csv()
    store.append(resumed, ROWS[1:], cursor="1561939205224000000", skip=0, caught_up=True)
    assert store.trades_path.read_text().splitlines()[1:] == [r.csv().strip() for r in ROWS]


def _kraken_rows(shared_data):
    """Kraken's archive format (no header, a trailing trade count) from a recorded 5-minute file."""
    with gzip.open(shared_data / "kraken/xbtusd_5m_2023q1.csv.gz", "rt") as handle:
        return [line.strip() + ",7" for line in handle.read().splitlines()[1:]]


@pytest.mark.integration
@pytest.mark.slow
def test_an_ohlcvt_archive_is_imported_and_its_malformed_rows_reported(shared_data, tmp_path):
    rows = _kraken_rows(shared_data)
    good = list(rows)
    broken = {10: rows[10].replace(",", ";", 1), 20: rows[20] + ",1", 30: rows[30].split(",")[0] + ",1,1,2,1,1,1"}
    for k, text in broken.items():
        rows[k] = text
    archive = tmp_path / "Kraken_OHLCVT.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("Kraken_OHLCVT/XBTUSD_5.csv", "\n".join(rows) + "\n")
        bundle.writestr("Kraken_OHLCVT/ETHUSD_60.csv", "1672531200,1,1,1,1,1,1\n")
    result = subprocess.run([sys.executable, "-m", "candlebot", "download", "--import", str(archive), "-c", "XBTUSD",
                             "--data-dir", str(tmp_path / "data")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"XBTUSD_5.csv: {len(rows) - 3} candles" in result.stdout
    assert "3 malformed rows left out, first: Kraken_OHLCVT/XBTUSD_5.csv:11: expected 7 fields, got 6" in result.stdout
    assert not (tmp_path / "data" / "ETHUSD_1h.csv").exists()  # only the pair asked for
    imported = load_candles(tmp_path / "data" / "XBTUSD_5m.csv")
    kept = [line for k, line in enumerate(good) if k not in broken]
    assert np.array_equal(imported.times, [int(line.split(",")[0]) for line in kept])
    assert np.array_equal(imported.closes, [float(line.split(",")[4]) for line in kept])


@pytest.mark.slow
@pytest.mark.integration
def test_a_file_that_is_not_a_zip_is_one_line_and_exit_code_2(tmp_path):
    fake = tmp_path / "history.zip"
    fake.write_text("time,open\n")
    result = subprocess.run([sys.executable, "-m", "candlebot", "download", "--import", str(fake)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "is not a zip archive" in line


def test_an_earlier_since_than_the_stored_download_is_refused(tmp_path):
    store = TradeStore(tmp_path / "XBTUSD")
    store.append(store.begin("XBTUSD", 1561939200.0), [TradeRow(1561939203.172, "10749.4", "0.004", "sell")],
                 cursor="1561939203172000000", skip=0, caught_up=False)
    with pytest.raises(ConfigError, match="the trades before it were not prepended"):  # download prepends them first
        TradeStore(tmp_path / "XBTUSD").begin("XBTUSD", 1561939100.0)
    assert TradeStore(tmp_path / "XBTUSD").begin("XBTUSD", 1561939300.0).since == 1561939200.0


@pytest.mark.slow
@pytest.mark.integration
def test_an_import_writes_only_files_the_backtester_reads(tmp_path):
    """Millisecond times are malformed rows (not candles 50,000 years ahead); a file with no good row is not written."""
    archive = tmp_path / "Kraken_OHLCVT.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("XBTUSD_1440.csv", "1561939200,1,2,0.5,1,1,1\n1562025600000,1,2,0.5,1,1,1\n")
        bundle.writestr("ETHUSD_60.csv", "1561939200000,1,2,0.5,1,1,1\n")
    result = subprocess.run([sys.executable, "-m", "candlebot", "download", "--import", str(archive),
                             "--data-dir", str(tmp_path / "data")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "XBTUSD_1440.csv:2: time looks like milliseconds" in result.stdout
    assert len(load_candles(tmp_path / "data" / "XBTUSD_1d.csv")) == 1
    assert "ETHUSD_60.csv: 0 candles, nothing written" in result.stdout
    assert not (tmp_path / "data" / "ETHUSD_1h.csv").exists()


def test_the_longest_gap_is_told_in_its_own_unit_and_utc():
    """Half-minute candles: a one-candle gap is 30 s, not '0 min', and starts at a date, not a unix number."""
    gaps = find_gaps(np.array([1561941240, 1561941270, 1561941330]), 30)
    assert gaps.describe(30) == "1 missing candles in 1 gaps (longest 30s from 2019-07-01 00:35:00)"
    assert find_gaps(np.array([0, 300, 1200]), 300).describe(300) == "2 missing candles in 1 gaps (longest 10m from 1970-01-01 00:10:00)"


def test_data_list_tells_missing_rows_from_flat_ones(shared_data, tmp_path, capsys):
    from candlebot.cli import main
    from candlebot.data.candlefile import load_candles as read

    archive = shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"  # Kraken's archive: periods without trades are missing
    (tmp_path / "XBTUSD_5m.csv.gz").write_bytes(archive.read_bytes())
    times = read(archive).times
    missing = int((times[-1] - times[0]) // 300 + 1 - len(times))
    runs = int((np.diff(times) > 300).sum())

    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0

    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("XBTUSD")]
    assert f"{missing} missing in {runs} gaps (filled flat when loaded)" in row
