"""The assembly's backtest wiring, fast: one day of generated minute candles, no file, no process, no network.

(tests/core/test_assembly.py runs it on the full demo series and builds a paper bot on the simulator.)
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from candlebot.assembly import BacktestSettings, build_backtest, offline_pair, resolve_strategy, run_backtest, sink_tags
from candlebot.candle import Candle
from candlebot.chart import Chart
from candlebot.data.pricepath import demo_candles
from candlebot.errors import ConfigError
from candlebot.events import EventBus, TradeClosed, TradeOpened

XBTUSD = offline_pair("XBTUSD")
SMA_CROSS = resolve_strategy("sma_cross")


def _chart() -> Chart:
    columns = demo_candles(days=1)
    chart = Chart("XBTUSD", 60)
    for row in zip(*(c.tolist() for c in (columns.times, columns.opens, columns.highs, columns.lows, columns.closes,
                                          columns.volumes))):
        chart.append(Candle(int(row[0]), *row[1:]))
    return chart


def _settings(**overrides) -> BacktestSettings:
    return BacktestSettings(**{"data": "demo", "pair": XBTUSD, "strategy": SMA_CROSS,
                               "params": SMA_CROSS.Params(fast=5, slow=20), "fee_rate": XBTUSD.taker_fee,
                               "cash": D("1000"), **overrides})


def test_one_ledger_one_trader_one_venue_and_the_engine_moves_the_venue():
    chart = _chart()
    bus = EventBus()
    events: list[object] = []
    bus.subscribe(events.append, TradeOpened, TradeClosed)

    backtest = build_backtest(_settings(), chart, bus)
    report = backtest.run()

    assert backtest.engine.ledger is backtest.ledger is backtest.trader.ledger
    assert backtest.trader.exchange is backtest.exchange and backtest.trader.bus is bus is backtest.engine.bus
    seen = backtest.engine.strategy.ledger  # a read-only view of the same books, never the ledger itself
    assert (seen.cash, seen.open_trades) == (backtest.ledger.cash, tuple(backtest.ledger.open_trades)) and seen is not backtest.ledger
    assert backtest.exchange.clock.index == len(chart) - 1  # moved to every candle, up to the last
    assert report.trades == len(backtest.ledger.trades) > 2
    assert len([e for e in events if isinstance(e, TradeOpened)]) == len(backtest.ledger.trades)
    assert backtest.exchange.balances() == {XBTUSD.quote: backtest.ledger.cash, XBTUSD.base: backtest.ledger.position}


def test_the_start_flag_only_trades_from_there_and_the_silent_run_gives_the_same_report():
    chart = _chart()
    start = float(chart.times[700])
    backtest, report = run_backtest(_settings(start=start), chart)

    assert backtest.start_index == 700
    assert all(t.open_fill.time > start for t in backtest.ledger.trades)
    again = build_backtest(_settings(start=start), chart, EventBus()).run()
    assert {k: v for k, v in again.to_json().items() if k != "elapsed_s"} == \
        {k: v for k, v in report.to_json().items() if k != "elapsed_s"}


def test_a_start_after_the_last_candle_is_a_config_error():
    chart = _chart()
    with pytest.raises(ConfigError, match="no candles between --from and --to"):
        build_backtest(_settings(start=float(chart.times[-1] + 60)), chart, EventBus())


def test_every_metric_and_alert_is_tagged_with_the_quote_kraken_shows():
    tags = sink_tags("bot", XBTUSD, SMA_CROSS, "paper")
    assert (tags.bot, tags.pair, tags.strategy, tags.mode, tags.quote) == ("bot", "XBTUSD", "sma_cross", "paper", "USD")


def _bot_settings(tmp_path, **venue):
    from candlebot.assembly import BotSettings
    from candlebot.exchanges.kraken.config import KrakenConfig
    from candlebot.identity import BotIdentity

    return BotSettings(pair="XBTUSD", period=60, poll_s=1.0, strategy=SMA_CROSS, params=SMA_CROSS.Params(fast=5, slow=20),
                       identity=BotIdentity.from_name("memory"), venue=KrakenConfig(**venue), state_dir=tmp_path / "state",
                       log_dir=tmp_path / "logs", quiet=True)


def test_a_bot_is_built_on_an_injected_venue_with_the_bot_safety_policy_whatever_its_settings_say(tmp_path):
    import threading

    from candlebot.assembly import build_bot
    from candlebot.clock import SimClock
    from tests.support.memory_exchange import MemoryExchange

    chart = _chart()
    clock = SimClock(at=float(chart.times[-1]) + 60)
    made: list = []

    def venue(config, credentials, state_dir):  # the factory build_bot calls instead of making the Kraken adapter
        made.append((config, credentials, MemoryExchange(XBTUSD, clock=clock, balances={XBTUSD.quote: D("1000")},
                                                         candles=list(chart)[-300:], bids=[("30000", "5")],
                                                         asks=[("30010", "5")])))
        return made[-1][2]

    settings = _bot_settings(tmp_path, max_sends=3, share_fill_reads=False, order_wait_max=None)  # a test's own config
    bot = build_bot(settings, clock, threading.Event(), venue=venue)
    try:
        ((config, credentials, memory),) = made  # paper: one adapter, no key
        assert credentials is None
        assert (config.max_sends, config.share_fill_reads, config.order_wait_max) == (1, True, 1.0)
        assert bot.trader.exchange is bot.runtime.exchange and bot.runtime.exchange.market is memory
        assert bot.runtime.engine.ready_index() is not None  # warmed up on the injected venue's history
    finally:
        bot.close()
