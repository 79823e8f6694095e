"""A crossover rule names the candles it can act on (``active_candles``); a quiet backtest ticks those alone and
ends exactly where ticking every candle ends."""

from __future__ import annotations

import dataclasses
import json
from array import array

import numpy as np
import pytest

from candlebot.assembly import load_chart, run_backtest
from candlebot.cli.args import build_parser
from candlebot.cli.backtest import settings_from_args
from candlebot.strategies.macd import Macd
from candlebot.strategies.sma_cross import SmaCross
from candlebot.strategy import BotIndicators, crossed_above, crossed_below, crossings
from candlebot.strategy.params import parse_params

NAN = float("nan")


def test_crossings_are_exactly_the_candles_either_helper_is_true_on(shared_data):
    from candlebot.chart import Chart
    from candlebot.data.candlefile import load_candles

    c = load_candles(shared_data / "kraken/xbtusd_5m_2023q1.csv.gz")
    chart = Chart.from_arrays("XBTUSD", 300, c.times, c.opens, c.highs, c.lows, c.closes, c.volumes)
    ind = BotIndicators(chart)
    for a, b in ((ind.sma(10), ind.sma(30)), ind.macd()[:2], (array("d", [1, NAN, 3, 1, 2, 2, 1]), [2.0] * 7)):
        expected = [i for i in range(len(a)) if crossed_above(a, b, i) or crossed_below(a, b, i)]
        assert crossings(a, b) == expected
    assert len(crossings(ind.sma(10), ind.sma(30))) > 100


class EveryCandle(SmaCross):
    """The same rule in a subclass that does not say which candles it acts on: ticked on every candle."""

    def evaluate_positions(self, i: int) -> None:
        super().evaluate_positions(i)


class MacdEveryCandle(Macd):
    def evaluate_positions(self, i: int) -> None:
        super().evaluate_positions(i)


def test_a_subclass_changing_the_rule_is_ticked_on_every_candle():
    assert EveryCandle.candles_to_tick is SmaCross.candles_to_tick
    owner = next(c for c in EveryCandle.__mro__ if "evaluate_positions" in c.__dict__)
    assert owner is EveryCandle and "active_candles" not in EveryCandle.__dict__


@pytest.mark.parametrize("strategy, every, flags", [
    (SmaCross, EveryCandle, []), (Macd, MacdEveryCandle, ["--param", "fast=20", "--cash", "1000000"]),
    (SmaCross, EveryCandle, ["-s", "2023-02-01", "-e", "2023-03-15"]),
])
def test_ticking_only_the_active_candles_gives_the_result_of_ticking_every_one(shared_data, strategy, every, flags):
    data = shared_data / "binanceus/btcusd_1m_2023-03-01_2023-03-21.csv.gz" if not flags[:1] == ["-s"] else \
        shared_data / "kraken/xbtusd_5m_2023q1.csv.gz"
    args = build_parser().parse_args(["--data", str(data), "--strategy", strategy.name, "--quiet", "--no-cache", *flags])
    settings = settings_from_args(args)
    chart = load_chart(settings)
    results = []
    for kind in (strategy, every):
        backtest, report = run_backtest(dataclasses.replace(settings, strategy=kind), chart)
        if kind is strategy:
            assert backtest.engine.strategy.candles_to_tick() is not None
        else:
            assert backtest.engine.strategy.candles_to_tick() is None
        summary = report.to_json()
        summary.pop("elapsed_s")
        summary.pop("strategy")
        results.append((json.dumps(summary, sort_keys=True), [repr(t) for t in backtest.ledger.trades],
                        backtest.exchange.clock.index))
    assert results[0] == results[1]
    assert json.loads(results[0][0])["trades"] > 10
