"""``candlebot kraken-sim --from``: its refusals name the flag as typed and say UTC dates; a start before the
data starts at the first candle with a warning, as ``candlebot backtest`` does."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from candlebot.clock import SimClock
from candlebot.cli.kraken_sim import main
from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig

DAY_1D = "kraken/xbtusd_1d_2023q1.csv"      # 2023-01-01 .. 2023-04-01, daily


@pytest.mark.parametrize("flags, says", [
    (["--from", "2023-02-01"], "--from applies to a replay (--data FILE) only"),
    (["--data", "DATA", "--from", "2023-06-01"],
     "--from 2023-06-01 00:00:00 UTC is after the end of xbtusd_1d_2023q1.csv (2023-01-01 00:00:00 .. "),
])
def test_from_refusals_name_the_flag_and_say_utc_dates(flags: list[str], says: str, shared_data: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(shared_data / DAY_1D) if flag == "DATA" else flag for flag in flags]

    assert main(argv, prog="candlebot kraken-sim") == 2

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("candlebot kraken-sim: error: ") and says in err[0]


def test_from_before_the_data_starts_at_its_first_candle_with_a_warning(shared_data: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="candlebot.exchanges.kraken_sim"):
        sim = KrakenSimulator(SimConfig(data=shared_data / DAY_1D, start=1640995200), clock=SimClock(1_700_000_000.0))

    assert sim.now() == 1672531200          # 2023-01-01, the first candle, not 2022-01-01
    assert ["--from 2022-01-01 00:00:00 UTC is before the first candle of xbtusd_1d_2023q1.csv (which starts "
            "2023-01-01 00:00:00 UTC): the replay starts there"] == [r.getMessage() for r in caplog.records]
