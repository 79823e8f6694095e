"""Indicator facades equal TA-Lib's array functions on real data, on the batch path and candle by candle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib

from candlebot.data.candlefile import load_candles
from candlebot.chart import Chart
from candlebot.errors import ConfigError
from candlebot.strategy.indicators import BotIndicators


@pytest.fixture(scope="module")
def candles(shared_data):
    return load_candles(shared_data / "kraken/xbtusd_15m_2023q1.csv.gz")


def _chart(candles, stop=None):
    c = candles.between(None, None)
    stop = len(c) if stop is None else stop
    return Chart.from_arrays("XBTUSD", 900, c.times[:stop], c.opens[:stop], c.highs[:stop], c.lows[:stop], c.closes[:stop], c.volumes[:stop])


def _asks(ind: BotIndicators):
    """Every facade, and TA-Lib's own function over the same arrays."""
    return [
        (ind.sma(20), lambda h, l, c: talib.SMA(c, 20)),
        (ind.ema(50), lambda h, l, c: talib.EMA(c, 50)),
        (ind.rsi(14), lambda h, l, c: talib.RSI(c, 14)),
        (ind.atr(14), lambda h, l, c: talib.ATR(h, l, c, 14)),
        (ind.sar(0.02, 0.2), lambda h, l, c: talib.SAR(h, l, 0.02, 0.2)),
        (ind.macd(12, 26, 9), lambda h, l, c: talib.MACD(c, 12, 26, 9)),
        (ind.stoch(14, 3, 3), lambda h, l, c: talib.STOCH(h, l, c, 14, 3, 0, 3, 0)),
        (ind.bbands(20, 2.0), lambda h, l, c: talib.BBANDS(c, 20, 2.0, 2.0, 0)),
        (ind.support_resistance(48), lambda h, l, c: (talib.MIN(l, 48), talib.MAX(h, 48))),
    ]


def _same(line, expected) -> bool:
    return np.array_equal(np.array(line), np.asarray(expected), equal_nan=True)


def test_facades_equal_talib_over_the_whole_series(candles):
    h, l, c = candles.highs, candles.lows, candles.closes
    for lines, reference in _asks(BotIndicators(_chart(candles))):
        expected = reference(h, l, c)
        if isinstance(expected, tuple):
            assert len(lines) == len(expected)
            for line, values in zip(lines, expected):
                assert _same(line, values)
        else:
            assert _same(lines, expected)


def test_candle_by_candle_updates_are_bit_identical_to_the_batch_series(candles):
    """A live bot opens on its warm-up history and then adds one candle at a time."""
    h, l, c = candles.highs, candles.lows, candles.closes
    full = _chart(candles)
    chart = _chart(candles, stop=10)  # too short for most: they start as NaN and open later
    ind = BotIndicators(chart)
    asks = _asks(ind)
    for k in range(10, len(candles)):
        chart.append(full[k])
        ind.update()
    for lines, reference in asks:
        expected = reference(h, l, c)
        for line, values in zip(lines if isinstance(expected, tuple) else (lines,), expected if isinstance(expected, tuple) else (expected,)):
            assert _same(line, values)


def test_a_bounded_history_keeps_values_equal_to_the_full_series(candles):
    full = _chart(candles)
    chart = _chart(candles, stop=200)
    ind = BotIndicators(chart)
    ema, sma = ind.ema(50), ind.sma(20)
    offset = 0
    for k in range(200, len(candles)):
        chart.append(full[k])
        ind.update()
        if len(chart) >= 400:
            ind.drop_front(200)
            chart.drop_front(200)
            offset += 200
    assert chart.times[0] == full.times[offset]
    assert _same(ema, talib.EMA(candles.closes, 50)[offset:])
    assert _same(sma, talib.SMA(candles.closes, 20)[offset:])


def test_warm_index_is_the_first_candle_where_every_line_has_a_value(candles):
    ind = BotIndicators(_chart(candles))
    assert ind.warm_index() == 0  # no lines yet
    ind.sma(20)
    assert ind.warm_index() == 19
    macd = ind.macd(12, 26, 9)
    assert ind.warm_index() == 33
    assert math.isnan(macd.signal[32]) and not math.isnan(macd.signal[33])
    assert ind.history_needed() == 34


def test_too_little_history_leaves_lines_warming_up_not_failing(candles):
    ind = BotIndicators(_chart(candles, stop=5))
    line = ind.sma(20)
    assert len(line) == 5 and all(math.isnan(v) for v in line)
    assert ind.warm_index() is None


def test_values_are_named_for_logs_and_metrics(candles):
    ind = BotIndicators(_chart(candles))
    ind.sma(10)
    ind.macd()
    ind.sma(10, source="high")
    values = ind.values_at(100)
    assert set(values) == {"sma_10", "macd_12_26_9.macd", "macd_12_26_9.signal", "macd_12_26_9.hist", "sma_10_high"}
    assert values["sma_10"] == pytest.approx(float(np.mean(candles.closes[91:101])), rel=1e-12)


@pytest.mark.parametrize(
    "ask, message",
    [
        (lambda ind: ind.sma(1), "sma period must be an integer >= 2"),
        (lambda ind: ind.sma(2.5), "sma period must be an integer"),
        (lambda ind: ind.macd(26, 12), "fast period .* shorter"),
        (lambda ind: ind.sar(0.3, 0.2), "acceleration <= maximum"),
        (lambda ind: ind.bbands(20, 0), "nbdev must be > 0"),
        (lambda ind: ind.sma(10, source="vwap"), "unknown price source"),
        (lambda ind: ind.ema(200_000), "longer than TA-Lib allows"),
    ],
)
def test_bad_indicator_parameters_are_config_errors(candles, ask, message):
    with pytest.raises(ConfigError, match=message):
        ask(BotIndicators(_chart(candles, stop=50)))


def test_short_histories_never_raise(candles):
    """TA-Lib 0.8.2 can answer TA_BAD_PARAM for ATR/STOCH below their lookback; the facade must not ask then."""
    garbage = []
    for round_ in range(300):
        garbage.append(np.random.default_rng(round_).random(1 + round_ % 400))  # churn the heap
        n = 1 + round_ % 20
        ind = BotIndicators(_chart(candles, stop=n))
        atr, (k, _) = ind.atr(14), ind.stoch(14, 3, 3)
        assert len(atr) == len(k) == n
        assert (ind.warm_index() is None) == (n < 18)  # STOCH(14,3,3) looks back 13 + 2 + 2 bars
