"""Candle files as recorded in ``../shared/data``: CSV ``time,open,high,low,close,volume``, plain or gzip.

A million rows load in about half a second: the file is inflated in chunks
and parsed by numpy's C CSV reader, so no Python code runs per row; on a
multi-core Linux machine a forked child parses the last part meanwhile.
Only when a file is bad does a slow path rescan it to name the exact line.
"""

from __future__ import annotations

import io
import mmap
import os
import signal
import sys
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from candlebot.errors import DataFileError

CANDLE_HEADER = ("time", "open", "high", "low", "close", "volume")
TRADE_HEADER = ("time", "price", "volume")

_CHUNK = 1 << 20  # compressed bytes per read
_PARALLEL_BYTES = 2 << 20  # file size from which a second process parses part of it
_PARENT_SHARE = 0.65  # of the file's bytes, parsed by the process that was asked


@dataclass(frozen=True)
class CandleColumns:
    """Candles as parallel numpy columns, times ascending (unix seconds at bar open)."""

    times: np.ndarray
    opens: np.ndarray
    highs: np.ndarray
    lows: np.ndarray
    closes: np.ndarray
    volumes: np.ndarray

    def __len__(self) -> int:
        return len(self.times)

    def native_period(self) -> int | None:
        """The file's bar period: the smallest step between consecutive bars (None for < 2 bars)."""
        if len(self.times) < 2:
            return None
        return int(np.diff(self.times).min())

    def between(self, start: float | None, end: float | None) -> CandleColumns:
        """Bars with ``start <= time < end``."""
        lo = 0 if start is None else int(np.searchsorted(self.times, start, side="left"))
        hi = len(self.times) if end is None else int(np.searchsorted(self.times, end, side="left"))
        return CandleColumns(*(column[lo:hi] for column in self._columns()))

    def _columns(self) -> tuple[np.ndarray, ...]:
        return (self.times, self.opens, self.highs, self.lows, self.closes, self.volumes)


def _open_bytes(path: Path) -> Iterator[bytes]:
    """The (decompressed) content in chunks that end on line boundaries."""
    for _, chunk in _chunks(path):
        yield chunk


def _chunks(path: Path) -> Iterator[tuple[int, bytes]]:
    """(bytes of the file read so far, decompressed chunk ending on a line boundary): the same split in every process."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise DataFileError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise DataFileError(f"data file is a directory: {path}") from None
    except OSError as exc:
        raise DataFileError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    with handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        decoder = zlib.decompressobj(wbits=47) if gzipped else None
        tail = b""
        try:
            while raw := handle.read(_CHUNK):
                if decoder is not None:
                    raw = decoder.decompress(raw)
                    while decoder.unused_data:  # concatenated gzip members
                        rest = decoder.unused_data
                        decoder = zlib.decompressobj(wbits=47)
                        raw += decoder.decompress(rest)
                data = tail + raw
                cut = data.rfind(b"\n") + 1
                tail = data[cut:]
                if cut:
                    yield handle.tell(), data[:cut]
        except zlib.error as exc:
            raise DataFileError(f"{path}: not a valid gzip file ({exc})") from None
        except OSError as exc:
            raise DataFileError(f"cannot read data file {path}: {exc.strerror or exc}") from None
        if decoder is not None and not decoder.eof:
            raise DataFileError(f"{path}: truncated gzip file")
        if tail:
            yield handle.tell(), tail


def _read_columns(path: Path, expected: tuple[str, ...]) -> list[np.ndarray]:
    """Parse a numeric CSV whose header starts with ``expected`` into one float64 array per column."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataFileError(f"data file not found: {path}") from None
    except OSError as exc:
        raise DataFileError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    if size >= _PARALLEL_BYTES and path.is_file() and _can_fork():
        return _read_in_two_processes(path, expected, size)
    blocks = [block for _, block in _parsed_blocks(path, expected, _chunks(path))]
    return _assemble(blocks, np.empty((0, len(expected))))


def _parsed_blocks(path: Path, expected: tuple[str, ...], chunks: Iterator[tuple[int, bytes]],
                   take: Callable[[int], bool] = lambda consumed: True) -> Iterator[tuple[int, np.ndarray]]:
    """(bytes read so far, rows) for each chunk that ``take`` accepts; chunks it refuses are only counted."""
    width = len(expected)
    line_offset = 1  # lines before the current chunk (the header is line 1)
    for number, (consumed, chunk) in enumerate(chunks):
        if number == 0:
            chunk = _strip_header(path, chunk, expected)
        if take(consumed) and chunk.strip():
            try:
                block = np.loadtxt(io.BytesIO(chunk), delimiter=",", usecols=range(width), ndmin=2, dtype=np.float64)
            except ValueError:
                raise _locate_bad_line(path, chunk, line_offset, width) from None
            yield consumed, block
        line_offset += chunk.count(b"\n")


