"""The candles a backtest runs on: a candle or trade file (or the generated demo series) as one chart.

Every chart follows the bot's candle convention (see ``gaps`` and ``ticks``): prices on the pair's tick, and a
flat candle for every period without trades, filled at the data's own resolution before any resampling. All of
it is load-time work, done once on whole columns: the per-candle engine never sees the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from candlebot.chart import Chart, period_seconds
from candlebot.data.candlecache import CandleCache
from candlebot.data.candlefile import CANDLE_HEADER, TRADE_HEADER, CandleColumns, load_candles, load_trades, sniff_header
from candlebot.data.gaps import fill_gaps
from candlebot.data.pricepath import demo_candles
from candlebot.data.resample import candles_from_trades, resample
from candlebot.data.ticks import round_to_tick
from candlebot.errors import ConfigError, DataFileError


@dataclass(frozen=True)
class LoadedChart:
    """A chart and what the candle convention changed in the data on the way (for summaries and ``--json``)."""

    chart: Chart
    filled: int = 0  # flat candles added at the data's own resolution
    longest_filled_run: int = 0
    tick_rounded: int = 0  # candles (filled ones included) whose open, high, low or close moved onto the tick
    gaps_kept: bool = False  # --keep-gaps: the archive's convention, which no bot ever sees
    data_end: float | None = None  # where the file's data ends (its last candle's close); None: not read for a cut

    def past_end(self, end: float | None, data: str) -> str | None:
        """One warning line when ``--to`` lies after the file's last candle: the run ends at that candle. The gap
        convention fills gaps *between* candles; nothing after the last one is made up (no price was recorded)."""
        if end is None or self.data_end is None or end <= self.data_end:
            return None
        name = "the demo series" if data == "demo" else Path(data).name
        return (f"warning: --to {_utc(end)} is after the last candle of {name} (which ends {_utc(self.data_end)}): "
                f"the backtest ends there")

    def to_json(self) -> dict[str, int | bool]:
        return {"filled_candles": self.filled, "longest_filled_run": self.longest_filled_run,
                "tick_rounded_candles": self.tick_rounded, "gaps_kept": self.gaps_kept}

    def summary_rows(self, period: int) -> list[tuple[str, str]]:
        if self.gaps_kept:
            gaps = "kept as in the file (--keep-gaps: a bot never sees data this way)"
        elif self.filled:
            gaps = (f"{self.filled} flat candles filled at the data's {period_text(period)} resolution "
                    f"(longest run {self.longest_filled_run})")
        else:
            gaps = "none"
        rows = [("gaps", gaps)]
        if self.tick_rounded:
            rows.append(("tick", f"{self.tick_rounded} candles had prices off the pair's tick, rounded onto it"))
        return rows


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def period_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def load_chart(data: str, pair: str, period_minutes: float | None, end: float | None,
               cache: CandleCache | None = None, *, tick: Decimal | None = None, keep_gaps: bool = False) -> Chart:
    """The candles of ``data`` at ``period_minutes`` (default: the file's), ending before ``end``."""
    return load_convention_chart(data, pair, period_minutes, end, cache, tick=tick, keep_gaps=keep_gaps).chart


def load_convention_chart(data: str, pair: str, period_minutes: float | None, end: float | None,
                          cache: CandleCache | None = None, *, tick: Decimal | None = None,
                          keep_gaps: bool = False) -> LoadedChart:
    """``load_chart`` with what the convention changed: rounded onto ``tick`` (None: as in the file), gaps
    filled at the data's own period unless ``keep_gaps``, then resampled to ``period_minutes``.

    ``end`` cuts before resampling, so that a coarser candle never holds anything at or after it.
    """
    prepared = _prepared(data, end, cache, tick, keep_gaps)
    if prepared is not None:  # a whole candle file with a cache: the convention's work is in the cache
        columns, facts = prepared
        native: int | None = columns.native_period()
        filled, longest, rounded = facts["filled"], facts["longest_run"], facts["tick_rounded"]
    else:
        columns, native, data_end = _read_columns(data, period_minutes, end, cache)
    period = period_seconds(period_minutes) if period_minutes is not None else native
    if period is None:
        raise ConfigError(f"{data}: cannot tell the candle period from a single candle; pass -p")
    if prepared is None:
        if data_end is None and len(columns):  # a candle file: its last candle closes one period after it opens
            data_end = float(columns.times[-1]) + (native if native is not None else period)
        columns = columns.between(None, end)
        if len(columns) == 0:
            raise ConfigError(f"no candles before --to in {data}")
        filled = longest = 0
        if not keep_gaps:
            gapless = fill_gaps(columns, native if native is not None else period)
            columns, filled, longest = gapless.candles, gapless.filled, gapless.longest_run
        rounded = 0
        if tick is not None:  # after filling, which copies a flat candle's prices from a close: rounded the same
            on_tick = round_to_tick(columns, tick, in_place=filled > 0 or native is None or data == "demo")
            columns, rounded = on_tick.candles, on_tick.changed
    columns = resample(columns, period) if native is not None else columns
    chart = Chart.from_arrays(pair, period, columns.times, columns.opens, columns.highs,
                              columns.lows, columns.closes, columns.volumes)
    return LoadedChart(chart, filled, longest, rounded, keep_gaps, None if prepared is not None else data_end)


def _prepared(data: str, end: float | None, cache: CandleCache | None, tick: Decimal | None,
              keep_gaps: bool) -> tuple[CandleColumns, dict[str, int]] | None:
    """A whole candle file (no ``end``) at its own period, filled and on the tick, through the cache; None for
    anything else (no cache, a cut, trades, the demo series, a single candle), which is prepared as it is read."""
    if cache is None or end is not None or data == "demo":
        return None
    if sniff_header(Path(data))[: len(CANDLE_HEADER)] != CANDLE_HEADER:
        return None

    def prepare(columns: CandleColumns) -> tuple[CandleColumns, dict[str, int]] | None:
        native = columns.native_period()
        if native is None:
            return None
        filled = longest = rounded = 0
        if not keep_gaps:
            gapless = fill_gaps(columns, native)
            columns, filled, longest = gapless.candles, gapless.filled, gapless.longest_run
        if tick is not None:  # in place only on columns of our own (filled or parsed), never on a read-only map
            writable = all(c.flags.writeable for c in (columns.opens, columns.highs, columns.lows, columns.closes))
            on_tick = round_to_tick(columns, tick, in_place=writable)
            columns, rounded = on_tick.candles, on_tick.changed
        return columns, {"filled": filled, "longest_run": longest, "tick_rounded": rounded}

    return cache.load_prepared(data, f"tick={tick} keep_gaps={keep_gaps}", prepare)


def _read_columns(data: str, period_minutes: float | None, end: float | None,
                  cache: CandleCache | None) -> tuple[CandleColumns, int | None, float | None]:
    """The columns, their own period (None: candles already built at ``period_minutes`` from trades) and, for
    trades, where the data ends (the close of the candle the last trade falls in; candles: the caller's)."""
    if data == "demo":
        columns = demo_candles()
        return columns, 60, None
    header = sniff_header(Path(data))
    if header[: len(CANDLE_HEADER)] == CANDLE_HEADER:
        columns = cache.load(data) if cache is not None else load_candles(data)
        return columns, columns.native_period(), None
    if header[: len(TRADE_HEADER)] == TRADE_HEADER:
        if period_minutes is None:
            raise ConfigError(f"{data} holds trades; pass -p to say which candles to build from them")
        period = period_seconds(period_minutes)
        trades = load_trades(data)
        last = float(trades.times[-1])
        return candles_from_trades(trades.before(end), period), None, last - last % period + period
    raise DataFileError(f"{data}:1: not a candle file ({','.join(CANDLE_HEADER)}) or trade file ({','.join(TRADE_HEADER)})")
