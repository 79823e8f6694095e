"""Where books are stored: SQLite (default, WAL) or PostgreSQL, one versioned schema (see ``schema``).

``open_store(url)`` gives the writer's store (async); ``open_reader(url)`` the read side (sync,
for the CLI and the research API).
"""

from __future__ import annotations

from candlebot.collector.storage.base import Reader, Store, parse_url


def open_store(url: str) -> Store:
    kind, target = parse_url(url)
    if kind == "sqlite":
        from candlebot.collector.storage.sqlite import SqliteStore

        return SqliteStore(target)
    from candlebot.collector.storage.postgres import PostgresStore

    return PostgresStore(target)


def open_reader(url: str) -> Reader:
    kind, target = parse_url(url)
    if kind == "sqlite":
        from candlebot.collector.storage.sqlite import sqlite_reader

        return sqlite_reader(target)
    from candlebot.collector.storage.postgres import postgres_reader

    return postgres_reader(target)


__all__ = ["open_store", "open_reader", "Store", "Reader"]