def _strip_header(path: Path, chunk: bytes, expected: tuple[str, ...]) -> bytes:
    newline = chunk.find(b"\n")
    header_line = (chunk if newline < 0 else chunk[:newline]).decode("utf-8", "replace").strip()
    header = tuple(name.strip().lower() for name in header_line.split(","))
    if header[: len(expected)] != expected:
        raise DataFileError(f"{path}:1: expected a header starting with {','.join(expected)}, got {header_line[:80]!r}")
    return chunk[newline + 1 :] if newline >= 0 else b""


def _assemble(blocks: list[np.ndarray], tail: np.ndarray) -> list[np.ndarray]:
    """Contiguous columns from row blocks, freeing each block once copied."""
    width = tail.shape[1]
    total = sum(len(block) for block in blocks) + len(tail)
    columns = [np.empty(total) for _ in range(width)]
    filled = 0
    blocks.append(tail)
    while blocks:
        block = blocks.pop(0)
        for k, column in enumerate(columns):
            column[filled : filled + len(block)] = block[:, k]
        filled += len(block)
    return columns


def _can_fork() -> bool:
    """Two cores, Linux, and no other threads that a fork could catch holding a lock."""
    return sys.platform == "linux" and len(os.sched_getaffinity(0)) >= 2 and threading.active_count() == 1


def _read_in_two_processes(path: Path, expected: tuple[str, ...], size: int) -> list[np.ndarray]:
    """A forked child inflates the whole file but parses only what lies past ``_PARENT_SHARE`` of it, into
    shared memory, while this process inflates and parses the part before.

    numpy's CSV reader holds the GIL, so threads cannot overlap it. The parent's share is the larger one
    because the child also inflates the parent's part (inflating is about a third of the work).
    """
    width = len(expected)
    split = int(size * _PARENT_SHARE)
    rows = _row_bound(path, size)
    shared = mmap.mmap(-1, 8 + rows * width * 8)  # untouched pages cost nothing
    pid = os.fork()
    if pid == 0:  # the child: parse its share into the shared buffer, leave without any cleanup
        status = 3
        try:
            out = np.frombuffer(shared, dtype=np.float64, count=rows * width, offset=8).reshape(rows, width)
            filled = 0
            for _, block in _parsed_blocks(path, expected, _chunks(path), take=lambda consumed: consumed > split):
                out[filled : filled + len(block)] = block
                filled += len(block)
            shared[:8] = filled.to_bytes(8, "little")
            status = 0
        finally:
            os._exit(status)
    try:
        mine = []
        chunks = _chunks(path)
        for consumed, block in _parsed_blocks(path, expected, chunks, take=lambda consumed: consumed <= split):
            mine.append(block)
            if consumed >= split:
                break
        chunks.close()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _, status = os.waitpid(pid, 0)
    if status != 0:  # a bad row in the child's part: find it (and its line) the slow way
        raise _first_bad_line(path, width)
    count = int.from_bytes(shared[:8], "little")
    theirs = np.frombuffer(shared, dtype=np.float64, count=count * width, offset=8).reshape(count, width)
    columns = _assemble(mine, theirs)
    del theirs
    shared.close()
    return columns


def _row_bound(path: Path, size: int) -> int:
    """At most this many rows: a row takes at least 12 bytes ("1,1,1,1,1,1\n"); gzip stores the text size (mod 4 GiB)."""
    text = size
    with path.open("rb") as handle:
        if handle.read(2) == b"\x1f\x8b":
            handle.seek(-4, os.SEEK_END)
            stored = int.from_bytes(handle.read(4), "little")
            text = stored if stored >= size else size * 64  # wrapped past 4 GiB: a generous guess
    return text // 12 + 1


def _first_bad_line(path: Path, width: int) -> DataFileError:
    """Reread the file chunk by chunk and name the first line numpy refuses."""
    line_offset = 1  # lines before the current chunk's first line (the header is line 1)
    for number, chunk in enumerate(_open_bytes(path)):
        body = chunk[chunk.find(b"\n") + 1 :] if number == 0 else chunk
        try:
            if body.strip():
                np.loadtxt(io.BytesIO(body), delimiter=",", usecols=range(width), ndmin=2, dtype=np.float64)
        except ValueError:
            return _locate_bad_line(path, body, line_offset, width)
        line_offset += body.count(b"\n")
    return DataFileError(f"{path}: malformed rows")


