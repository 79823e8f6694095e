"""Candle files as recorded in ``../shared/data``: CSV ``time,open,high,low,close,volume``, plain or gzip.

A million rows (gzip) load in about 0.4 s with ``pyarrow.csv`` (it parses blocks on several threads, the GIL
released). Without pyarrow, or for a file it refuses: one thread reads and inflates the file
in chunks (zlib lets go of the GIL) while numpy's C CSV reader parses the
chunks already inflated, so no Python code runs per row (about 1.2 s). Gzip is recognised
by its magic bytes, whatever the file is called. Only when a file is bad does
a slow path rescan a chunk to name the exact line. Later runs skip all this:
see ``candlecache``.
"""

from __future__ import annotations

import io
import queue
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generator, Iterator, cast

import numpy as np

from candlebot.errors import DataFileError

CANDLE_HEADER = ("time", "open", "high", "low", "close", "volume")
TRADE_HEADER = ("time", "price", "volume")

_CHUNK = 1 << 20  # compressed bytes per read
_AHEAD = 4  # inflated chunks waiting for the parser
_HEADER_SAMPLE = 1 << 16  # bytes read (and inflated) to find the header line
MILLISECONDS_ABOVE = 1e11  # a unix time above this is in ms (1e11 s is the year 5138)


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


