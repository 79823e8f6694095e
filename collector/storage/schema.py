"""The collector's schema, version 1 (the README's "Order-book collector" section documents it).

    meta       (key, value)                 schema_version = 1
    symbols    (id, pair, symbol, price_decimals, qty_decimals)
               one row per pair and precision; stored integers are read with these decimals
    book_rows  (symbol_id, seq, ts_exchange, ts_local, is_snapshot, side, price, qty)
               one row per level: price = price x 10^price_decimals, qty likewise (0 deletes);
               side 1 ask, 0 bid; times in epoch microseconds (ts_exchange NULL when Kraken sent
               none); seq orders a symbol's rows; a snapshot's rows share is_snapshot = 1 and
               replace the book. Levels that fell out of the subscribed depth are stored as
               deletes, so replaying the rows needs no depth.
    snapshots  (symbol_id, seq, ts_local, reason)    where each snapshot starts: the index for seeking
    gaps       (symbol_id, start_local, end_local, reason)
               no verified book between start and end (resync, drop, disconnect, restart)
"""

from __future__ import annotations

SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS symbols (
    id {serial} PRIMARY KEY, pair TEXT NOT NULL, symbol TEXT NOT NULL,
    price_decimals INTEGER NOT NULL, qty_decimals INTEGER NOT NULL,
    UNIQUE (pair, price_decimals, qty_decimals));
CREATE TABLE IF NOT EXISTS book_rows (
    symbol_id INTEGER NOT NULL, seq BIGINT NOT NULL, ts_exchange BIGINT, ts_local BIGINT NOT NULL,
    is_snapshot SMALLINT NOT NULL, side SMALLINT NOT NULL, price BIGINT NOT NULL, qty BIGINT NOT NULL,
    PRIMARY KEY (symbol_id, seq)){without_rowid};
CREATE TABLE IF NOT EXISTS snapshots (
    symbol_id INTEGER NOT NULL, seq BIGINT NOT NULL, ts_local BIGINT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (symbol_id, seq));
CREATE INDEX IF NOT EXISTS snapshots_time ON snapshots (symbol_id, ts_local);
CREATE TABLE IF NOT EXISTS gaps (
    symbol_id INTEGER NOT NULL, start_local BIGINT NOT NULL, end_local BIGINT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gaps_time ON gaps (symbol_id, start_local);
"""


def ddl(dialect: str) -> list[str]:
    text = _TABLES.format(serial="INTEGER" if dialect == "sqlite" else "SERIAL",
                          without_rowid=" WITHOUT ROWID" if dialect == "sqlite" else "")
    return [statement.strip() for statement in text.split(";") if statement.strip()]
