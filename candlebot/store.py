"""A bot's memory across restarts: one SQLite database (WAL) per bot.

Order intents are written before the order is sent; a fill is booked in one
transaction with the trade it opens or closes and the cash it leaves. A crash
at any point therefore leaves either a booked fill or an intent without an
outcome, which the next start looks up on the exchange by its userref
(``candlebot.recovery``). Amounts are stored as decimal strings.

Durability: ``synchronous=NORMAL`` survives a killed process (the crash tests
kill -9 bots mid-order); only a power cut can lose the newest transactions.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Callable

from candlebot.errors import ConfigError, ExchangeError
from candlebot.exchange import Fill, OrderRequest, Side
from candlebot.trade import BotTrade
from candlebot.trader import PendingIntent

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    userref   INTEGER PRIMARY KEY,
    pair      TEXT NOT NULL,
    side      TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    volume    TEXT NOT NULL,
    trade_id  INTEGER,               -- the trade a sell closes
    status    TEXT NOT NULL CHECK (status IN ('intent', 'filled', 'failed')),
    created   REAL NOT NULL,
    order_id  TEXT, fill_time REAL, price TEXT, fill_volume TEXT, cost TEXT, fee TEXT,
    error     TEXT
);
CREATE TABLE IF NOT EXISTS trades (
    trade_id    INTEGER PRIMARY KEY,
    open_ref    INTEGER NOT NULL REFERENCES orders (userref),
    close_ref   INTEGER REFERENCES orders (userref),
    -- this trade's share of the open order's fill after partial sells split it; NULL: the whole fill
    open_volume TEXT, open_cost TEXT, open_fee TEXT
);
"""
SPLIT_COLUMNS = ("open_volume", "open_cost", "open_fee")


@dataclass(frozen=True)
class StoredBooks:
    trades: list[BotTrade]
    cash: Decimal
    pending: list[PendingIntent]


class BotStore:
    """The journal the trader writes to (``OrderJournal``) and the books a restart reloads."""

    def __init__(self, path: str | Path, *, now: Callable[[], float]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(trades)")}
            for column in SPLIT_COLUMNS:  # a state file written before partial sells were split
                if column not in columns:
                    self._db.execute(f"ALTER TABLE trades ADD COLUMN {column} TEXT")
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the bot's state database {self.path}: {exc}") from None
        self._now = now

    def close(self) -> None:
        self._db.close()

    # -- identity of the books ---------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def bind(self, *, pair: str, start_cash: Decimal) -> Decimal:
        """First start: record pair and cash. Later starts: refuse another pair; return the cash to trade with."""
        stored_pair = self.meta("pair")
        if stored_pair is None:
            with self._tx():
                self.set_meta("pair", pair)
                self.set_meta("start_cash", str(start_cash))
                self.set_meta("cash", str(start_cash))
            return start_cash
        if stored_pair != pair:
            raise ConfigError(f"{self.path} holds the books of a {stored_pair} bot, not {pair}; use another --name or --state-dir")
        return Decimal(self.meta("cash") or "0")

    # -- OrderJournal ------------------------------------------------------------------

    def intent(self, order: OrderRequest, trade_id: int | None) -> None:
        self._db.execute(
            "INSERT INTO orders (userref, pair, side, volume, trade_id, status, created) VALUES (?, ?, ?, ?, ?, 'intent', ?)",
            (order.userref, order.pair, order.side.value, str(order.volume), trade_id, self._now()),
        )

    def filled(self, order: OrderRequest, fill: Fill, trade: BotTrade, cash: Decimal,
               remainder: BotTrade | None = None) -> None:
        """Book a fill with its trade and the cash in one transaction; a partial sell also records the split:
        the closed part's share of the open fill and a new trade row for the open remainder."""
        with self._tx():
            self._db.execute(
                "UPDATE orders SET status = 'filled', order_id = ?, fill_time = ?, price = ?, fill_volume = ?, cost = ?, fee = ? "
                "WHERE userref = ?",
                (fill.order_id, fill.time, str(fill.price), str(fill.volume), str(fill.cost), str(fill.fee), order.userref),
            )
            if fill.side is Side.BUY:
                self._db.execute("INSERT INTO trades (trade_id, open_ref) VALUES (?, ?)", (trade.trade_id, order.userref))
            else:
                self._db.execute("UPDATE trades SET close_ref = ? WHERE trade_id = ?", (order.userref, trade.trade_id))
                if remainder is not None:
                    self._db.execute("UPDATE trades SET open_volume = ?, open_cost = ?, open_fee = ? WHERE trade_id = ?",
                                     (*_share(trade.open_fill), trade.trade_id))
                    self._db.execute(
                        "INSERT INTO trades (trade_id, open_ref, open_volume, open_cost, open_fee) VALUES (?, ?, ?, ?, ?)",
                        (remainder.trade_id, remainder.open_fill.userref, *_share(remainder.open_fill)))
            self.set_meta("cash", str(cash))

    def failed(self, order: OrderRequest, error: ExchangeError) -> None:
        self._db.execute("UPDATE orders SET status = 'failed', error = ? WHERE userref = ?", (f"{type(error).__name__}: {error}", order.userref))

    # -- reload --------------------------------------------------------------------------

    def load(self) -> StoredBooks:
        fills = {row[0]: _fill(row) for row in self._db.execute(
            "SELECT userref, pair, side, order_id, fill_time, price, fill_volume, cost, fee FROM orders WHERE status = 'filled'")}
        trades = []
        for trade_id, open_ref, close_ref, volume, cost, fee in self._db.execute(
                "SELECT trade_id, open_ref, close_ref, open_volume, open_cost, open_fee FROM trades ORDER BY trade_id"):
            opened = fills[open_ref]
            if volume is not None:
                opened = replace(opened, volume=Decimal(volume), cost=Decimal(cost), fee=Decimal(fee))
            trades.append(BotTrade(trade_id, opened, fills[close_ref] if close_ref is not None else None))
        pending = [
            PendingIntent(OrderRequest(pair, Side(side), Decimal(volume), userref), trade_id, created)
            for userref, pair, side, volume, trade_id, created in self._db.execute(
                "SELECT userref, pair, side, volume, trade_id, created FROM orders WHERE status = 'intent' ORDER BY userref")
        ]
        return StoredBooks(trades, Decimal(self.meta("cash") or "0"), pending)

    def orders(self) -> list[dict[str, object]]:
        """Every order row, for reports and tests."""
        cursor = self._db.execute("SELECT * FROM orders ORDER BY created, userref")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def _tx(self) -> "_Transaction":
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def _share(fill: Fill) -> tuple[str, str, str]:
    return str(fill.volume), str(fill.cost), str(fill.fee)


def _fill(row: tuple) -> Fill:
    userref, pair, side, order_id, fill_time, price, volume, cost, fee = row
    return Fill(order_id, userref, pair, Side(side), fill_time, Decimal(price), Decimal(volume), Decimal(cost), Decimal(fee))