def open_data_file(path: Path) -> BinaryIO:
    """The file opened for reading; DataFileError (one line, exit 2) when it cannot be."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DataFileError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise DataFileError(f"data file is a directory: {path}") from None
    except OSError as exc:
        raise DataFileError(f"cannot read data file {path}: {exc.strerror or exc}") from None


def _open_bytes(path: Path) -> Generator[bytes, None, None]:
    """The (decompressed) content in chunks that end on line boundaries."""
    with open_data_file(path) as handle:
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
                    yield data[:cut]
        except zlib.error as exc:
            raise DataFileError(f"{path}: not a valid gzip file ({exc})") from None
        except OSError as exc:
            raise DataFileError(f"cannot read data file {path}: {exc.strerror or exc}") from None
        if decoder is not None and not decoder.eof:
            raise DataFileError(f"{path}: truncated gzip file")
        if tail:
            yield tail


_DONE = object()


def _read_ahead(chunks: Generator[bytes, None, None]) -> Iterator[bytes]:
    """``chunks``, produced by a thread up to ``_AHEAD`` chunks in advance (reading and inflating overlap parsing)."""
    ready: queue.Queue[object] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        """Queue ``item``; False once the consumer has gone."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not hand_over(chunk):
                    return
            hand_over(_DONE)
        except BaseException as exc:  # handed to the consumer, who raises it
            hand_over(exc)
        finally:
            chunks.close()

    worker = threading.Thread(target=produce, name="candlefile-inflate", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield cast(bytes, item)
    finally:
        stop.set()
        worker.join()


def _read_columns(path: Path, expected: tuple[str, ...]) -> list[np.ndarray]:
    """The file's first ``len(expected)`` columns as float64 arrays: Arrow's parser when it takes the file as it is,
    else ``_read_columns_numpy`` (which also names the line of anything wrong)."""
    columns = _read_columns_arrow(path, expected)
    return columns if columns is not None else _read_columns_numpy(path, expected)


def _read_columns_arrow(path: Path, expected: tuple[str, ...]) -> list[np.ndarray] | None:
    """Parse with ``pyarrow.csv`` (threads, the GIL released; measured 3x faster than ``np.loadtxt`` on a million
    rows and bit-identical: both round every decimal correctly). None when pyarrow is not installed or refuses
    anything (a ragged row, an empty or quoted field, a non-number): the numpy path then reads the file, or says
    where it is wrong. Gzip is told by its magic bytes, as below; concatenated members and truncation are ISA-L's
    (or Arrow's without isal)."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    try:  # ISA-L's inflate, ~2.5x zlib's (which pyarrow's gzip stream uses); imported only when a file is parsed
        from isal import igzip_threaded
        from isal.isal_zlib import error as inflate_error
    except ImportError:
        igzip_threaded, inflate_error = None, OSError
    header = sniff_header(path)
    if header[: len(expected)] != expected:
        return None  # the numpy path names the mistake
    names = [f"c{k}" for k in range(len(header))]
    wanted = names[: len(expected)]
    try:
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        # gzip inflated by ISA-L on a thread of its own while Arrow parses blocks on its threads: with zlib the
        # inflate alone took as long as the whole threaded parse of a million rows, so it set the pace
        inflated = gzipped and igzip_threaded is not None
        stream = pa.PythonFile(igzip_threaded.open(path, "rb", threads=1), mode="r") if inflated else pa.OSFile(str(path))
        try:
            source = pa.CompressedInputStream(stream, "gzip") if gzipped and not inflated else stream
            table = pa_csv.read_csv(
                source,
                read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names, block_size=4 << 20),
                parse_options=pa_csv.ParseOptions(quote_char=False, double_quote=False),
                convert_options=pa_csv.ConvertOptions(
                    include_columns=wanted, column_types={name: pa.float64() for name in wanted},
                    strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[]))
        finally:
            stream.close()
    except (pa.ArrowException, OSError, ValueError, EOFError, inflate_error):
        return None
    if any(table.column(name).null_count for name in wanted):
        return None
    return [_float_column(table.column(name)) for name in wanted]


def _float_column(chunked: object) -> np.ndarray:
    """One float64 column of Arrow's blocks copied into one numpy array, straight from the value buffers.
    ``ChunkedArray.to_numpy()`` gives the same bits but imports pandas on its first call (~0.3 s of a first
    backtest, and no backtest process may import pandas)."""
    chunks = chunked.chunks  # type: ignore[attr-defined]
    column = np.empty(sum(len(chunk) for chunk in chunks), dtype=np.float64)
    at = 0
    for chunk in chunks:
        rows = len(chunk)
        column[at:at + rows] = np.frombuffer(chunk.buffers()[1], dtype=np.float64, count=rows, offset=chunk.offset * 8)
        at += rows
    return column


def _read_columns_numpy(path: Path, expected: tuple[str, ...]) -> list[np.ndarray]:
    """Parse a numeric CSV whose header starts with ``expected`` into one float64 array per column.

    Every row must have as many fields as the header: a row with more is a shifted row (a thousands
    separator, a stray comma), never silently cut to the first columns. When the header is exactly
    ``expected``, numpy's reader enforces that itself; wider files (a trade's side, Kraken's trade
    count) are checked by counting commas.
    """
    width = len(expected)
    blocks = []
    fields = width
    for number, chunk in enumerate(_read_ahead(_open_bytes(path))):
        if number == 0:
            chunk, fields = _strip_header(path, chunk, expected)
        if not chunk.strip():
            continue
        first = chunk[: chunk.find(b"\n")] if b"\n" in chunk else chunk
        wider = fields > width
        if first.count(b",") != fields - 1 or (
                wider and chunk.count(b",") != (fields - 1) * (chunk.count(b"\n") + (not chunk.endswith(b"\n")))):
            if (bad := _locate_bad_line(path, number, chunk, width, fields)) is not None:
                raise bad
        try:
            blocks.append(np.loadtxt(io.BytesIO(chunk), delimiter=",", usecols=range(width) if wider else None,
                                     ndmin=2, dtype=np.float64))
        except ValueError:
            raise _locate_bad_line(path, number, chunk, width, fields) or DataFileError(
                f"{path}: malformed rows in chunk {number + 1}") from None
    return _assemble(blocks, width)


def _strip_header(path: Path, chunk: bytes, expected: tuple[str, ...]) -> tuple[bytes, int]:
    """(the chunk without its header line, the header's number of fields)."""
    newline = chunk.find(b"\n")
    header_line = (chunk if newline < 0 else chunk[:newline]).decode("utf-8", "replace").strip()
    header = tuple(name.strip().lower() for name in header_line.split(","))
    if header[: len(expected)] != expected:
        hint = ""
        if header_line[:1].isdigit():
            hint = " (a headerless file? Kraken's OHLCVT archives go through `candlebot download --import`)"
        raise DataFileError(f"{path}:1: expected a header starting with {','.join(expected)}, "
                            f"got {header_line[:80]!r}{hint}")
    return (chunk[newline + 1 :] if newline >= 0 else b""), len(header)


def _assemble(blocks: list[np.ndarray], width: int) -> list[np.ndarray]:
    """Contiguous columns from row blocks, freeing each block once copied."""
    total = sum(len(block) for block in blocks)
    columns = [np.empty(total) for _ in range(width)]
    filled = 0
    while blocks:
        block = blocks.pop(0)
        for k, column in enumerate(columns):
            column[filled : filled + len(block)] = block[:, k]
        filled += len(block)
    return columns


def _locate_bad_line(path: Path, number: int, chunk: bytes, numeric: int, fields: int) -> DataFileError | None:
    """Slow path, only for a suspicious chunk (``number``, header removed): the first line with the wrong field
    count or a non-number."""
    # lines before the chunk: the header, or every line of the chunks before it (the same split each time)
    line_offset = 1 if number == 0 else sum(part.count(b"\n") for part, _ in zip(_open_bytes(path), range(number)))
    for index, raw in enumerate(chunk.split(b"\n")):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        parts = line.split(",")
        where = f"{path}:{line_offset + index + 1}"
        if len(parts) != fields:
            return DataFileError(f"{where}: malformed row {line[:80]!r} "
                                 f"(expected {fields} fields as in the header, got {len(parts)})")
        for position, field in enumerate(parts[:numeric]):
            try:
                float(field)
            except ValueError:
                return DataFileError(f"{where}: malformed row {line[:80]!r} (field {position + 1} is not a number)")
    return None


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


def _refuse_milliseconds(path: Path, times: np.ndarray, what: str) -> None:
    """Millisecond times would be read as dates 30,000 years ahead: refuse them, with the fix."""
    if len(times) and np.nanmax(np.abs(times)) > MILLISECONDS_ABOVE:
        row = int(np.argmax(np.abs(times) > MILLISECONDS_ABOVE))
        raise _fail_at_row(path, row, f"{what} time {times[row]:.0f} looks like milliseconds; candlebot reads unix "
                                      "seconds (divide the time column by 1000)")


def load_candles(path: str | Path) -> CandleColumns:
    """Read a candle file; DataFileError names the file and line of anything unusable."""
    path = Path(path)
    times, opens, highs, lows, closes, volumes = _read_columns(path, CANDLE_HEADER)
    if len(times) == 0:
        raise DataFileError(f"{path}: no candles in file")
    bad = ~np.isfinite(opens + highs + lows + closes + volumes + times)
    if bad.any():
        raise _fail_at_row(path, int(np.argmax(bad)), "value is not a finite number")
    _refuse_milliseconds(path, times, "candle")
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

    def __len__(self) -> int:
        return len(self.times)

    def before(self, end: float | None) -> TradeColumns:
        """Trades with ``time < end``."""
        stop = len(self.times) if end is None else int(np.searchsorted(self.times, end, side="left"))
        return TradeColumns(self.times[:stop], self.prices[:stop], self.volumes[:stop])


def load_trades(path: str | Path) -> TradeColumns:
    """Read a trades file (``time,price,volume[,side]``) as recorded in ``../shared/data``."""
    path = Path(path)
    times, prices, volumes = _read_columns(path, TRADE_HEADER)
    if len(times) == 0:
        raise DataFileError(f"{path}: no trades in file")
    bad = ~np.isfinite(times + prices + volumes) | (prices <= 0) | (volumes < 0)
    if bad.any():
        raise _fail_at_row(path, int(np.argmax(bad)), "trade needs a finite time, a positive price and a volume >= 0")
    _refuse_milliseconds(path, times, "trade")
    if (np.diff(times) < 0).any():
        raise _fail_at_row(path, int(np.argmax(np.diff(times) < 0)) + 1, "trade time goes backwards")
    return TradeColumns(times, prices, volumes)


def sniff_header(path: str | Path) -> tuple[str, ...]:
    """The lower-cased header fields of a CSV (plain or gzip), to tell candle files from trade files."""
    path = Path(path)
    line = _first_line(path)
    if line is None:  # a header longer than the sample, or anything odd: the full reader (which names what is wrong)
        first = next(_open_bytes(path), b"")
        newline = first.find(b"\n")
        line = first if newline < 0 else first[:newline]
    return tuple(name.strip().lower() for name in line.decode("utf-8", "replace").split(","))


def _first_line(path: Path) -> bytes | None:
    """The file's first line when it ends within its first 64 KiB (inflated no further than that): every run reads
    the header, and inflating a whole first chunk (1 MiB of gzip) for it cost a cached backtest ~10 ms."""
    with open_data_file(path) as handle:
        try:
            start = handle.read(_HEADER_SAMPLE)
        except OSError:
            return None
    if start[:2] == b"\x1f\x8b":
        try:
            start = zlib.decompressobj(wbits=47).decompress(start, _HEADER_SAMPLE)
        except zlib.error:
            return None
    newline = start.find(b"\n")
    return start[:newline] if newline >= 0 else None
