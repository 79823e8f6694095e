"""TA-Lib indicators as lines aligned with the chart's candles.

Each facade returns one ``array('d')`` per output, where ``line[i]`` is the
indicator's value on candle ``i`` (NaN while warming up). A strategy reads
``line[i]`` at C speed, in a backtest and in a live bot alike.

One mechanism serves both: TA-Lib 0.8's streaming handles. A handle is opened
with ``open_and_fill`` on the history the chart has (a whole file in a
backtest, the warm-up candles in a live bot), which returns the batch series
over that history in one C call; every candle appended later costs one
``update`` (~0.3 µs) and is bit-identical to what the array function would
give over the longer series. Nothing is ever recomputed over the history.
"""

from __future__ import annotations

import math
import weakref
from array import array
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from candlebot.chart import Chart
from candlebot.errors import ConfigError
from candlebot.strategy.talib_lean import abstract, talib
from candlebot.strategy.talib_lean import stream as talib_stream

Line = array  # array('d') aligned with the chart: line[i] belongs to candle i

_SOURCES = {"open": "opens", "high": "highs", "low": "lows", "close": "closes", "volume": "volumes"}


class MacdLines(NamedTuple):
    macd: Line
    signal: Line
    hist: Line


class StochLines(NamedTuple):
    slowk: Line
    slowd: Line


class BandLines(NamedTuple):
    upper: Line
    middle: Line
    lower: Line


class SupportResistance(NamedTuple):
    support: Line
    resistance: Line


@dataclass
class _Feed:
    """One TA-Lib stream handle and the lines it writes."""

    label: str
    function: str
    sources: tuple[str, ...]
    params: dict[str, float]
    outputs: tuple[str, ...]
    lines: tuple[Line, ...]
    lookback: int
    handle: object | None = None
    first_valid: int | None = None

    def open(self, chart: Chart) -> None:
        """(Re)compute every value over the chart's history and keep the handle for what follows; on a chart shared
        by trials (``share_series``), take the series another trial computed with the same parameters."""
        n = len(chart)
        self.handle, series = None, None
        shared = _SHARED.get(chart)
        key = (self.function, self.sources, tuple(sorted(self.params.items())), n)
        if shared is not None and key in shared:
            series = shared[key]  # no handle: a trial's chart never grows (push would open again)
        # Below lookback + 1 bars TA-Lib 0.8.2 sometimes answers TA_BAD_PARAM instead of
        # InsufficientHistory (ATR, STOCH: uninitialised memory), so do not even ask.
        elif n > self.lookback:
            inputs = [np.array(getattr(chart, _SOURCES[s]), dtype=np.float64) for s in self.sources]
            try:
                self.handle, series = getattr(talib_stream, self.function).open_and_fill(*inputs, **self.params)
            except talib.InsufficientHistory:
                pass
            if shared is not None and series is not None:
                shared[key] = series
        outputs = series if isinstance(series, tuple) else (series,)
        for k, line in enumerate(self.lines):
            del line[:]
            if series is None:
                line.extend(math.nan for _ in range(n))
            else:
                line.frombytes(memoryview(np.ascontiguousarray(outputs[k], dtype=np.float64)).cast("B"))
        self.first_valid = None if series is None else _first_finite(outputs)

    def push(self, chart: Chart) -> None:
        """Feed the candle just appended to the chart (one O(1) update)."""
        if self.handle is None:
            self.open(chart)
            return
        args = [getattr(chart, _SOURCES[s])[-1] for s in self.sources]
        values = self.handle.update(*args)  # type: ignore[attr-defined]
        if isinstance(values, tuple):
            for line, value in zip(self.lines, values):
                line.append(value)
        else:
            self.lines[0].append(values)


_SHARED: weakref.WeakKeyDictionary[Chart, dict[tuple[object, ...], object]] = weakref.WeakKeyDictionary()


def share_series(chart: Chart) -> None:
    """Indicator series over ``chart`` are computed once per parameters and shared by every ``BotIndicators`` on it:
    ``candlebot optimize``'s trials, whose chart never changes (a series is keyed by the chart's length too)."""
    _SHARED.setdefault(chart, {})


def _first_finite(outputs: tuple[np.ndarray, ...]) -> int | None:
    first = 0
    for values in outputs:
        finite = np.flatnonzero(np.isfinite(values))
        if len(finite) == 0:
            return None
        first = max(first, int(finite[0]))
    return first