def _locate_bad_line(path: Path, chunk: bytes, line_offset: int, numeric: int) -> DataFileError:
    """Slow path, only for a bad file: find the first line numpy refused and say why."""
    for index, raw in enumerate(chunk.split(b"\n")):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        fields = line.split(",")
        where = f"{path}:{line_offset + index + 1}"
        if len(fields) < numeric:
            return DataFileError(f"{where}: malformed row {line[:80]!r} (expected {numeric} fields, got {len(fields)})")
        for position, field in enumerate(fields[:numeric]):
            try:
                float(field)
            except ValueError:
                return DataFileError(f"{where}: malformed row {line[:80]!r} (field {position + 1} is not a number)")
    return DataFileError(f"{path}: malformed rows after line {line_offset}")


def _line_of_row(path: Path, row: int) -> int:
    """The 1-based file line of data row ``row`` (blank lines do not count as rows)."""
    seen = -1
    for chunk_start, chunk in _numbered_lines(path):
        for number, line in enumerate(chunk, start=chunk_start):
            if line.strip():
                seen += 1
                if seen == row:
                    return number
    return -1


def _numbered_lines(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    number = 1
    first = True
    for chunk in _open_bytes(path):
        lines = chunk.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if first:
            lines = lines[1:]
            number += 1
            first = False
        yield number, lines
        number += len(lines)


def _fail_at_row(path: Path, row: int, problem: str) -> DataFileError:
    return DataFileError(f"{path}:{_line_of_row(path, row)}: {problem}")


def load_candles(path: str | Path) -> CandleColumns:
    """Read a candle file; DataFileError names the file and line of anything unusable."""
    path = Path(path)
    times, opens, highs, lows, closes, volumes = _read_columns(path, CANDLE_HEADER)
    if len(times) == 0:
        raise DataFileError(f"{path}: no candles in file")
    bad = ~np.isfinite(opens + highs + lows + closes + volumes + times)
    if bad.any():
        raise _fail_at_row(path, int(np.argmax(bad)), "value is not a finite number")
    not_positive = (opens <= 0) | (highs <= 0) | (lows <= 0) | (closes <= 0)
    if not_positive.any():
        raise _fail_at_row(path, int(np.argmax(not_positive)), "prices must be positive")
    if (times != np.floor(times)).any():
        raise _fail_at_row(path, int(np.argmax(times != np.floor(times))), "candle time is not whole unix seconds")
    steps = np.diff(times)
    if (steps <= 0).any():
        row = int(np.argmax(steps <= 0)) + 1
        raise _fail_at_row(path, row, "candle time is not after the previous row's (file must be sorted, no duplicates)")
    inconsistent = (lows > np.minimum(opens, closes)) | (highs < np.maximum(opens, closes)) | (volumes < 0)
    if inconsistent.any():
        raise _fail_at_row(path, int(np.argmax(inconsistent)), "inconsistent candle (low/high do not bracket open/close, or volume < 0)")
    return CandleColumns(times.astype(np.int64), opens, highs, lows, closes, volumes)


@dataclass(frozen=True)
class TradeColumns:
    """Trades (or ticker ticks) as columns: time in float seconds, price, volume."""

    times: np.ndarray
    prices: np.ndarray
    volumes: np.ndarray


def load_trades(path: str | Path) -> TradeColumns:
    """Read a trades file (``time,price,volume[,side]``) as recorded in ``../shared/data``."""
    path = Path(path)
    times, prices, volumes = _read_columns(path, TRADE_HEADER)
    if len(times) == 0:
        raise DataFileError(f"{path}: no trades in file")
    bad = ~np.isfinite(times + prices + volumes) | (prices <= 0) | (volumes < 0)
    if bad.any():
        raise _fail_at_row(path, int(np.argmax(bad)), "trade needs a finite time, a positive price and a volume >= 0")
    if (np.diff(times) < 0).any():
        raise _fail_at_row(path, int(np.argmax(np.diff(times) < 0)) + 1, "trade time goes backwards")
    return TradeColumns(times, prices, volumes)


def sniff_header(path: str | Path) -> tuple[str, ...]:
    """The lower-cased header fields of a CSV (plain or gzip), to tell candle files from trade files."""
    path = Path(path)
    first = next(_open_bytes(path), b"")
    newline = first.find(b"\n")
    line = (first if newline < 0 else first[:newline]).decode("utf-8", "replace")
    return tuple(name.strip().lower() for name in line.split(","))
