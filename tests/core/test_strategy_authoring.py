"""What a strategy is written with: the crossover helpers, the warm-ups docs/strategies.md documents for
every indicator facade, and the generic route to any TA-Lib function."""

from __future__ import annotations

import inspect
import math
import re
from array import array
from pathlib import Path

import numpy as np
import pytest
import talib

from candlebot.chart import Chart
from candlebot.data.candlefile import load_candles
from candlebot.errors import ConfigError
from candlebot.strategy import BotIndicators, crossed_above, crossed_below
from candlebot.strategy.talib_lean import abstract

DOC = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"
ENGINE_SIDE = {"update", "drop_front", "warm_index", "history_needed", "values_at", "named_lines", "talib"}
NAN = math.nan


@pytest.fixture(scope="module")
def chart(shared_data) -> Chart:
    c = load_candles(shared_data / "kraken/xbtusd_15m_2023q1.csv.gz")
    return Chart.from_arrays("XBTUSD", 900, c.times, c.opens, c.highs, c.lows, c.closes, c.volumes)


# -- crossed_above / crossed_below ---------------------------------------------------------------------------


def test_a_cross_is_above_now_and_not_above_before():
    a, b = array("d", [1, 2, 3, 3, 2, 1]), array("d", [2, 2, 2, 2, 2, 2])
    assert [crossed_above(a, b, i) for i in range(1, 6)] == [False, True, False, False, False]
    assert [crossed_below(a, b, i) for i in range(1, 6)] == [False, False, False, False, True]  # touching is not crossing


def test_nan_on_either_side_or_candle_is_no_cross():
    b = [0.0, 0.0]
    for a in ([NAN, 1.0], [-1.0, NAN]):
        assert not crossed_above(a, b, 1) and not crossed_below([-x for x in a], b, 1)
    assert not crossed_above([-1.0, 1.0], [NAN, 0.0], 1) and not crossed_above([-1.0, 1.0], [0.0, NAN], 1)


@pytest.mark.parametrize("level", [20, 20.0, np.float64(20.0)])
def test_a_level_can_be_crossed(level):
    k = [25.0, 19.0, 21.0, 19.5]
    assert [crossed_above(k, level, i) for i in (1, 2, 3)] == [False, True, False]
    assert [crossed_below(k, level, i) for i in (1, 2, 3)] == [True, False, True]


def test_the_helpers_decide_exactly_like_the_comparisons_they_replaced_on_real_lines(chart):
    """The shipped strategies' hand-written tests, NaN warm-up included, on every candle of a quarter."""
    ind = BotIndicators(chart)
    fast, slow = ind.sma(10), ind.sma(30)
    k, d = ind.stoch()
    closes, lower = chart.closes, ind.bbands().lower
    crossings = 0
    for i in range(1, len(chart)):
        assert crossed_above(fast, slow, i) == (fast[i] > slow[i] and fast[i - 1] <= slow[i - 1])
        assert crossed_below(fast, slow, i) == (fast[i] < slow[i] and fast[i - 1] >= slow[i - 1])
        assert crossed_above(k, d, i) == (k[i] > d[i] and k[i - 1] <= d[i - 1])
        assert crossed_below(closes, lower, i) == (closes[i] < lower[i] and closes[i - 1] >= lower[i - 1])
        assert crossed_above(k, 20, i) == (k[i] > 20 and k[i - 1] <= 20)
        crossings += crossed_above(fast, slow, i)
    assert crossings > 50 and math.isnan(slow[28])


# -- the documented warm-ups -----------------------------------------------------------------------------------


def documented_facades() -> dict[str, tuple[int, str]]:
    """facade name -> (warm-up at the defaults, warm-up formula), from the table in docs/strategies.md."""
    rows = re.findall(r"^\| `(\w+)\([^`]*\)` \|[^|]*\|[^|]*\| (\d+) \| `([^`]+)` \|$", DOC.read_text(), re.MULTILINE)
    return {name: (int(default), formula) for name, default, formula in rows}


