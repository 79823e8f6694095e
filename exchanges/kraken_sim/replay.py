"""Replay of recorded candles as a trade tape.

Each candle becomes ``n`` trades on a grid ``step`` seconds apart (5 s for
5-minute candles, at most 60 s), walking open -> low -> high -> close when the
candle closed up and open -> high -> low -> close when it closed down, in
straight lines between those four points (rounded to the tick). The walk hits
the candle's own open, high, low and close, so that bars rebuilt from the tape
at the file's interval (or any multiple) equal the file, and finer bars stay
inside it. A candle's volume is spread evenly over its trades.

Missing candles (no trades) stay missing from the tape; OHLC fills them with
flat zero-volume bars, as Kraken's REST OHLC does, and the ticker keeps the
last close, so a polling bot charts them flat: the one candle convention a
backtest follows too (``candlebot.data.gaps``). Prices are rounded to the tick
half to even on price/tick, as a backtest rounds them (``candlebot.data.ticks``).
After the last candle the price stays at its close.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from candlebot.errors import DataFileError
from candlebot.exchanges.kraken_sim.market import Bar, Print

HEADER = ["time", "open", "high", "low", "close", "volume"]


@dataclass(frozen=True, slots=True, eq=False)
class CandleTable:
    """Candles in integer units: prices in ticks, volume in lots. Times are bar opens, strictly increasing."""

    times: np.ndarray
    opens: np.ndarray
    highs: np.ndarray
    lows: np.ndarray
    closes: np.ndarray
    lots: np.ndarray
    period: int

    def __len__(self) -> int:
        return len(self.times)


def open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", newline="") if gzipped else open(path, newline="")


def load_candles(path: Path, tick: Decimal, lot_decimals: int) -> CandleTable:
    """Read a ``time,open,high,low,close,volume`` CSV (plain or gzip); DataFileError names the file and line."""
    tick_f, lot_scale = float(tick), 10.0**lot_decimals
    rows: list[tuple[int, int, int, int, int, int]] = []
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header[:6]] != HEADER:
                raise DataFileError(f"{path}:1: expected the header {','.join(HEADER)}")
            for row in reader:
                if not row:
                    continue
                line = reader.line_num
                try:
                    t = int(row[0])
                    o, h, l, c = (round(float(x) / tick_f) for x in row[1:5])
                    lots = round(float(row[5]) * lot_scale)
                except (ValueError, IndexError):
                    raise DataFileError(f"{path}:{line}: malformed row {','.join(row)!r}") from None
                if not (l <= min(o, c) and h >= max(o, c) and l > 0 and lots >= 0):
                    raise DataFileError(f"{path}:{line}: inconsistent candle {','.join(row)!r}")
                if rows and t <= rows[-1][0]:
                    raise DataFileError(f"{path}:{line}: time {t} is not after the previous row's")
                rows.append((t, o, h, l, c, lots))
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: not a readable CSV ({exc})") from None
    if len(rows) < 2:
        raise DataFileError(f"{path}: needs at least two candles")
    columns = np.array(rows, dtype=np.int64).T
    period = int(np.diff(columns[0]).min())
    if np.any((columns[0] - columns[0][0]) % period):
        raise DataFileError(f"{path}: candle times are not aligned to a common period of {period} s")
    return CandleTable(*columns, period=period)


class ReplayPath:
    """Recorded candles as a ``PricePath`` (see the module docstring)."""

    def __init__(self, table: CandleTable) -> None:
        self.table = table
        self.period = table.period
        self.step = max(1, min(60, self.period // 60))
        if self.period % self.step:
            self.step = 1
        self.points = self.period // self.step
        if self.points < 4:
            raise DataFileError(f"candles of {self.period} s are too short to replay (need at least 4 s)")
        last = self.points - 1
        self._positions = (0, last // 3, 2 * last // 3, last)
        up = table.closes >= table.opens
        self._knots = np.stack([table.opens, np.where(up, table.lows, table.highs),
                                np.where(up, table.highs, table.lows), table.closes], axis=1)
        self._typical = (table.opens + table.highs + table.lows + table.closes) / 4.0
        self.genesis = int(table.times[0])
        self.end = int(table.times[-1]) + self.period

    # -- one candle -----------------------------------------------------------------------------------------

    def _value(self, i: int, j: int) -> int:
        positions, knots = self._positions, self._knots[i]
        seg = 0 if j <= positions[1] else 1 if j <= positions[2] else 2
        a, b = positions[seg], positions[seg + 1]
        if b == a:
            return int(knots[seg + 1])
        return round(int(knots[seg]) + (int(knots[seg + 1]) - int(knots[seg])) * (j - a) / (b - a))

    def _lots(self, i: int, j0: int, j1: int) -> int:
        q, r = divmod(int(self.table.lots[i]), self.points)
        return (j1 - j0 + 1) * q + (r if j1 == self.points - 1 else 0)

    def _segment(self, i: int, j0: int, j1: int) -> tuple[int, int, int, int, int, float]:
        """(open, high, low, close, lots, ticks*lots) of trades j0..j1 of candle i."""
        lots = self._lots(i, j0, j1)
        if j0 == 0 and j1 == self.points - 1:
            t = self.table
            return int(t.opens[i]), int(t.highs[i]), int(t.lows[i]), int(t.closes[i]), lots, self._typical[i] * lots
        first, last = self._value(i, j0), self._value(i, j1)
        inner = [int(v) for p, v in zip(self._positions, self._knots[i]) if j0 < p < j1]
        high, low = max(first, last, *inner), min(first, last, *inner)
        return first, high, low, last, lots, (first + high + low + last) / 4.0 * lots

    def _locate(self, t: float) -> tuple[int, int | None]:
        """(candle index, trade index within it) of the last trade at or before ``t``; j None in a gap."""
        i = int(np.searchsorted(self.table.times, t, side="right")) - 1
        if i < 0:
            return i, None
        offset = t - int(self.table.times[i])
        return (i, None) if offset >= self.period else (i, int(offset // self.step))

    # -- PricePath ------------------------------------------------------------------------------------------

    def ticks_at(self, t: float) -> int:
        i, j = self._locate(t)
        if i < 0:
            return int(self.table.opens[0])
        return int(self.table.closes[i]) if j is None else self._value(i, j)

    def _stats(self, first: int, stop: int) -> tuple[int, int, int, int, int, float, int] | None:
        """(open, high, low, close, lots, ticks*lots, trades) of the trades timed in [first, stop)."""
        times, step = self.table.times, self.step
        lo = int(np.searchsorted(times, first - self.period, side="right"))
        hi = int(np.searchsorted(times, stop, side="left"))
        parts = []
        trades = 0
        i = lo
        while i < hi:
            start = int(times[i])
            j0 = max(0, math.ceil((first - start) / step))
            j1 = min(self.points - 1, math.ceil((stop - start) / step) - 1)
            if j0 == 0 and j1 == self.points - 1:
                # a run of whole candles: vectorised
                k = int(np.searchsorted(times, stop - self.period + step - 1, side="right"))
                k = max(k, i + 1)
                t = self.table
                lots = int(t.lots[i:k].sum())
                parts.append((int(t.opens[i]), int(t.highs[i:k].max()), int(t.lows[i:k].min()), int(t.closes[k - 1]),
                              lots, float(np.dot(self._typical[i:k], t.lots[i:k]))))
                trades += (k - i) * self.points
                i = k
                continue
            if j0 <= j1:
                parts.append(self._segment(i, j0, j1))
                trades += j1 - j0 + 1
            i += 1
        if not parts:
            return None
        return (parts[0][0], max(p[1] for p in parts), min(p[2] for p in parts), parts[-1][3],
                sum(p[4] for p in parts), sum(p[5] for p in parts), trades)

    def bars(self, interval: int, first: int, end: float) -> list[Bar]:
        stop = math.floor(end) + 1
        out = []
        for start in range(first, stop, interval):
            stats = self._stats(start, min(start + interval, stop))
            if stats is not None:
                o, h, l, c, lots, pv, trades = stats
                out.append(Bar(start, o, h, l, c, pv / lots if lots else 0.0, lots, trades))
            elif start > self.genesis:
                close = self.ticks_at(start - 1)
                out.append(Bar(start, close, close, close, close, 0.0, 0, 0))
        return out

    def extremes(self, after: float, until: float) -> tuple[int, int] | None:
        stats = self._stats(math.floor(after) + 1, math.floor(until) + 1)
        return None if stats is None else (stats[2], stats[1])

    def _trade_time(self, i: int, j: int) -> int:
        return int(self.table.times[i]) + j * self.step

    def _next(self, i: int, j: int) -> tuple[int, int]:
        return (i, j + 1) if j + 1 < self.points else (i + 1, 0)

    def _previous(self, i: int, j: int) -> tuple[int, int]:
        return (i, j - 1) if j > 0 else (i - 1, self.points - 1)

    def prints_after(self, cursor: int, until: float, limit: int) -> list[Print]:
        return self.prints(cursor // 10**9, until, limit, False)  # trades on whole seconds: cursor = second * 1e9

    def prints(self, after: float, until: float, limit: int, newest: bool) -> list[Print]:
        n = len(self.table)
        chosen: list[tuple[int, int]] = []
        if newest:
            i, j = self._locate(until)
            if i >= 0 and j is None:
                j = self.points - 1
            while i >= 0 and len(chosen) < limit and self._trade_time(i, j) > after:  # type: ignore[arg-type]
                chosen.append((i, j))  # type: ignore[arg-type]
                i, j = self._previous(i, j)  # type: ignore[arg-type]
            chosen.reverse()
        else:
            i, j = self._locate(after)
            i, j = (0, 0) if i < 0 else self._next(i, self.points - 1 if j is None else j)
            while i < n and len(chosen) < limit and self._trade_time(i, j) <= until:
                chosen.append((i, j))
                i, j = self._next(i, j)
        out = []
        for i, j in chosen:
            price = self._value(i, j)
            pi, pj = self._previous(i, j)
            previous = self._value(pi, pj) if pi >= 0 else price
            when = self._trade_time(i, j)
            out.append(Print((when - self.genesis) // self.step + 1, float(when), price, self._lots(i, j, j),
                             "b" if price >= previous else "s", "l" if j % 3 == 0 else "m", when * 10**9))
        return out
