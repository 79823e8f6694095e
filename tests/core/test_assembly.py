"""The assembly builds a backtest (on the generated demo candles) and a paper bot (on the in-process simulator)."""

from __future__ import annotations

import io
import logging
import json
import threading
import time
from decimal import Decimal as D

import pytest

from candlebot.assembly import BacktestSettings, BotSettings, build_backtest, build_bot, load_candles, load_chart, offline_pair, \
    resolve_strategy, run_backtest
from candlebot.cli import backtest as backtest_command
from candlebot.cli.args import build_parser
from candlebot.clock import LiveClock
from candlebot.errors import ConfigError
from candlebot.events import EventBus, TradeOpened
from candlebot.identity import BotIdentity
from candlebot.exchanges.kraken import KrakenConfig
from candlebot.exchanges.paper import PaperExchange
from tests.support.bots import start_simulator

SMA_CROSS = resolve_strategy("sma_cross")
XBTUSD = offline_pair("XBTUSD")


def _demo(**overrides) -> BacktestSettings:
    return BacktestSettings(**{"data": "demo", "pair": XBTUSD, "strategy": SMA_CROSS, "params": SMA_CROSS.Params(),
                               "fee_rate": XBTUSD.taker_fee, "cash": D("10000"), **overrides})


@pytest.mark.slow
def test_the_engine_moves_the_backtest_venue_to_every_candle():
    settings = _demo()
    chart = load_chart(settings)
    bus = EventBus()
    opened: list[TradeOpened] = []
    bus.subscribe(opened.append, TradeOpened)

    backtest = build_backtest(settings, chart, bus)
    report = backtest.run()

    assert report.trades == len(backtest.ledger.trades) > 10
    assert backtest.exchange.clock.index == len(chart) - 1  # the venue followed the engine to the last candle
    times = list(chart.times)
    for trade in backtest.ledger.trades:  # decided on a candle's close, filled at the next one's open, dated then
        k = times.index(int(trade.open_fill.time))
        assert k > 0 and trade.open_fill.price >= D(repr(chart.opens[k]))
    assert [e.time for e in opened] == [float(t.open_fill.time) for t in backtest.ledger.trades]
    assert backtest.exchange.balances() == {XBTUSD.quote: backtest.ledger.cash, XBTUSD.base: backtest.ledger.position}


@pytest.mark.slow
def test_the_cli_runs_the_backtest_the_assembly_builds():
    settings = _demo(start=float(load_chart(_demo()).times[500]))
    _, report = run_backtest(settings, load_chart(settings))
    out = io.StringIO()

    args = build_parser().parse_args(["--data", "demo", "--strategy", "sma_cross", "--json", "-s", str(int(settings.start or 0))])
    code = backtest_command.run(args, out=out, err=io.StringIO())

    printed = json.loads(out.getvalue().strip().splitlines()[-1])
    expected = {**report.to_json(), **load_candles(settings).to_json(), "spread": 0.0}  # + the candle convention
    assert code == 0
    assert {k: v for k, v in printed.items() if k != "elapsed_s"} == {k: v for k, v in expected.items() if k != "elapsed_s"}


@pytest.mark.integration
def test_a_live_bot_without_a_key_stops_before_reaching_kraken(tmp_path):
    settings = BotSettings(pair="XBTUSD", period=60, poll_s=1.0, strategy=SMA_CROSS, params=SMA_CROSS.Params(),
                           identity=BotIdentity.from_name("keyless"), venue=KrakenConfig(url="http://127.0.0.1:9", timeout=0.5),
                           state_dir=tmp_path, mode="live", log_dir=tmp_path / "logs", quiet=True,
                           key_file=str(tmp_path / "missing.key"))

    with pytest.raises(ConfigError, match="--live needs a Kraken API key"):
        build_bot(settings, LiveClock(), threading.Event())
    assert not (tmp_path / "logs").exists()  # nothing was opened


@pytest.mark.integration
def test_a_paper_bot_is_built_on_its_books_and_warmed_up_on_the_venues_history(tmp_path):
    sim = start_simulator()
    settings = BotSettings(pair="XBTUSD", period=120, poll_s=1.0, strategy=SMA_CROSS, params=SMA_CROSS.Params(),
                           identity=BotIdentity.from_name("assembled"), venue=KrakenConfig(url=sim.url, tier="none", timeout=5),
                           state_dir=tmp_path / "state", log_dir=tmp_path / "logs", quiet=True, cash=D("500"))
    try:
        bot = build_bot(settings, LiveClock(), threading.Event())
        try:
            chart, engine = bot.runtime.chart, bot.runtime.engine
            assert isinstance(bot.runtime.exchange, PaperExchange)
            assert engine.ready_index() is not None and len(chart) >= engine.ready_index() + 1
            assert all(t % 120 == 0 for t in chart.times) and chart.times[-1] + 120 <= time.time() + 1
            assert (bot.ledger.cash, bot.store.meta("start_cash")) == (D("500"), "500")
            assert bot.runtime.exchange.balances()[bot.trader.pair.quote] == D("500")
        finally:
            bot.close()
    finally:
        sim.stop()
    log = next((tmp_path / "logs").iterdir()).read_text()
    assert f"sma_cross on XBTUSD (paper mode), 120s candles, polling every 1s; warmed up on {len(chart)} candles\n" in log


@pytest.mark.integration
def test_a_closed_bot_keeps_no_log_handler_and_the_next_one_built_in_the_process_logs_to_its_own_file(tmp_path):
    sim = start_simulator()

    def settings(logs: str) -> BotSettings:
        return BotSettings(pair="XBTUSD", period=60, poll_s=1.0, strategy=SMA_CROSS, params=SMA_CROSS.Params(),
                           identity=BotIdentity.from_name("twice"), venue=KrakenConfig(url=sim.url, tier="none", timeout=5),
                           state_dir=tmp_path / "state", log_dir=tmp_path / logs, quiet=True)

    try:
        build_bot(settings("first"), LiveClock(), threading.Event()).close()
        logging.getLogger("candlebot.live.recovery").warning("logged after the first bot closed")
        build_bot(settings("second"), LiveClock(), threading.Event()).close()
    finally:
        sim.stop()
    first, second = (next((tmp_path / logs).iterdir()).read_text() for logs in ("first", "second"))
    assert "logged after the first bot closed" not in first
    assert first.count("warmed up on") == 1 and second.count("warmed up on") == 1