def facades() -> list[str]:
    return [name for name, _ in inspect.getmembers(BotIndicators, inspect.isfunction)
            if not name.startswith("_") and name not in ENGINE_SIDE]


def first_value(lines) -> int:
    lines = (lines,) if isinstance(lines, array) else lines
    return max(int(np.flatnonzero(np.isfinite(np.array(line)))[0]) for line in lines)


def test_every_facade_is_in_the_table():
    assert sorted(documented_facades()) == sorted(facades())


@pytest.mark.parametrize("name", facades())
def test_each_documented_warm_up_is_talibs_lookback_and_the_first_value_of_the_facade(chart, name):
    default, formula = documented_facades()[name]
    method = getattr(BotIndicators, name)
    defaults = {p.name: p.default for p in inspect.signature(method).parameters.values() if p.name != "self"}
    longer = {k: (v * 2 + 1 if isinstance(v, int) and k != "source" else v) for k, v in defaults.items()}
    for params in (defaults, longer):
        ind = BotIndicators(chart)
        lines = getattr(ind, name)(**params)
        assert first_value(lines) == ind.history_needed() - 1 == eval(formula, {}, dict(params))  # noqa: S307 (our own doc)
    assert first_value(getattr(BotIndicators(chart), name)()) == default


# -- any other TA-Lib function ---------------------------------------------------------------------------------


def test_talib_gives_any_function_bit_identical_to_the_array_function_and_streams_it(chart):
    n = len(chart)
    start = Chart.from_arrays("XBTUSD", 900, chart.times[:100], chart.opens[:100], chart.highs[:100], chart.lows[:100],
                              chart.closes[:100], chart.volumes[:100])
    ind = BotIndicators(start)
    cci = ind.talib("CCI", timeperiod=20)
    down, up = ind.talib("aroon", timeperiod=25)
    engulfing = ind.talib("CDLENGULFING")
    obv = ind.talib("OBV")
    high_rsi = ind.talib("RSI", source="high", timeperiod=28)
    for i in range(100, n):  # a live bot: one candle at a time after its warm-up history
        start.append(chart[i])
        ind.update()
    h, l, c = (np.array(x) for x in (chart.highs, chart.lows, chart.closes))
    o, v = np.array(chart.opens), np.array(chart.volumes)
    for line, expected in [
        (cci, talib.CCI(h, l, c, timeperiod=20)),
        (down, talib.AROON(h, l, timeperiod=25)[0]),
        (up, talib.AROON(h, l, timeperiod=25)[1]),
        (engulfing, talib.CDLENGULFING(o, h, l, c).astype(float)),
        (obv, talib.OBV(c, v)),
        (high_rsi, talib.RSI(h, timeperiod=28)),
    ]:
        assert len(line) == n and np.array_equal(np.array(line), expected, equal_nan=True)
    assert np.count_nonzero(np.array(engulfing)) > 0
    assert ind.history_needed() - 1 == max(abstract.Function("AROON", timeperiod=25).lookback, 28)
    assert set(ind.values_at(n - 1)) == {"cci_20", "aroon_25.aroondown", "aroon_25.aroonup", "cdlengulfing", "obv",
                                         "rsi_28_high"}


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("MOONSHOT", {}, "talib: no TA-Lib function 'MOONSHOT'"),
        ("SMA", {"period": 10}, "talib SMA: unknown parameter(s) period (known: timeperiod)"),
        ("MACD", {"fastperiod": 0}, "talib MACD: invalid parameters"),
        ("MAVP", {}, "talib MAVP: needs the input 'periods', which is not a candle column"),
        ("CCI", {"source": "high"}, "talib CCI: reads high, low, close; source= only replaces a single close input"),
        ("SMA", {"source": "vwap"}, "sma_30_vwap: unknown price source 'vwap'"),
    ],
)
def test_talib_mistakes_are_one_line(chart, name, params, message):
    with pytest.raises(ConfigError) as raised:
        BotIndicators(chart).talib(name, **params)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
