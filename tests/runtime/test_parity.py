"""Parity (issue 20 item 5): a paper bot, built as ``candlebot`` builds it, against the simulator replaying a
recorded, gapped Kraken file makes the same trades at the same candles as the backtest of that file.

Bot and simulator share one simulated clock (both take a ``Clock``, see ``KrakenSimulator`` and
``assembly.build_bot``): the bot's sleeps between polls move the market's time, so a quarter of candles runs
in seconds and no poll ever lands late on a loaded machine. The bot polls twice a period, the second time one
second before the period ends, after the last trade the simulator's tape puts in a candle: its candles close
where the file's do, and a period without trades is a flat candle, as in the backtest. A strategy reading highs
and lows has the bot poll after every trade of the tape (one a minute for hourly candles).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from candlebot.assembly import build_backtest, build_bot, load_chart
from candlebot.cli.args import build_parser
from candlebot.cli.backtest import settings_from_args as backtest_settings
from candlebot.cli.bot import settings_from_args as bot_settings
from candlebot.clock import SimClock
from candlebot.events import EventBus
from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE = 1677024900  # 2023-02-22 00:15 UTC: Kraken's 75-minute maintenance, missing from the 5m file


@dataclass(frozen=True)
class Case:
    data: str
    pair: str
    minutes: int
    start: int  # the first candle the bot trades (its warm-up comes before, from the simulator's OHLC)
    end: int
    strategy: str = "sma_cross"
    params: tuple[str, ...] = ()
    poll: int | None = None  # None: twice a period, enough for closes; highs and lows need every trade of the tape
    fills: int = 6  # at least this many, or the case proves little

    def strategy_flags(self) -> list[str]:
        return ["--strategy", self.strategy, *(flag for p in self.params for flag in ("--param", p))]


CASES = {
    "xbtusd 5m over the outage": Case("kraken/xbtusd_5m_2023q1.csv.gz", "XBTUSD", 5, OUTAGE - 12 * 3600,
                                      OUTAGE + 12 * 3600),
    "xbtusdc 1m, a thin pair, -p 1": Case("kraken/xbtusdc_1m_2023q1.csv.gz", "XBTUSDC", 1, 1677024000,
                                          1677024000 + 6 * 3600),
    "xbtusdc 1m, a thin pair, -p 5": Case("kraken/xbtusdc_1m_2023q1.csv.gz", "XBTUSDC", 5, 1677024000,
                                          1677024000 + 24 * 3600),
    **{f"xbtusd 1h, {name}": Case("kraken/xbtusd_1h_2023q1.csv", "XBTUSD", 60, 1675123200, 1677715200, name, params)
       for name, params in (("macd", ()), ("bollinger", ()))},
    "xbtusd 1h, stochastic (highs and lows)": Case("kraken/xbtusd_1h_2023q1.csv", "XBTUSD", 60, 1675123200,
                                                   1675123200 + 4 * 86400, "stochastic",
                                                   ("num_simultaneous_trades=3",), poll=60, fills=4),
}


def backtest_decisions(path, case: Case) -> list[tuple[int, str]]:
    args = build_parser().parse_args(["--data", str(path), "-c", case.pair, "-p", str(case.minutes),
                                      *case.strategy_flags(), "-s", str(case.start), "-e", str(case.end), "--quiet"])
    setup = backtest_settings(args)
    backtest = build_backtest(setup, load_chart(setup), EventBus())
    backtest.run()
    return _decisions(backtest.ledger.trades, setup.period_minutes * 60, case.end)


def bot_decisions(path, case: Case, tmp_path) -> list[tuple[int, str]]:
    period = case.minutes * 60
    poll = case.poll or period // 2
    first_poll = case.start + poll - 1  # one second before every poll-th second of a candle: after the tape's trade
    clock = SimClock(first_poll)
    config = SimConfig(data=path, pair=case.pair, start=first_poll, tier="none")
    with KrakenSimulator(config, clock=clock).start() as sim:
        args = build_parser().parse_args([
            "-x", "kraken", "-c", case.pair, "--paper", "--kraken-url", sim.url, "--kraken-tier", "none",
            "--state-dir", str(tmp_path / "state"), "--log-dir", str(tmp_path / "logs"), "--name", "parity",
            "--quiet", "-p", str(case.minutes), "-t", str(poll), *case.strategy_flags()])
        bot = build_bot(bot_settings(args), clock, threading.Event())
        try:
            bot.runtime.run(max_polls=(case.end - case.start) // poll + 1)
            trades = list(bot.ledger.trades)
        finally:
            bot.close()
    return _decisions(trades, period, case.end)


def _decisions(trades, period: int, end: int) -> list[tuple[int, str]]:
    """(the candle each fill belongs to, side): a backtest fills at a candle's open, the bot in its first poll."""
    fills = [f for t in trades for f in (t.open_fill, t.close_fill) if f is not None]
    return sorted((int(f.time) // period * period, f.side.value) for f in fills if f.time < end - period)


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_a_paper_bot_trades_at_the_candles_of_the_backtest(shared_data, tmp_path, case):
    path = shared_data / case.data

    expected = backtest_decisions(path, case)
    actual = bot_decisions(path, case, tmp_path)

    assert len(expected) >= case.fills
    assert actual == expected


def test_a_bot_back_from_an_outage_backfills_the_candles_it_missed(shared_data, tmp_path):
    """Kraken's Ticker is unusable for 16 polls (the bot backs off, 60 s apart: three 5-minute periods without a
    price); on the first poll back, the bot's chart gets Kraken's bars for them, its partial candle replaced by
    Kraken's own."""
    from candlebot.data.source import load_chart as load_file
    from candlebot.exchanges.kraken_sim.faults import BadTicker, Faults

    case = Case("kraken/xbtusd_5m_2023q1.csv.gz", "XBTUSD", 5, 1676030400, 1676030400 + 3600)  # 2023-02-10, no gaps
    path, period = shared_data / case.data, 300
    clock = SimClock(case.start + period // 2 - 1)
    with KrakenSimulator(SimConfig(data=path, pair=case.pair, start=clock.now(), tier="none"), clock=clock).start() as sim:
        args = build_parser().parse_args([
            "-x", "kraken", "-c", case.pair, "--paper", "--kraken-url", sim.url, "--kraken-tier", "none",
            "--state-dir", str(tmp_path / "state"), "--log-dir", str(tmp_path / "logs"), "--name", "outage",
            "--quiet", "-p", "5", "-t", str(period // 2), "--strategy", "sma_cross"])
        bot = build_bot(bot_settings(args), clock, threading.Event())
        try:
            bot.runtime.run(max_polls=5)  # two candles and a half, then the outage
            cut = clock.now()
            sim.set_faults(Faults(bad_ticker=BadTicker(field="last", value="0", count=16, methods=("Ticker",))))
            bot.runtime.run(max_polls=5 + 16 + 1)
            back = clock.now()
            chart = bot.runtime.chart
            times, closes, forming = list(chart.times), list(chart.closes), chart.forming
        finally:
            bot.close()
    assert back - cut >= 3 * period
    kraken = load_file(str(path), case.pair, 5, None)
    expected = dict(zip(kraken.times, kraken.closes))
    assert forming is not None and forming.time - int(cut) // period * period >= 3 * period  # periods unpolled
    assert times[-1] == forming.time - period  # every period up to the one the bot came back in
    assert all(b - a == period for a, b in zip(times, times[1:]))  # no gap
    assert closes == [expected[t] for t in times]  # the chart equals Kraken's, the outage's candles included
