"""The PostgreSQL store (extra ``[postgres]``): psycopg 3's async connection, rows by COPY.

Each batch is one transaction: book rows through ``COPY ... FROM STDIN`` (text format, built in
one buffer), snapshots and gaps through ``executemany``. psycopg is the one PostgreSQL driver of
the project (the optimizer's optuna storage uses it too).
"""

from __future__ import annotations

from typing import Any, Sequence

from candlebot.errors import ConfigError
from candlebot.collector.instruments import Instrument
from candlebot.collector.records import Record
from candlebot.collector.storage.base import Batcher, Reader
from candlebot.collector.storage.schema import SCHEMA_VERSION, ddl

_LOCK_KEY = 0x636F6C6C  # advisory lock: two collectors creating the schema at once


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError("--db postgresql:// needs the [postgres] extra: pip install 'candlebot[postgres]'") from None
    return psycopg


def _text(value: int | None) -> str:
    return "\\N" if value is None else str(value)


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None
        self._batcher = Batcher()

    def __repr__(self) -> str:
        return "PostgresStore(...)"  # the URL may carry a password

    async def open(self, instruments: Sequence[Instrument]) -> dict[str, int | None]:
        psycopg = _driver()
        try:
            connection = self._connection = await psycopg.AsyncConnection.connect(self.url)
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
                symbol_id = row[0]
                locked = await (await connection.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                                         (_LOCK_KEY, symbol_id))).fetchone()
                if not locked[0]:  # two writers of one pair would collide on (symbol, seq); held by this session
                    raise ConfigError(f"--db: {item.pair} is being written by another collector (one writer per pair "
                                      "and database)")
                seq, ts = await (await connection.execute(
                    "SELECT seq, ts_local FROM book_rows WHERE symbol_id = %s ORDER BY seq DESC LIMIT 1",
                    (symbol_id,))).fetchone() or (None, None)
                self._batcher.ids[item.pair] = symbol_id
                self._batcher.seqs[item.pair] = 0 if seq is None else seq + 1
                last[item.pair] = ts
        return last

    async def write(self, batch: Sequence[Record]) -> int:
        rows, snapshots, gaps = self._batcher.rows(batch)
        connection = self._connection
        text = "".join([f"{a}\t{b}\t{_text(c)}\t{d}\t{e}\t{f}\t{g}\t{h}\n" for a, b, c, d, e, f, g, h in rows])
        async with connection.transaction():
            async with connection.cursor() as cursor:
                if text:
                    async with cursor.copy("COPY book_rows (symbol_id, seq, ts_exchange, ts_local, is_snapshot, side, "
                                           "price, qty) FROM STDIN") as copy:
                        await copy.write(text)
                if snapshots:
                    await cursor.executemany("INSERT INTO snapshots VALUES (%s, %s, %s, %s)", snapshots)
                if gaps:
                    await cursor.executemany("INSERT INTO gaps VALUES (%s, %s, %s, %s)", gaps)
        return len(rows)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


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
