"""The default store: one SQLite file in WAL mode, written from one worker thread.

WAL with ``synchronous=NORMAL``: a commit survives a killed process (``kill -9``) and readers
never block the writer; only a power cut can lose the last commits. Each batch is one
transaction of ``executemany`` inserts into a ``WITHOUT ROWID`` table keyed (symbol, seq).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from candlebot.errors import ConfigError
from candlebot.collector.instruments import Instrument
from candlebot.collector.records import Record
from candlebot.collector.storage.base import Batcher, Reader
from candlebot.collector.storage.schema import SCHEMA_VERSION, ddl

T = TypeVar("T")


def _connect(path: str) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise ConfigError(f"--db sqlite:///{path}: {exc}") from None
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def create_schema(connection: sqlite3.Connection, execute: str = "execute") -> None:
    found = connection.execute("SELECT name FROM sqlite_master WHERE name = 'meta'").fetchone()
    if found:
        version = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version is None or int(version[0]) != SCHEMA_VERSION:
            raise ConfigError(f"database has collector schema {version and version[0]}, this version writes {SCHEMA_VERSION}")
        return
    connection.execute("BEGIN")
    for statement in ddl("sqlite"):
        connection.execute(statement)
    connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    connection.execute("COMMIT")


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collector-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._batcher = Batcher()
        self._lock: int | None = None

    def __repr__(self) -> str:
        return f"SqliteStore({self.path})"

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def open(self, instruments: Sequence[Instrument]) -> dict[str, int | None]:
        return await self._run(self._open, list(instruments))

    def _open(self, instruments: list[Instrument]) -> dict[str, int | None]:
        if Path(self.path).parent and not Path(self.path).parent.exists():
            raise ConfigError(f"--db sqlite:///{self.path}: folder {Path(self.path).parent} does not exist"
                              + _absolute_hint(self.path, Path("/", self.path).parent.is_dir()))
        self._lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        connection = self._connection = _connect(self.path)
        create_schema(connection)
        last: dict[str, int | None] = {}
        reader = Reader(connection, "?")
        for item in instruments:
            connection.execute("INSERT OR IGNORE INTO symbols (pair, symbol, price_decimals, qty_decimals) VALUES (?, ?, ?, ?)",
                               (item.pair, item.symbol, item.price_decimals, item.qty_decimals))
            symbol_id = connection.execute("SELECT id FROM symbols WHERE pair = ? AND price_decimals = ? AND qty_decimals = ?",
                                           (item.pair, item.price_decimals, item.qty_decimals)).fetchone()[0]
            _lock_symbol(self._lock, self.path, item.pair, symbol_id)
            seq = connection.execute("SELECT max(seq) FROM book_rows WHERE symbol_id = ?", (symbol_id,)).fetchone()[0]
            self._batcher.ids[item.pair] = symbol_id
            self._batcher.seqs[item.pair] = 0 if seq is None else seq + 1
            last[item.pair] = reader.last_time(symbol_id)
        return last

    async def write(self, batch: Sequence[Record]) -> int:
        return await self._run(self._write, batch)

    def _write(self, batch: Sequence[Record]) -> int:
        rows, snapshots, gaps = self._batcher.rows(batch)
        connection = self._connection
        assert connection is not None
        connection.execute("BEGIN")
        try:
            connection.executemany("INSERT INTO book_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if snapshots:
                connection.executemany("INSERT INTO snapshots VALUES (?, ?, ?, ?)", snapshots)
            if gaps:
                connection.executemany("INSERT INTO gaps VALUES (?, ?, ?, ?)", gaps)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return len(rows)

    async def close(self) -> None:
        if self._connection is not None:
            await self._run(self._connection.close)
            self._connection = None
        self._pool.shutdown(wait=True)
        if self._lock is not None:
            os.close(self._lock)  # releases the pairs' locks
            self._lock = None


def sqlite_reader(path: str) -> Reader:
    if not Path(path).exists():
        raise ConfigError(f"--db sqlite:///{path}: no such file" + _absolute_hint(path, Path("/", path).exists()))
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    reader = Reader(connection, "?")
    try:
        reader.check_version()
    except sqlite3.DatabaseError:
        connection.close()
        raise ConfigError(f"--db sqlite:///{path}: not a collector database") from None
    except ConfigError:
        connection.close()
        raise
    return reader


def _lock_symbol(descriptor: int, path: str, pair: str, symbol_id: int) -> None:
    """Two writers of one pair would collide on (symbol, seq): each pair's writer holds byte ``symbol_id`` of
    ``PATH.lock`` (a POSIX lock, released by the kernel when its process dies, even by ``kill -9``). A separate
    file, because closing any descriptor of the database itself would drop SQLite's own locks."""
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, symbol_id)
    except OSError:
        raise ConfigError(f"--db sqlite:///{path}: {pair} is being written by another collector "
                          "(one writer per pair and file)") from None


def _absolute_hint(path: str, meant_absolute: bool) -> str:
    """``sqlite:///tmp/x`` names the relative path tmp/x; when /tmp/x is what exists, say how to write it."""
    if Path(path).is_absolute() or not meant_absolute:
        return ""
    return f" (relative to {Path.cwd()}; for /{path} write sqlite:////{path})"
