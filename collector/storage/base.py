"""What both stores share: the URL forms, turning records into table rows, and the read queries.

A store's writing side is async (the writer task awaits it; SQLite runs in a worker thread,
PostgreSQL on psycopg's async connection); its reading side is a plain DB-API connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Protocol, Sequence

from candlebot.errors import ConfigError
from candlebot.collector.instruments import Instrument
from candlebot.collector.records import BookRecord, Record
from candlebot.collector.storage.schema import SCHEMA_VERSION

BookRow = tuple[int, int, int | None, int, int, int, int, int]  # symbol_id, seq, ts_exchange, ts_local, is_snapshot, side, price, qty
SnapshotRow = tuple[int, int, int, str]
GapRow = tuple[int, int, int, str]


def parse_url(url: str) -> tuple[str, str]:
    """``sqlite:///path`` (or a plain path ending in .sqlite/.db) -> ("sqlite", path); ``postgresql://`` -> itself."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise ConfigError(f"--db {url}: no file after sqlite:///")
        return "sqlite", path
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", url
    if "://" not in url and url.endswith((".sqlite", ".db", ".sqlite3")):
        return "sqlite", url
    raise ConfigError(f"--db {url!r}: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB")


class StoreUnavailable(Exception):
    """The database cannot be reached now (a restart, a network cut). The batch was not stored, or not known to be:
    the writer offers the same batch again after a back-off, and the store writes it exactly once."""


class Store(Protocol):
    async def open(self, instruments: Sequence[Instrument]) -> dict[str, int | None]:
        """Create or check the schema, register the pairs; returns each pair's last stored receive time."""
        ...

    async def write(self, batch: Sequence[Record]) -> int:
        """Store the batch in one transaction (committed when this returns); returns book rows written.
        ``StoreUnavailable``: try the same batch again later."""
        ...

    async def close(self) -> None: ...


class Batcher:
    """Records -> table rows: symbol ids, and the next ``seq`` of each symbol."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.seqs: dict[str, int] = {}

    def rows(self, batch: Iterable[Record]) -> tuple[list[BookRow], list[SnapshotRow], list[GapRow]]:
        ids, seqs = self.ids, self.seqs
        rows: list[BookRow] = []
        snapshots: list[SnapshotRow] = []
        gaps: list[GapRow] = []
        for record in batch:
            symbol_id = ids[record.pair]
            if type(record) is BookRecord:
                pair, ts_exchange, ts_local, levels, snapshot = record
                seq = seqs[pair]
                if snapshot is not None:
                    snapshots.append((symbol_id, seq, ts_local, snapshot))
                    flag = 1
                else:
                    flag = 0
                rows.extend([(symbol_id, seq + i, ts_exchange, ts_local, flag, side, price, qty)
                             for i, (side, price, qty) in enumerate(levels)])
                seqs[pair] = seq + len(levels)
            else:
                gaps.append((symbol_id, record.start, record.end, record.reason))
        return rows, snapshots, gaps


# -- reading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolInfo:
    id: int
    pair: str
    symbol: str
    price_decimals: int
    qty_decimals: int


class Reader:
    """The read queries over a DB-API connection; ``mark`` is the driver's placeholder (``?`` or ``%s``)."""

    def __init__(self, connection: Any, mark: str, stream_cursor: Any = None) -> None:
        self.connection = connection
        self.mark = mark
        self._stream_cursor = stream_cursor or connection.cursor  # PostgreSQL: a server-side cursor

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql.replace("?", self.mark), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def check_version(self) -> None:
        found = self._query("SELECT value FROM meta WHERE key = 'schema_version'")
        if not found:
            raise ConfigError("the database holds no collector schema")
        if int(found[0][0]) != SCHEMA_VERSION:
            raise ConfigError(f"the database has collector schema {found[0][0]}, this version reads {SCHEMA_VERSION}")

    def symbol(self, pair: str) -> SymbolInfo:
        from candlebot.exchanges.kraken_pairs import normalise

        for row in reversed(self._query("SELECT id, pair, symbol, price_decimals, qty_decimals FROM symbols ORDER BY id")):
            if normalise(row[1]) == normalise(pair) or normalise(row[2]) == normalise(pair):
                return SymbolInfo(*row)
        known = ", ".join(sorted({r[0] for r in self._query("SELECT pair FROM symbols")})) or "none"
        raise ConfigError(f"no pair {pair!r} in the database (stored: {known})")

    def snapshot_before(self, symbol_id: int, at_us: int) -> tuple[int, int] | None:
        """(seq, ts_local) of the newest snapshot taken at or before ``at_us``."""
        found = self._query("SELECT seq, ts_local FROM snapshots WHERE symbol_id = ? AND ts_local <= ? "
                            "ORDER BY ts_local DESC, seq DESC LIMIT 1", (symbol_id, at_us))
        return (int(found[0][0]), int(found[0][1])) if found else None

    def first_snapshot_from(self, symbol_id: int, at_us: int) -> tuple[int, int] | None:
        """(seq, ts_local) of the oldest snapshot taken at or after ``at_us``."""
        found = self._query("SELECT seq, ts_local FROM snapshots WHERE symbol_id = ? AND ts_local >= ? "
                            "ORDER BY ts_local, seq LIMIT 1", (symbol_id, at_us))
        return (int(found[0][0]), int(found[0][1])) if found else None

    def rows(self, symbol_id: int, from_seq: int, until_us: int) -> Iterator[tuple[int, int | None, int, int, int, int, int]]:
        """(seq, ts_exchange, ts_local, is_snapshot, side, price, qty) from ``from_seq`` on, received by ``until_us``."""
        cursor = self._stream_cursor()
        try:
            cursor.execute(("SELECT seq, ts_exchange, ts_local, is_snapshot, side, price, qty FROM book_rows "
                            "WHERE symbol_id = ? AND seq >= ? AND ts_local <= ? ORDER BY seq").replace("?", self.mark),
                           (symbol_id, from_seq, until_us))
            while True:
                chunk = cursor.fetchmany(10_000)
                if not chunk:
                    return
                yield from chunk
        finally:
            cursor.close()

    def gaps(self, symbol_id: int, from_us: int, to_us: int) -> list[tuple[int, int, str]]:
        """(start, end, reason) of the gaps overlapping [from_us, to_us]."""
        return [(int(a), int(b), str(r)) for a, b, r in self._query(
            "SELECT start_local, end_local, reason FROM gaps WHERE symbol_id = ? AND start_local <= ? AND end_local >= ? "
            "ORDER BY start_local", (symbol_id, to_us, from_us))]

    def last_time(self, symbol_id: int) -> int | None:
        found = self._query("SELECT max(ts_local) FROM snapshots WHERE symbol_id = ?", (symbol_id,))
        newest_snapshot = found[0][0]
        if newest_snapshot is None:
            return None
        seq = self._query("SELECT max(seq) FROM book_rows WHERE symbol_id = ?", (symbol_id,))[0][0]
        row = int(self._query("SELECT ts_local FROM book_rows WHERE symbol_id = ? AND seq = ?", (symbol_id, seq))[0][0])
        return max(row, self.last_gap_end(symbol_id) or row)

    def last_gap_end(self, symbol_id: int) -> int | None:
        """Where the last gap stored ends: a stop while unsynced stores its gap up to the stop, so the next start's
        ``restart`` gap begins there instead of covering that time twice."""
        found = self._query("SELECT max(end_local) FROM gaps WHERE symbol_id = ?", (symbol_id,))[0][0]
        return None if found is None else int(found)

    def close(self) -> None:
        self.connection.close()
