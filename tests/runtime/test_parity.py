"""Parity: the running-bot path fed ticks (open, high, low, close of each candle) trades exactly like the backtester."""

from __future__ import annotations

import logging
from decimal import Decimal
from itertools import count

import pytest

from candlebot.data.candlefile import load_candles
from candlebot.chart import Chart
from candlebot.cli.args import build_parser
from candlebot.assembly import build_backtest, load_chart
from candlebot.cli.backtest import settings_from_args
from candlebot.clock import SimClock
from candlebot.trading.engine import Engine
from candlebot.events import EventBus
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.live.runtime import BotRuntime, RuntimeSettings
from candlebot.strategy.base import StrategyContext
from candlebot.trading.strategydesk import StrategyDesk
from candlebot.trading.trader import Trader
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.exchanges.paper import PaperExchange
from candlebot.exchanges.replay import TickReplay

XBTUSD = find_pair(offline_pairs(), "XBTUSD")
QUIET = logging.getLogger("test.parity")
QUIET.setLevel(logging.WARNING)


def backtest_trades(path, strategy, params):
    args = build_parser().parse_args(["--data", str(path), "--strategy", strategy, "--quiet", *sum((["--param", p] for p in params), [])])
    setup = settings_from_args(args)
    backtest = build_backtest(setup, load_chart(setup), EventBus())
    backtest.run()
    return backtest.ledger.trades, setup


def runtime_trades(path, setup):
    candles = load_candles(path)
    period = int(candles.native_period())
    quarter = period / 4
    ticks = []
    for t, o, h, l, c, v in zip(*(column.tolist() for column in (candles.times, candles.opens, candles.highs, candles.lows, candles.closes, candles.volumes))):
        ticks += [(t, o, v / 4), (t + quarter, h, v / 4), (t + 2 * quarter, l, v / 4), (t + 3 * quarter, c, v / 4)]
    clock = SimClock(float(candles.times[0]))
    market = TickReplay(XBTUSD, ticks, clock)
    exchange = PaperExchange(market, XBTUSD, fee_rate=setup.fee_rate, balances={"ZUSD": setup.cash}, clock=clock)
    chart = Chart("XBTUSD", period)
    ledger = Ledger(XBTUSD, setup.cash)
    bus = EventBus()
    refs = count(1)
    trader = Trader(exchange=exchange, pair=XBTUSD, ledger=ledger, sizing=Sizing(setup.params.num_simultaneous_trades),
                    fee_rate=setup.fee_rate, bus=bus, clock=clock, next_userref=lambda: next(refs))
    indicators = BotIndicators(chart)
    desk = StrategyDesk(trader)
    strategy = setup.strategy(setup.params, StrategyContext(chart, indicators, desk.view))
    engine = Engine(chart=chart, indicators=indicators, strategy=strategy, desk=desk, ledger=ledger, clock=clock, bus=bus,
                    history_limit=2000)
    runtime = BotRuntime(settings=RuntimeSettings("parity", "XBTUSD", setup.strategy.name, "paper", poll_s=quarter),
                         exchange=exchange, chart=chart, engine=engine, bus=bus, clock=clock)
    runtime.run(max_polls=len(ticks))
    return ledger.trades, exchange


def _key(trade):
    closed = trade.close_fill
    return (trade.open_fill.time, trade.volume, trade.entry_price, trade.open_fill.cost, trade.open_fill.fee,
            None if closed is None else (closed.time, closed.price, closed.cost, closed.fee, trade.pnl))


@pytest.mark.parametrize(
    "data, strategy, params",
    [
        ("kraken/xbtusd_1h_2023q1.csv", "sma_cross", []),
        ("kraken/xbtusd_1h_2023q1.csv", "macd", []),
        ("kraken/xbtusd_1h_2023q1.csv", "bollinger", []),
        ("kraken/xbtusd_1h_2023q1.csv", "stochastic", ["num_simultaneous_trades=3"]),
        ("other/btc-perp_1m_2021-12-31_2022-02-01.csv.gz", "sma_cross", []),
    ],
)
@pytest.mark.slow
def test_ticks_through_the_runtime_trade_exactly_like_the_backtester(shared_data, data, strategy, params):
    expected, setup = backtest_trades(shared_data / data, strategy, params)
    actual, exchange = runtime_trades(shared_data / data, setup)

    assert len(expected) > 5
    # The last candle never closes in the runtime (no later tick), but a decision on it could not fill
    # in the backtest either (no next open): both see the same decisions.
    assert [_key(t) for t in actual] == [_key(t) for t in expected]
    assert exchange.balances()["ZUSD"] == sum((t.close_fill.cost - t.close_fill.fee for t in actual if t.close_fill), Decimal(0)) \
        + setup.cash - sum(t.open_fill.cost + t.open_fill.fee for t in actual)