class BotIndicators:
    """The indicator facades a strategy asks for, bound to one chart.

    Ask for each indicator once, in the strategy's ``setup``; the engine then
    keeps every line in step with the chart (``update`` after each appended
    candle, ``drop_front`` when a live chart trims its history).
    """

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self._feeds: list[_Feed] = []
        self._by_label: dict[str, _Feed] = {}

    # -- facades -----------------------------------------------------------------

    def sma(self, period: int = 30, source: str = "close") -> Line:
        return self._line("SMA", _label(f"sma_{period}", source), (source,), timeperiod=_period(period, "sma"))

    def ema(self, period: int = 30, source: str = "close") -> Line:
        return self._line("EMA", _label(f"ema_{period}", source), (source,), timeperiod=_period(period, "ema"))

    def rsi(self, period: int = 14, source: str = "close") -> Line:
        return self._line("RSI", _label(f"rsi_{period}", source), (source,), timeperiod=_period(period, "rsi"))

    def atr(self, period: int = 14) -> Line:
        return self._line("ATR", f"atr_{period}", ("high", "low", "close"), timeperiod=_period(period, "atr", 1))

    def sar(self, acceleration: float = 0.02, maximum: float = 0.2) -> Line:
        if not 0 < acceleration <= maximum:
            raise ConfigError(f"sar: need 0 < acceleration <= maximum, got {acceleration} and {maximum}")
        return self._line("SAR", f"sar_{acceleration}_{maximum}", ("high", "low"), acceleration=acceleration, maximum=maximum)

    def macd(self, fast: int = 12, slow: int = 26, signal: int = 9, source: str = "close") -> MacdLines:
        if not _period(fast, "macd fast") < _period(slow, "macd slow"):
            raise ConfigError(f"macd: fast period ({fast}) must be shorter than slow period ({slow})")
        lines = self._lines("MACD", _label(f"macd_{fast}_{slow}_{signal}", source), (source,), ("macd", "signal", "hist"),
                            fastperiod=fast, slowperiod=slow, signalperiod=_period(signal, "macd signal", 1))
        return MacdLines(*lines)

    def stoch(self, fastk: int = 14, slowk: int = 3, slowd: int = 3) -> StochLines:
        lines = self._lines("STOCH", f"stoch_{fastk}_{slowk}_{slowd}", ("high", "low", "close"), ("slowk", "slowd"),
                            fastk_period=_period(fastk, "stoch fastk", 1), slowk_period=_period(slowk, "stoch slowk", 1),
                            slowk_matype=0, slowd_period=_period(slowd, "stoch slowd", 1), slowd_matype=0)
        return StochLines(*lines)

    def bbands(self, period: int = 20, nbdev: float = 2.0, source: str = "close") -> BandLines:
        if not nbdev > 0:
            raise ConfigError(f"bbands: nbdev must be > 0, got {nbdev}")
        lines = self._lines("BBANDS", _label(f"bbands_{period}_{nbdev}", source), (source,), ("upper", "middle", "lower"),
                            timeperiod=_period(period, "bbands"), nbdevup=nbdev, nbdevdn=nbdev, matype=0)
        return BandLines(*lines)

    def support_resistance(self, period: int = 20) -> SupportResistance:
        """Rolling support (lowest low) and resistance (highest high) over ``period`` candles, this one included."""
        support = self._line("MIN", f"support_{period}", ("low",), timeperiod=_period(period, "support/resistance"))
        resistance = self._line("MAX", f"resistance_{period}", ("high",), timeperiod=_period(period, "support/resistance"))
        return SupportResistance(support, resistance)

    def talib(self, function: str, source: str = "close", **params: float) -> Line | tuple[Line, ...]:
        """Any other TA-Lib function by name, streamed like the facades: ``indicators.talib("CCI", timeperiod=20)``.

        Parameters are TA-Lib's own names and defaults (``abstract.Function(name).info``). Inputs are the
        chart columns TA-Lib asks for (open, high, low, close, volume); ``source`` replaces the close for
        functions of one price series. One output gives a line, several a tuple of lines in TA-Lib's order.
        """
        name = function.upper()
        if name not in _TALIB_FUNCTIONS:
            raise ConfigError(f"talib: no TA-Lib function {function!r} (talib.get_functions() lists them)")
        info = abstract.Function(name).info
        unknown = set(params) - set(info["parameters"])
        if unknown:
            known = ", ".join(info["parameters"]) or "none"
            raise ConfigError(f"talib {name}: unknown parameter(s) {', '.join(sorted(unknown))} (known: {known})")
        values = {**info["parameters"], **params}
        sources = _inputs(name, info["input_names"], source)
        _check_parameters(name, len(sources), values)
        label = _label("_".join([name.lower(), *(f"{v:g}" if isinstance(v, float) else str(v) for v in values.values())]), source)
        lines = self._lines(name, label, sources, tuple(info["output_names"]), **values)
        return lines[0] if len(lines) == 1 else lines

    # -- engine side -------------------------------------------------------------

    def update(self) -> None:
        """The chart grew by one candle: extend every line by one value."""
        for feed in self._feeds:
            feed.push(self.chart)

    def drop_front(self, count: int) -> None:
        for feed in self._feeds:
            for line in feed.lines:
                del line[:count]
            if feed.first_valid is not None:
                feed.first_valid = max(0, feed.first_valid - count)

    def warm_index(self) -> int | None:
        """First candle index where every line has a value; None while any is still warming up."""
        first = 0
        for feed in self._feeds:
            if feed.first_valid is None:
                return None
            first = max(first, feed.first_valid)
        return first

    def history_needed(self) -> int:
        """Candles of history every indicator needs before its first value (TA-Lib's lookback + 1)."""
        return max((feed.lookback for feed in self._feeds), default=0) + 1

    def values_at(self, i: int) -> dict[str, float]:
        """Every line's value on candle ``i``, named ``<label>`` or ``<label>.<output>`` (for logs and metrics)."""
        values: dict[str, float] = {}
        for feed in self._feeds:
            if len(feed.lines) == 1:
                values[feed.label] = feed.lines[0][i]
            else:
                for name, line in zip(feed.outputs, feed.lines):
                    values[f"{feed.label}.{name}"] = line[i]
        return values

    def named_lines(self) -> dict[str, Line]:
        """Every line, named as ``values_at`` names it (for reports)."""
        lines: dict[str, Line] = {}
        for feed in self._feeds:
            for name, line in zip(feed.outputs, feed.lines):
                lines[feed.label if len(feed.lines) == 1 else f"{feed.label}.{name}"] = line
        return lines

    # -- plumbing ----------------------------------------------------------------

    def _line(self, function: str, label: str, sources: tuple[str, ...], **params: float) -> Line:
        return self._lines(function, label, sources, ("value",), **params)[0]

    def _lines(self, function: str, label: str, sources: tuple[str, ...], outputs: tuple[str, ...], **params: float) -> tuple[Line, ...]:
        for source in sources:
            if source not in _SOURCES:
                raise ConfigError(f"{label}: unknown price source {source!r} (use one of {', '.join(_SOURCES)})")
        existing = self._by_label.get(label)
        if existing is not None:
            return existing.lines
        try:
            lookback = abstract.Function(function, **params).lookback
        except Exception as exc:  # TA-Lib rejects out-of-range parameters here
            raise ConfigError(f"{label}: invalid parameters {params} ({exc})") from None
        feed = _Feed(label, function, sources, dict(params), outputs, tuple(array("d") for _ in outputs), lookback)
        feed.open(self.chart)
        self._feeds.append(feed)
        self._by_label[label] = feed
        return feed.lines



