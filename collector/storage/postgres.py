"""The PostgreSQL store (extra ``[postgres]``): psycopg 3's async connection, rows by COPY.

Each batch is one transaction: book rows through ``COPY ... FROM STDIN`` (text format, built in
one buffer), snapshots and gaps through ``executemany``. psycopg is the one PostgreSQL driver of
the project (the optimizer's optuna storage uses it too).

A lost connection (a server restart, a network cut) is ``StoreUnavailable``: the writer offers the
same batch again, and the store reconnects, takes its pairs' locks again and reads each pair's last
``seq``. A batch whose commit was cut off may have been committed: its first rows are then already
there and it is not written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from candlebot.errors import ConfigError
from candlebot.collector.instruments import Instrument
from candlebot.collector.records import Record
from candlebot.collector.storage.base import Batcher, BookRow, GapRow, Reader, SnapshotRow, StoreUnavailable
from candlebot.collector.storage.schema import SCHEMA_VERSION, ddl

_LOCK_KEY = 0x636F6C6C  # advisory lock: two collectors creating the schema at once
CONNECT_TIMEOUT_S = 3  # a reconnect attempt never hangs the writer longer


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError("--db postgresql:// needs the [postgres] extra: pip install 'candlebot[postgres]'") from None
    return psycopg


def _text(value: int | None) -> str:
    return "\\N" if value is None else str(value)


@dataclass(frozen=True)
class _Prepared:
    """One batch as table rows, its seqs taken: written as it is however many times the connection fails."""

    batch: Sequence[Record]
    rows: list[BookRow]
    snapshots: list[SnapshotRow]
    gaps: list[GapRow]


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None
        self._batcher = Batcher()
        self._instruments: tuple[Instrument, ...] = ()
        self._unsent: _Prepared | None = None  # the batch a lost connection left unwritten (or not known written)

    def __repr__(self) -> str:
        return "PostgresStore(...)"  # the URL may carry a password

    async def open(self, instruments: Sequence[Instrument]) -> dict[str, int | None]:
        psycopg = _driver()
        self._instruments = tuple(instruments)
        try:
            connection = self._connection = await psycopg.AsyncConnection.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"--db: cannot connect to PostgreSQL ({first})") from None
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            exists = await (await connection.execute("SELECT to_regclass('meta')")).fetchone()
            if exists[0] is None:
                for statement in ddl("postgresql"):
                    await connection.execute(statement)
                await connection.execute("INSERT INTO meta VALUES ('schema_version', %s)", (str(SCHEMA_VERSION),))
            else:
                version = await (await connection.execute("SELECT value FROM meta WHERE key = 'schema_version'")).fetchone()
                if version is None or int(version[0]) != SCHEMA_VERSION:
                    raise ConfigError(f"database has collector schema {version and version[0]}, this version writes {SCHEMA_VERSION}")
            last: dict[str, int | None] = {}
            for item in instruments:
                await connection.execute(
                    "INSERT INTO symbols (pair, symbol, price_decimals, qty_decimals) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT DO NOTHING", (item.pair, item.symbol, item.price_decimals, item.qty_decimals))
                row = await (await connection.execute(
                    "SELECT id FROM symbols WHERE pair = %s AND price_decimals = %s AND qty_decimals = %s",
                    (item.pair, item.price_decimals, item.qty_decimals))).fetchone()
                self._batcher.ids[item.pair] = row[0]
                seq, ts = await self._claim(connection, item.pair, row[0])
                if ts is not None:  # a stop while unsynced stored its gap up to the stop: the next gap starts there
                    ended = (await (await connection.execute(
                        "SELECT max(end_local) FROM gaps WHERE symbol_id = %s", (row[0],))).fetchone())[0]
                    ts = max(ts, ended or ts)
                self._batcher.seqs[item.pair] = 0 if seq is None else seq + 1
                last[item.pair] = ts
        return last

    async def _claim(self, connection: Any, pair: str, symbol_id: int) -> tuple[int | None, int | None]:
        """Take the pair's writer lock (held by this session: a new session takes it again) and read its last row."""
        locked = await (await connection.execute("SELECT pg_try_advisory_lock(%s, %s)", (_LOCK_KEY, symbol_id))).fetchone()
        if not locked[0]:  # two writers of one pair would collide on (symbol, seq)
            raise ConfigError(f"--db: {pair} is being written by another collector (one writer per pair and database)")
        return await (await connection.execute(
            "SELECT seq, ts_local FROM book_rows WHERE symbol_id = %s ORDER BY seq DESC LIMIT 1",
            (symbol_id,))).fetchone() or (None, None)

    async def write(self, batch: Sequence[Record]) -> int:
        psycopg = _driver()
        unsent = self._unsent
        prepared = unsent if unsent is not None and unsent.batch is batch else _Prepared(batch, *self._batcher.rows(batch))
        self._unsent = prepared
        try:
            if self._connection is None:
                if await self._reconnect(prepared):
                    self._unsent = None
                    return len(prepared.rows)  # its commit went through before the connection was lost
            await self._write(prepared)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            await self._drop_connection()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailable(f"PostgreSQL: {first}") from None
        except ConfigError as exc:  # another collector took a pair while this one was away: wait, never write twice
            await self._drop_connection()
            raise StoreUnavailable(str(exc)) from None
        self._unsent = None
        return len(prepared.rows)

    async def _write(self, prepared: _Prepared) -> None:
        connection = self._connection
        text = "".join([f"{a}\t{b}\t{_text(c)}\t{d}\t{e}\t{f}\t{g}\t{h}\n" for a, b, c, d, e, f, g, h in prepared.rows])
        async with connection.transaction():
            async with connection.cursor() as cursor:
                if text:
                    async with cursor.copy("COPY book_rows (symbol_id, seq, ts_exchange, ts_local, is_snapshot, side, "
                                           "price, qty) FROM STDIN") as copy:
                        await copy.write(text)
                if prepared.snapshots:
                    await cursor.executemany("INSERT INTO snapshots VALUES (%s, %s, %s, %s)", prepared.snapshots)
                if prepared.gaps:
                    await cursor.executemany("INSERT INTO gaps VALUES (%s, %s, %s, %s)", prepared.gaps)

    async def _reconnect(self, prepared: _Prepared) -> bool:
        """A new session holding every pair's lock again; True when ``prepared`` turns out to be committed already."""
        psycopg = _driver()
        connection = self._connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True,
                                                                             connect_timeout=CONNECT_TIMEOUT_S)
        stored: dict[int, int | None] = {}
        for item in self._instruments:
            symbol_id = self._batcher.ids[item.pair]
            stored[symbol_id] = (await self._claim(connection, item.pair, symbol_id))[0]
        if prepared.rows:
            symbol_id, seq = prepared.rows[0][0], prepared.rows[0][1]
            last = stored.get(symbol_id)
            return last is not None and last >= seq
        for gap in prepared.gaps:  # a batch of gaps only: its first gap is there or the batch is not
            found = await (await connection.execute(
                "SELECT 1 FROM gaps WHERE symbol_id = %s AND start_local = %s AND end_local = %s AND reason = %s",
                gap)).fetchone()
            return found is not None
        return False

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # noqa: BLE001 - closing a connection that is already gone
                pass

    async def close(self) -> None:
        await self._drop_connection()


def postgres_reader(url: str) -> Reader:
    psycopg = _driver()
    try:
        connection = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"--db: cannot connect to PostgreSQL ({first})") from None
    reader = Reader(connection, "%s", lambda: connection.cursor(name="collector_rows", withhold=True))
    try:
        reader.check_version()
    except psycopg.errors.UndefinedTable:
        raise ConfigError("the database holds no collector schema") from None
    return reader
