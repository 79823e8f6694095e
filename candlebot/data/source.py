"""The candles a backtest runs on: a candle or trade file (or the generated demo series) as one chart."""

from __future__ import annotations

from pathlib import Path

from candlebot.chart import Chart, period_seconds
from candlebot.data.candlecache import CandleCache
from candlebot.data.candlefile import CANDLE_HEADER, TRADE_HEADER, CandleColumns, load_candles, load_trades, sniff_header
from candlebot.data.pricepath import demo_candles
from candlebot.data.resample import candles_from_trades, resample
from candlebot.errors import ConfigError, DataFileError


def load_chart(data: str, pair: str, period_minutes: float | None, end: float | None,
               cache: CandleCache | None = None) -> Chart:
    """The candles of ``data`` at ``period_minutes`` (default: the file's), ending before ``end``.

    ``end`` cuts before resampling, so that a coarser candle never holds anything at or after it.
    """
    columns, native = _read_columns(data, period_minutes, end, cache)
    period = period_seconds(period_minutes) if period_minutes is not None else native
    if period is None:
        raise ConfigError(f"{data}: cannot tell the candle period from a single candle; pass -p")
    columns = columns.between(None, end)
    if len(columns) == 0:
        raise ConfigError(f"no candles before -e in {data}")
    columns = resample(columns, period) if native is not None else columns
    return Chart.from_arrays(pair, period, columns.times, columns.opens, columns.highs,
                             columns.lows, columns.closes, columns.volumes)


def _read_columns(data: str, period_minutes: float | None, end: float | None,
                  cache: CandleCache | None) -> tuple[CandleColumns, int | None]:
    if data == "demo":
        columns = demo_candles()
        return columns, 60
    header = sniff_header(Path(data))
    if header[: len(CANDLE_HEADER)] == CANDLE_HEADER:
        columns = cache.load(data) if cache is not None else load_candles(data)
        return columns, columns.native_period()
    if header[: len(TRADE_HEADER)] == TRADE_HEADER:
        if period_minutes is None:
            raise ConfigError(f"{data} holds trades; pass -p to say which candles to build from them")
        period = period_seconds(period_minutes)
        return candles_from_trades(load_trades(data).before(end), period), None
    raise DataFileError(f"{data}:1: not a candle file ({','.join(CANDLE_HEADER)}) or trade file ({','.join(TRADE_HEADER)})")