_TALIB_FUNCTIONS = frozenset(talib.get_functions())


def _inputs(name: str, input_names: dict[str, str | list[str]], source: str) -> tuple[str, ...]:
    """The chart columns a TA-Lib function reads, in its argument order; ``source`` stands for its one price."""
    sources: list[str] = []
    for key, columns in input_names.items():
        if key == "price":
            sources.append(source)
        elif isinstance(columns, str):
            if columns not in _SOURCES:
                raise ConfigError(f"talib {name}: needs the input {columns!r}, which is not a candle column")
            sources.append(columns)
        else:
            sources.extend(columns)
    if source != "close" and "price" not in input_names:
        raise ConfigError(f"talib {name}: reads {', '.join(sources)}; source= only replaces a single close input")
    return tuple(sources)


def _check_parameters(name: str, inputs: int, params: dict[str, float]) -> None:
    """Let TA-Lib judge the parameters once on a short series, so a bad one is a line at setup, not a crash later."""
    try:
        lookback = abstract.Function(name, **params).lookback
        series = np.linspace(1.0, 2.0, max(lookback, 0) + 2)
        getattr(talib, name)(*([series] * inputs), **params)
    except Exception as exc:  # TA-Lib answers bad parameters with assorted exception types
        raise ConfigError(f"talib {name}: invalid parameters {params} ({exc})") from None


def _label(base: str, source: str) -> str:
    return base if source == "close" else f"{base}_{source}"


def _period(value: int, name: str, minimum: int = 2) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} period must be an integer >= {minimum}, got {value!r}")
    if value > 100_000:
        raise ConfigError(f"{name} period {value} is longer than TA-Lib allows (100000)")
    return value
