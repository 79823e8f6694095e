"""A bot's memory across restarts: one SQLite database (WAL) per bot.

Order intents are written before the order is sent; a fill is booked in one
transaction with the trade it opens or closes and the cash it leaves. A crash
at any point therefore leaves either a booked fill or an intent without an
outcome, which the next start looks up on the exchange by its userref
(``candlebot.live.recovery``). Amounts are stored as decimal strings.

Durability: ``synchronous=NORMAL`` survives a killed process (the crash tests
kill -9 bots mid-order); only a power cut can lose the newest transactions.

Trust: the file is versioned and checked before use (``candlebot.live.statefile``
for integrity and schema, ``candlebot.live.bookcheck`` for the values in it); a
write that fails while running raises ``StateWriteError``, which stops the bot.
To change the schema: edit ``SCHEMA``, bump ``SCHEMA_VERSION`` and add the
migration from the previous version to ``MIGRATIONS``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Callable, Mapping, Sequence

from candlebot.live.bookcheck import check_books
from candlebot.errors import ConfigError, ExchangeError, StateFileError, StateWriteError
from candlebot.venue import Fill, OrderRequest, Side
from candlebot.live.statefile import FIX_HINT, Schema, one_snapshot, open_state, probe_write
from candlebot.trade import BotTrade
from candlebot.trading.trader import PendingIntent

# What ``candlebot report`` and ``candlebot status`` read, written off the trading thread (``candlebot.live.diary``):
# one row per candle (the last may still be forming), one per skipped/refused/rejected order or bot event (both bounded), and a status key/value.
DIARY_SCHEMA = """
CREATE TABLE IF NOT EXISTS candles (
    time INTEGER PRIMARY KEY, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
    volume REAL NOT NULL,
    lines TEXT                        -- the strategy's indicator values at this candle, JSON
);
CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY,
    time    REAL NOT NULL,
    kind    TEXT NOT NULL,            -- skipped, failed, unfilled, rejected, error, audit, dust, started, stopped
    side    TEXT,
    userref INTEGER,
    detail  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

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
    error     TEXT,
    limit_price TEXT,                 -- the protection price the order was sent with
    reason    TEXT                    -- why a sell was sent: signal, stop_loss (NULL: signal, or a buy)
);
CREATE TABLE IF NOT EXISTS trades (
    trade_id    INTEGER PRIMARY KEY,
    open_ref    INTEGER NOT NULL REFERENCES orders (userref),
    close_ref   INTEGER REFERENCES orders (userref),
    -- this trade's share of the open order's fill after partial sells split it; NULL: the whole fill
    open_volume TEXT, open_cost TEXT, open_fee TEXT,
    written_off REAL                  -- when a person took it off the books (candlebot-ledger --write-off)
);
""" + DIARY_SCHEMA
SCHEMA_VERSION = 4
MIGRATIONS: dict[int, str] = {  # version n -> the SQL that turns a version-n file into version n + 1
    1: "ALTER TABLE trades ADD COLUMN open_volume TEXT; ALTER TABLE trades ADD COLUMN open_cost TEXT; "
       "ALTER TABLE trades ADD COLUMN open_fee TEXT;",  # partial sells split a trade (its share of the open fill)
    2: "ALTER TABLE orders ADD COLUMN limit_price TEXT;" + DIARY_SCHEMA,  # what reports and status read
    3: "ALTER TABLE trades ADD COLUMN written_off REAL;\n"  # coins gone from the account, taken off the books by hand
       "ALTER TABLE orders ADD COLUMN reason TEXT;",  # stop-loss exits are reported as such (earlier sells: signal)
}
STATE_SCHEMA = Schema(SCHEMA_VERSION, SCHEMA, MIGRATIONS)
IDENTITY_KEYS = ("bot_name", "bot_id", "account")  # meta keys: whose books these are
PAPER_ACCOUNT = "paper"  # paper and validate books hold no coins of any account
CandleRow = tuple[int, float, float, float, float, float, str | None]  # time, open, high, low, close, volume, lines JSON
EventRow = tuple[float, str, str | None, int | None, str]  # time, kind, side, userref, detail


@dataclass(frozen=True)
class StoredBooks:
    trades: list[BotTrade]
    cash: Decimal
    pending: list[PendingIntent]
    stop_loss_ids: frozenset[int] = frozenset()  # trades closed by a stop-loss sell (exit reasons in reports)


class BotStore:
    """The journal the trader writes to (``OrderJournal``) and the books a restart reloads."""

    def __init__(self, path: str | Path, *, now: Callable[[], float], create: bool = True, writable: bool = True,
                 lock_timeout: float = 5.0) -> None:
        """Open (or, with ``create``, make) the bot's state file; ``StateFileError`` when it cannot be trusted
        (or, with ``writable``, written). ``lock_timeout``: how long a write waits for another process's lock."""
        self.path = Path(path)
        self._db = open_state(self.path, STATE_SCHEMA, create=create, lock_timeout=lock_timeout)
        try:
            problems = check_books(self._db)
        except sqlite3.Error as exc:
            problems = [f"unreadable ({exc})"]
        if problems:
            self._db.close()
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise StateFileError(f"state file {self.path} holds impossible books: {problems[0]}{more}; {FIX_HINT}")
        if writable:
            try:
                probe_write(self._db, self.path)
            except StateFileError:
                self._db.close()
                raise
        self._now = now

    def close(self) -> None:
        self._db.close()

    @property
    def changes(self) -> int:
        """Rows written since the file was opened: an audit compares nothing that changed while it read the account."""
        return self._db.total_changes

    # -- identity of the books ---------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._tx():
            self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def delete_meta(self, key: str) -> None:
        with self._tx():
            self._db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def claim(self, *, name: str, bot_id: str, account: str) -> None:
        """First start: record whose books these are. Later starts: refuse the books of another bot (a copied or
        renamed file) or of another account (``account``: ``paper``, or ``kraken:<key fingerprint>`` when live)."""
        stored = {key: self.meta(key) for key in IDENTITY_KEYS}
        wanted = {"bot_name": name, "bot_id": bot_id, "account": account}
        if stored["bot_name"] is None:
            with self._tx():
                for key, value in wanted.items():
                    self.set_meta(key, value)
            return
        if (stored["bot_name"], stored["bot_id"]) != (name, bot_id):
            raise StateFileError(f"state file {self.path} holds the books of bot {stored['bot_name']!r} "
                                 f"(id {stored['bot_id']}), not {name!r} (id {bot_id}): a copied or renamed file is "
                                 f"not used; move it back, or away to start new books")
        if stored["account"] != account:
            raise StateFileError(f"state file {self.path} holds books kept {_account_text(stored['account'])}, and "
                                 f"this start is {_account_text(account)}: books never move between accounts; use "
                                 "another --name, or move the file away to start new books")

    def bind(self, *, pair: str, start_cash: Decimal, base: str | None = None) -> Decimal:
        """First start: record pair and cash. Later starts: refuse another pair; return the cash to trade with.
        Books that began with no cash and never placed an order take this start's cash instead (a bot started on an
        unfunded account, then funded: its books would otherwise keep 0 for good).
        ``base``: the pair's base asset, which other bots on the key read for the fleet-wide audit."""
        stored_pair = self.meta("pair")
        if stored_pair is None:
            with self._tx():
                self.set_meta("pair", pair)
                self.set_meta("start_cash", str(start_cash))
                self.set_meta("cash", str(start_cash))
                if base is not None:
                    self.set_meta("base", base)
            return start_cash
        if stored_pair != pair:
            raise ConfigError(f"{self.path} holds the books of a {stored_pair} bot, not {pair}; use another --name or --state-dir")
        if base is not None and self.meta("base") != base:
            self.set_meta("base", base)
        cash = Decimal(self.meta("cash") or "0")
        if cash == 0 and start_cash > 0 and Decimal(self.meta("start_cash") or "0") == 0 and self._never_ordered():
            with self._tx():
                self.set_meta("start_cash", str(start_cash))
                self.set_meta("cash", str(start_cash))
            return start_cash
        return cash

    def _never_ordered(self) -> bool:
        return self._db.execute("SELECT NOT EXISTS (SELECT 1 FROM orders) AND NOT EXISTS (SELECT 1 FROM trades)").fetchone()[0] == 1

    def write_off(self, trade_id: int) -> BotTrade:
        """Take open trade ``trade_id`` off the books (its coins left the account outside the bot): the bot no
        longer holds or sells it; its cost stays spent. Refused for a trade that is closed or unknown."""
        books = self.load()
        trade = next((t for t in books.trades if t.trade_id == trade_id), None)
        if trade is None:
            raise ConfigError(f"trade {trade_id} is not in the books of {self.path.name} (see candlebot-ledger --name BOT)")
        if not trade.is_open:
            raise ConfigError(f"trade {trade_id} is closed: only an open trade can be written off")
        with self._tx():
            self._db.execute("UPDATE trades SET written_off = ? WHERE trade_id = ?", (self._now(), trade_id))
        return trade

    # -- OrderJournal ------------------------------------------------------------------

    def intent(self, order: OrderRequest, trade_id: int | None, reason: str | None = None) -> None:
        with self._tx():
            self._db.execute(
                "INSERT INTO orders (userref, pair, side, volume, trade_id, status, created, limit_price, reason) "
                "VALUES (?, ?, ?, ?, ?, 'intent', ?, ?, ?)",
                (order.userref, order.pair, order.side.value, str(order.volume), trade_id, self._now(),
                 None if order.limit is None else str(order.limit), reason),
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
        with self._tx():
            self._db.execute("UPDATE orders SET status = 'failed', error = ? WHERE userref = ?", (f"{type(error).__name__}: {error}", order.userref))

    # -- reload --------------------------------------------------------------------------

    def load(self) -> StoredBooks:
        with one_snapshot(self._db):  # a reader beside the running bot sees its books whole
            return self._load()

    def _load(self) -> StoredBooks:
        fills = {row[0]: _fill(row) for row in self._db.execute(
            "SELECT userref, pair, side, order_id, fill_time, price, fill_volume, cost, fee FROM orders WHERE status = 'filled'")}
        trades = []
        for trade_id, open_ref, close_ref, volume, cost, fee in self._db.execute(
                "SELECT trade_id, open_ref, close_ref, open_volume, open_cost, open_fee FROM trades "
                "WHERE written_off IS NULL ORDER BY trade_id"):
            opened = fills[open_ref]
            if volume is not None:
                opened = replace(opened, volume=Decimal(volume), cost=Decimal(cost), fee=Decimal(fee))
            trades.append(BotTrade(trade_id, opened, fills[close_ref] if close_ref is not None else None))
        pending = [
            PendingIntent(OrderRequest(pair, Side(side), Decimal(volume), userref), trade_id, created, reason)
            for userref, pair, side, volume, trade_id, created, reason in self._db.execute(
                "SELECT userref, pair, side, volume, trade_id, created, reason FROM orders WHERE status = 'intent' "
                "ORDER BY userref")
        ]
        stop_loss = frozenset(trade_id for (trade_id,) in self._db.execute(
            "SELECT trades.trade_id FROM trades JOIN orders ON orders.userref = trades.close_ref "
            "WHERE orders.reason = 'stop_loss'"))
        return StoredBooks(trades, Decimal(self.meta("cash") or "0"), pending, stop_loss)

    def orders(self) -> list[dict[str, object]]:
        """Every order row, for reports and tests."""
        cursor = self._db.execute("SELECT * FROM orders ORDER BY created, userref")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    # -- diary: what reports and status read (written by ``candlebot.live.diary`` on its own connection) -----------

    def record(self, *, candles: Sequence[CandleRow], events: Sequence[EventRow], status: Mapping[str, str],
               candles_since: float | None = None, max_events: int | None = None) -> None:
        """One transaction per batch; rows older than ``candles_since`` and all but the newest ``max_events``
        events are dropped so the file stays bounded."""
        with self._tx():
            self._db.executemany("INSERT OR REPLACE INTO candles (time, open, high, low, close, volume, lines) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", candles)
            self._db.executemany("INSERT INTO events (time, kind, side, userref, detail) VALUES (?, ?, ?, ?, ?)", events)
            self._db.executemany("INSERT INTO status (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                 list(status.items()))
            if candles and candles_since is not None:
                self._db.execute("DELETE FROM candles WHERE time < ?", (candles_since,))
            if events and max_events is not None:
                self._db.execute("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?", (max_events,))

    def candles(self) -> list[CandleRow]:
        return self._db.execute("SELECT time, open, high, low, close, volume, lines FROM candles ORDER BY time").fetchall()

    def events(self) -> list[EventRow]:
        return self._db.execute("SELECT time, kind, side, userref, detail FROM events ORDER BY id").fetchall()

    def status(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM status"))

    def _tx(self) -> "_Transaction":
        return _Transaction(self._db, self.path)


class _Transaction:
    """One write transaction (nested ones join the outer); any SQLite failure becomes ``StateWriteError``."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self.outer = False

    def __enter__(self) -> None:
        self.outer = not self.db.in_transaction
        if self.outer:
            self._run("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        if not self.outer:
            if isinstance(error, sqlite3.Error):
                raise StateWriteError(f"cannot write state file {self.path}: {error}") from error
            return
        if kind is None:
            self._run("COMMIT")
            return
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the failure that brought us here is the one to report
        if isinstance(error, sqlite3.Error):
            raise StateWriteError(f"cannot write state file {self.path}: {error}") from error

    def _run(self, statement: str) -> None:
        try:
            self.db.execute(statement)
        except sqlite3.Error as exc:
            if statement == "COMMIT" and self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise StateWriteError(f"cannot write state file {self.path}: {exc}") from exc


def kraken_account(key_id: str) -> str:
    """A live bot's account as its state file records it: a fingerprint of the API key, never the key."""
    return f"kraken:{key_id}"


def _account_text(account: str | None) -> str:
    return "on paper" if account == PAPER_ACCOUNT else f"with API key fingerprint {(account or '?').partition(':')[2]}"


def _share(fill: Fill) -> tuple[str, str, str]:
    return str(fill.volume), str(fill.cost), str(fill.fee)


def _fill(row: tuple) -> Fill:
    userref, pair, side, order_id, fill_time, price, volume, cost, fee = row
    return Fill(order_id, userref, pair, Side(side), fill_time, Decimal(price), Decimal(volume), Decimal(cost), Decimal(fee))
