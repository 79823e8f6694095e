"""Replay of a recorded trades file (``time,price,volume[,side]``) as the simulator's tape.

Every recorded trade is one public trade, at its own time, price, volume and
side (the tick rule when the file has no side), so that Trades serves the
file back exactly: a client that pages through it and builds candles gets the
candles built straight from the file. Each trade's ``cursor`` (Trades'
``since``/``last``) is its time in integer nanoseconds, read exactly from the
file's decimal text (``cursors``), bumped by 1 ns where trades
share a timestamp, as Kraken keeps ``last`` unique. OHLC bars are built from
the same trades; minutes without trades are flat zero-volume bars, as
Kraken's REST OHLC fills them. After the last trade the price stays put.
"""

from __future__ import annotations

import csv
import gzip
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from candlebot.errors import DataFileError
from candlebot.exchanges.kraken_sim.cursors import nanoseconds
from candlebot.exchanges.kraken_sim.market import Bar, Print
from candlebot.exchanges.kraken_sim.replay import open_text

HEADER = ["time", "price", "volume"]


@dataclass(frozen=True, slots=True, eq=False)
class TradeTable:
    """Trades in integer units (price ticks, volume lots), in file order; times never go backwards."""

    times: np.ndarray  # float64 seconds
    cursors: np.ndarray  # int64 ns, strictly increasing
    ticks: np.ndarray
    lots: np.ndarray
    sides: tuple[str, ...]  # "b" / "s"

    def __len__(self) -> int:
        return len(self.times)


def is_trades_file(path: Path) -> bool:
    """True when the file's header is a trades header (the simulator otherwise expects candles)."""
    try:
        with open_text(path) as handle:
            header = next(csv.reader(handle), [])
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError):
        return False
    return [h.strip().lower() for h in header[:3]] == HEADER


def load_trades(path: Path, tick: Decimal, lot_decimals: int) -> TradeTable:
    """Read a trades CSV (plain or gzip); DataFileError names the file and line of anything unusable."""
    lot = Decimal(1).scaleb(-lot_decimals)
    times: list[float] = []
    cursors: list[int] = []
    ticks: list[int] = []
    lots: list[int] = []
    sides: list[str] = []
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            header = [h.strip().lower() for h in next(reader, [])]
            if header[:3] != HEADER:
                raise DataFileError(f"{path}:1: expected a header starting with {','.join(HEADER)}")
            side_at = header.index("side") if "side" in header else None
            for row in reader:
                if not row:
                    continue
                line = reader.line_num
                try:
                    when = float(row[0])
                    cursor = nanoseconds(row[0])
                    price, volume = Decimal(row[1]), Decimal(row[2])
                    side = row[side_at].strip().lower()[:1] if side_at is not None else ""
                except (ValueError, IndexError, InvalidOperation):
                    raise DataFileError(f"{path}:{line}: malformed row {','.join(row)!r}") from None
                if price % tick or volume % lot or price <= 0 or volume < 0 or not math.isfinite(when):
                    raise DataFileError(f"{path}:{line}: price not on the pair's tick {tick}, or volume finer "
                                        f"than its {lot_decimals} lot decimals: {','.join(row)!r}")
                if times and when < times[-1]:
                    raise DataFileError(f"{path}:{line}: trade time goes backwards")
                ticks.append(int(price / tick))
                lots.append(int(volume / lot))
                previous = ticks[-2] if len(ticks) > 1 else ticks[-1]
                sides.append(side if side in ("b", "s") else ("b" if ticks[-1] >= previous else "s"))
                times.append(when)
                cursors.append(cursor)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: not a readable CSV ({exc})") from None
    if not times:
        raise DataFileError(f"{path}: no trades in file")
    for k in range(1, len(cursors)):
        cursors[k] = max(cursors[k], cursors[k - 1] + 1)
    return TradeTable(np.array(times), np.array(cursors, dtype=np.int64), np.array(ticks, dtype=np.int64),
                      np.array(lots, dtype=np.int64), tuple(sides))


class TapePath:
    """A recorded trade tape as a ``PricePath`` (see the module docstring)."""

    def __init__(self, table: TradeTable) -> None:
        self.table = table
        self.genesis = math.floor(table.times[0])
        self.end = math.floor(table.times[-1]) + 1
        """The first whole second after the last trade: from then on, all of the tape is history."""

    def _upto(self, t: float) -> int:
        """Number of trades at or before ``t``."""
        return int(np.searchsorted(self.table.times, t, side="right"))

    def ticks_at(self, t: float) -> int:
        n = self._upto(t)
        return int(self.table.ticks[max(n, 1) - 1])

    def _stats(self, lo: int, hi: int) -> Bar | None:
        if hi <= lo:
            return None
        t = self.table
        ticks, lots = t.ticks[lo:hi], t.lots[lo:hi]
        volume = int(lots.sum())
        vwap = float(np.dot(ticks, lots)) / volume if volume else 0.0
        return Bar(0, int(ticks[0]), int(ticks.max()), int(ticks.min()), int(ticks[-1]), vwap, volume, hi - lo)

    def bars(self, interval: int, first: int, end: float) -> list[Bar]:
        stop = math.floor(end) + 1
        out = []
        for start in range(first, stop, interval):
            lo = int(np.searchsorted(self.table.times, start, side="left"))
            hi = int(np.searchsorted(self.table.times, min(start + interval, stop), side="left"))
            stats = self._stats(lo, hi)
            if stats is not None:
                out.append(Bar(start, stats.open, stats.high, stats.low, stats.close, stats.vwap, stats.volume,
                               stats.count))
            elif start > self.genesis:
                close = self.ticks_at(start - 1e-9)
                out.append(Bar(start, close, close, close, close, 0.0, 0, 0))
        return out

    def extremes(self, after: float, until: float) -> tuple[int, int] | None:
        lo = int(np.searchsorted(self.table.times, math.floor(after) + 1, side="left"))
        hi = int(np.searchsorted(self.table.times, math.floor(until) + 1, side="left"))
        stats = self._stats(lo, hi)
        return None if stats is None else (stats.low, stats.high)

    def prints(self, after: float, until: float, limit: int, newest: bool) -> list[Print]:
        lo = 0 if not math.isfinite(after) else int(np.searchsorted(self.table.times, after, side="right"))
        hi = self._upto(until)
        if newest:
            lo = max(lo, hi - limit)
        else:
            hi = min(hi, lo + limit)
        return [self._print(k) for k in range(lo, hi)]

    def prints_after(self, cursor: int, until: float, limit: int) -> list[Print]:
        """Trades whose cursor is above ``cursor`` (Trades' exclusive ``since``), up to ``until``: the first ``limit``."""
        lo = int(np.searchsorted(self.table.cursors, cursor, side="right"))
        hi = min(self._upto(until), lo + limit)
        return [self._print(k) for k in range(lo, hi)]

    def _print(self, k: int) -> Print:
        t = self.table
        return Print(k + 1, float(t.times[k]), int(t.ticks[k]), int(t.lots[k]), t.sides[k],
                     "l" if k % 3 == 0 else "m", int(t.cursors[k]))
