"""``candlebot download`` end to end against the simulator replaying real Kraken trade files."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from candlebot.data.candlefile import load_candles, load_trades
from candlebot.cli import main
from candlebot.data.resample import candles_from_trades
from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig
from tests.support.bots import REPO
from tests.support.terminal import run_on_terminal
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration

FILES = {  # trades file -> (pair, unix time just after its last trade)
    "kraken/xbtusd_trades_2019-07-01.csv": ("XBTUSD", 1561942792),
    "kraken/xbtusdt_trades_2025-11-10.csv": ("XBTUSDT", 1762820036),
}


def replay(shared_data, name: str) -> KrakenSimulator:
    pair, end = FILES[name]
    return KrakenSimulator(SimConfig(data=shared_data / name, pair=pair, start=end, tier="none")).start()


def _equal_columns(a, b, fields) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in fields)


OHLC = ("times", "opens", "highs", "lows", "closes")


def _decimal_volumes(path, times, period) -> list[Decimal]:
    """Each candle's volume as the exact decimal sum of its trades' volume strings (no float in between)."""
    sums: dict[int, Decimal] = defaultdict(Decimal)
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            sums[int(float(row["time"])) // period * period] += Decimal(row["volume"])
    return [sums[int(t)] for t in times]


def _volumes_exact(written, path, period) -> bool:
    return written.volumes.tolist() == [float(v) for v in _decimal_volumes(path, written.times, period)]


def _filled(candles, period):
    """A flat candle (the previous close, volume 0) for every period without trades, as Kraken's OHLC and a polling
    bot make it (a plain loop, independent of candlebot's filling)."""
    rows = []
    for row in zip(*(c.tolist() for c in candles._columns())):
        while rows and rows[-1][0] + period < row[0]:
            close = rows[-1][4]
            rows.append((rows[-1][0] + period, close, close, close, close, 0.0))
        rows.append(row)
    columns = [np.array(c) for c in zip(*rows)]
    return type(candles)(columns[0].astype(np.int64), *columns[1:])


@pytest.mark.parametrize("name", sorted(FILES))
def test_candles_from_downloaded_trades_equal_candles_from_the_file(shared_data, tmp_path, capsys, name):
    pair, _ = FILES[name]
    original = load_trades(shared_data / name)
    since = int(original.times[0]) - 5
    with replay(shared_data, name) as sim:
        code = main(["download", "-c", pair, "-p", "1", "--since", str(since),
                     "--data-dir", str(tmp_path), "--kraken-url", sim.url, "--pace", "0"])
        public_calls = sim.counters()["public"]
    out = capsys.readouterr().out
    assert code == 0, out
    downloaded = load_trades(tmp_path / pair / "trades.csv")
    assert _equal_columns(downloaded, original, ("times", "prices", "volumes"))  # every trade, once, exactly
    pages = -(-len(original) // 1000) + (len(original) % 1000 == 0)  # a full last page asks once more
    assert public_calls == pages + 1  # the Trades pages and one OHLC call: nothing fetched twice
    expected = candles_from_trades(original, 60)
    # the newest minute may still be forming; the one --since cuts may have had trades before it
    expected = _filled(expected.between(-(-since // 60) * 60, float(expected.times[-1])), 60)
    written = load_candles(tmp_path / f"{pair}_1m.csv")
    assert _equal_columns(written, expected, OHLC)
    # volumes as the decimal sums of the trades, written as such: a float sum read 0.5387711400000001
    assert _volumes_exact(written, shared_data / name, 60)
    volume_texts = [line.rsplit(",", 1)[1] for line in (tmp_path / f"{pair}_1m.csv").read_text().splitlines()[1:]]
    exact = _decimal_volumes(shared_data / name, written.times, 60)
    assert [Decimal(text) for text in volume_texts] == exact and all(len(t.partition(".")[2]) <= 8 for t in volume_texts)
    assert f"{len(expected)} candles of 1m" in out and "equal Kraken's OHLC" in out and "differ" not in out

    main(["data", "list", "--data-dir", str(tmp_path)])
    listing = capsys.readouterr().out.splitlines()
    assert any(line.split()[:2] == [pair, "1m"] and f"{len(expected):,}" in line for line in listing)
    assert any(line.split()[:2] == [pair, "trades"] and "caught up" in line for line in listing)


def test_until_stops_inside_a_page_and_a_later_run_continues_exactly(shared_data, tmp_path, capsys):
    name = "kraken/xbtusd_trades_2019-07-01.csv"
    original = load_trades(shared_data / name)
    cut = float(original.times[1500])  # inside the second page
    flags = ["download", "-c", "XBTUSD", "-p", "5", "--since", "2019-07-01", "--data-dir", str(tmp_path), "--pace", "0"]
    with replay(shared_data, name) as sim:
        assert main([*flags, "--kraken-url", sim.url, "--until", repr(cut)]) == 0
        first = load_trades(tmp_path / "XBTUSD" / "trades.csv")
        assert first.times[-1] < cut and len(first) == int(np.searchsorted(original.times, cut))
        assert load_candles(tmp_path / "XBTUSD_5m.csv").times[-1] + 300 <= cut  # the cut bucket is left out
        assert main([*flags, "--kraken-url", sim.url]) == 0
    assert _equal_columns(load_trades(tmp_path / "XBTUSD" / "trades.csv"), original, ("times", "prices", "volumes"))
    assert "reached --until" in capsys.readouterr().out


@pytest.mark.slow
def test_an_interrupted_download_resumes_from_its_cursor(shared_data, tmp_path):
    name = "kraken/xbtusd_trades_2019-07-01.csv"
    state_file = tmp_path / "XBTUSD" / "download.json"
    argv = [sys.executable, "-m", "candlebot", "download", "-c", "XBTUSD", "-p", "1", "--since", "2019-07-01",
            "--data-dir", str(tmp_path)]
    with replay(shared_data, name) as sim:
        process = subprocess.Popen([*argv, "--kraken-url", sim.url, "--pace", "2"], cwd=REPO,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: state_file.exists() and json.loads(state_file.read_text())["trades"], "a first saved cursor")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert "interrupted; run the same command again to continue" in err and "Traceback" not in err
        assert json.loads(state_file.read_text())["trades"] == 1000
        interrupted_calls = sim.counters()["public"]
        resumed = subprocess.run([*argv, "--kraken-url", sim.url, "--pace", "0"], cwd=REPO, capture_output=True,
                                 text=True, timeout=60)
        assert resumed.returncode == 0, resumed.stderr
        total_calls = sim.counters()["public"]
    assert interrupted_calls == 1
    assert total_calls == 3 + 1  # three Trades pages in all, then one OHLC: no page fetched twice
    original = load_trades(shared_data / name)
    assert _equal_columns(load_trades(tmp_path / "XBTUSD" / "trades.csv"), original, ("times", "prices", "volumes"))
    assert "1,672 trades in 2 calls" in resumed.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-p", "1", "--since", "2019-07-01"], "name at least one pair with -c"),
        (["-c", "XBTUSD", "--since", "2019-07-01"], "-p MINUTES is required"),
        (["-c", "XBTUSD", "-p", "1"], "--from DATE is required"),
        (["-c", "XBTUSD", "-p", "1", "--since", "2019-07-02", "--until", "2019-07-01"], "--from must be before --to"),
        (["-c", "XBTUSX", "-p", "1", "--since", "2019-07-01"], "unknown pair 'XBTUSX' (not among the "),
        (["-c", "XBTUSD", "-p", "1", "--since", "2019-07-01", "--kraken-url", "ftp://x"], "must start with http"),
        (["--import", "/nonexistent.zip"], "--import: file not found"),
        (["-c", "XBTUSD", "-p", "1", "--since", "2999-01-01"], "--from 2999-01-01 is in the future"),
        (["-c", "XBTUSD", "-p", "1", "--since", "1561939200000"], "is in the future"),  # milliseconds
        (["-c", "XBTUSD", "-p", "1", "--since", "2019-07-01", "--data-dir", "/dev/null/data", "--kraken-url",
          "http://127.0.0.1:9"], "--data-dir /dev/null/data: cannot write there"),
    ],
)
@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, argv, message):
    result = subprocess.run([sys.executable, "-m", "candlebot", "download", "--data-dir", str(tmp_path), *argv],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("candlebot download: error: ") and message in line


def test_an_unknown_pair_is_one_line_and_exit_code_2(shared_data, tmp_path, capsys):
    """Refused from the bundled catalog before any call: Kraken is never asked, no folder is made."""
    with replay(shared_data, "kraken/xbtusd_trades_2019-07-01.csv") as sim:
        code = main(["download", "-c", "NOPEUSD", "-p", "1", "--since", "2019-07-01", "--data-dir", str(tmp_path),
                     "--kraken-url", sim.url, "--pace", "0"])
        public_calls = sim.counters()["public"]
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "unknown pair 'NOPEUSD'" in err[0] and public_calls == 0
    assert not (tmp_path / "NOPEUSD").exists()  # no folder that `data list` calls "incomplete: run download again"
    main(["data", "list", "--data-dir", str(tmp_path)])
    assert "NOPEUSD" not in capsys.readouterr().out


def test_a_download_that_stored_nothing_does_not_hold_the_folder_to_its_since(shared_data, tmp_path, capsys):
    """A --since after the last trade stores nothing; a later run with an earlier --since just downloads."""
    flags = ["download", "-c", "XBTUSD", "-p", "5", "--data-dir", str(tmp_path), "--pace", "0"]
    with replay(shared_data, "kraken/xbtusd_trades_2019-07-01.csv") as sim:
        assert main([*flags, "--kraken-url", sim.url, "--since", "1561942791.5"]) == 0
        assert "0 stored" in capsys.readouterr().out
        assert main([*flags, "--kraken-url", sim.url, "--since", "2019-07-01"]) == 0
    assert "2,672 stored" in capsys.readouterr().out


@pytest.mark.slow
def test_a_terminal_gets_a_progress_bar_and_a_pipe_progress_lines_and_the_summary(shared_data, tmp_path):
    with replay(shared_data, "kraken/xbtusd_trades_2019-07-01.csv") as sim:
        argv = [sys.executable, "-m", "candlebot", "download", "-c", "XBTUSD", "-p", "1", "--since", "2019-07-01",
                "--kraken-url", sim.url, "--pace", "0"]
        shown, bar = run_on_terminal([*argv, "--data-dir", str(tmp_path / "tty")], stream="stderr", cwd=REPO)
        piped = subprocess.run([*argv, "--data-dir", str(tmp_path / "pipe")], cwd=REPO, capture_output=True,
                               text=True, timeout=60)
    assert shown.returncode == piped.returncode == 0
    assert b"XBTUSD 100%|" in bar and b"2,672 trades" in bar
    # off a terminal: a progress line now and then and when the pair is done (it used to be silent), the summary on stdout
    assert piped.stderr.splitlines()[-1] == "XBTUSD: 2,672 trades stored, up to 2019-07-01 00:59:51 (100%), done"
    assert len(piped.stdout.strip().splitlines()) == 1


def test_a_bucket_cut_by_since_is_left_out(shared_data, tmp_path, capsys):
    """--since 00:02 with 5-minute candles: the 00:00 bucket holds only part of its trades, so it is no candle."""
    name = "kraken/xbtusd_trades_2019-07-01.csv"
    since = 1561939200 + 120
    with replay(shared_data, name) as sim:
        assert main(["download", "-c", "XBTUSD", "-p", "5", "--since", str(since), "--data-dir", str(tmp_path),
                     "--kraken-url", sim.url, "--pace", "0"]) == 0
    written = load_candles(tmp_path / "XBTUSD_5m.csv")
    expected = candles_from_trades(load_trades(shared_data / name), 300)
    expected = _filled(expected.between(1561939500, float(expected.times[-1])), 300)
    assert _equal_columns(written, expected, OHLC) and _volumes_exact(written, shared_data / name, 300)
    assert f"{len(expected)} candles of 5m" in capsys.readouterr().out


def test_since_includes_the_trade_at_exactly_that_time(shared_data, tmp_path, capsys):
    name = "kraken/xbtusd_trades_2019-07-01.csv"
    original = load_trades(shared_data / name)
    k = next(k for k in range(100, len(original)) if original.times[k] > original.times[k - 1])
    with replay(shared_data, name) as sim:
        assert main(["download", "-c", "XBTUSD", "-p", "1", "--since", repr(float(original.times[k])),
                     "--data-dir", str(tmp_path), "--kraken-url", sim.url, "--pace", "0", "--no-check"]) == 0
    downloaded = load_trades(tmp_path / "XBTUSD" / "trades.csv")
    assert downloaded.times[0] == original.times[k] and len(downloaded) == len(original) - k


def test_a_fresh_download_over_an_outage_passes_its_own_ohlc_check(shared_data, tmp_path, capsys):
    """The simulator replays Kraken's 5m file around the 2023-02-22 outage: its tape has a trade at each candle's
    open, which an exclusive --since missed, and its OHLC has flat bars for the outage, as Kraken's has."""
    end = 1677029400 + 3600
    config = SimConfig(data=shared_data / "kraken/xbtusd_5m_2023q1.csv.gz", pair="XBTUSD", start=end, tier="none")
    with KrakenSimulator(config).start() as sim:
        code = main(["download", "-c", "XBTUSD", "-p", "5", "--since", str(end - 36 * 300), "--data-dir",
                     str(tmp_path), "--kraken-url", sim.url, "--pace", "0"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "equal Kraken's OHLC" in out and "differ" not in out
    assert "periods without trades as flat candles" in out
    written = load_candles(tmp_path / "XBTUSD_5m.csv")
    assert (np.diff(written.times) == 300).all() and written.times[0] == end - 36 * 300


def test_an_earlier_since_extends_the_history_backwards(shared_data, tmp_path, capsys):
    name = "kraken/xbtusd_trades_2019-07-01.csv"
    original = load_trades(shared_data / name)
    k = next(k for k in range(1200, len(original)) if original.times[k] > original.times[k - 1])  # in the 2nd page
    flags = ["download", "-c", "XBTUSD", "-p", "5", "--data-dir", str(tmp_path), "--pace", "0"]
    with replay(shared_data, name) as sim:
        assert main([*flags, "--kraken-url", sim.url, "--since", repr(float(original.times[k]))]) == 0
        assert main([*flags, "--kraken-url", sim.url, "--since", "2019-07-01"]) == 0
    out = capsys.readouterr().out
    assert _equal_columns(load_trades(tmp_path / "XBTUSD" / "trades.csv"), original, ("times", "prices", "volumes"))
    assert not (tmp_path / "XBTUSD" / "prepend").exists() and "2,672 stored" in out
    expected = _filled(candles_from_trades(original, 300), 300)
    written = load_candles(tmp_path / "XBTUSD_5m.csv")
    assert _equal_columns(written, expected.between(1561939200, float(expected.times[-1])), OHLC)
    assert _volumes_exact(written, shared_data / name, 300)


def test_a_splice_that_died_after_saving_its_state_is_finished_by_the_next_run(shared_data, tmp_path, capsys):
    name = "kraken/xbtusd_trades_2019-07-01.csv"
    original = load_trades(shared_data / name)
    flags = ["download", "-c", "XBTUSD", "-p", "5", "--data-dir", str(tmp_path), "--pace", "0"]
    folder = tmp_path / "XBTUSD"
    with replay(shared_data, name) as sim:
        assert main([*flags, "--kraken-url", sim.url, "--since", "2019-07-01"]) == 0
        whole = (folder / "trades.csv").read_bytes()
        state = json.loads((folder / "download.json").read_text())
        # the state of a finished splice was saved, the joined file not yet renamed over the shorter old one
        (folder / ".trades.csv.joined").write_bytes(whole)
        cut = whole.index(b"\n", len(whole) // 2) + 1
        (folder / "trades.csv").write_bytes(b"time,price,volume,side\n" + whole[cut:])
        assert main([*flags, "--kraken-url", sim.url, "--since", "2019-07-01"]) == 0
    assert json.loads((folder / "download.json").read_text())["trades"] == state["trades"]
    assert _equal_columns(load_trades(folder / "trades.csv"), original, ("times", "prices", "volumes"))
