"""The fleet on one API key: every bot's books in the shared state dir, read without writing; and the fleet's hold.

Bots on one key share a state dir (the nonce file lives there), so their state files lie side by side in
``<state_dir>/bots``; each records the fingerprint of its key (``candlebot.live.store``). An audit adds the
other bots' coins to its own books: one bot's books can no longer hide another's shortage (issue 17).

Reading another bot's file while it trades: a read-only connection in one read transaction sees one
committed state (SQLite WAL). A sell is journaled as an intent before it is sent, so the coins it may
already have taken from the account are left out of what that bot needs (``Claim.required``); a file read
before and after the account read, keeping the smaller need, covers a sell sent in between.

A shortage found by any bot holds them all: a marker file ``<state_dir>/fleet/<key>-<asset>.hold`` that
every bot of the key looks for at each poll (one ``stat``-sized directory read). The audit that next sees
the account cover the books of that asset removes it, and every bot resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from candlebot.live.wholefile import UnreadableFile, read_json, write_json
from candlebot.money import ZERO

HOLD_SUFFIX = ".hold"


@dataclass(frozen=True)
class Claim:
    """What one bot's books hold of ``base``: open trades (dust included), less the sells it may have sent."""

    bot: str
    base: str
    held: Decimal
    selling: Decimal

    @property
    def required(self) -> Decimal:
        return max(self.held - self.selling, ZERO)


class FleetBooks:
    """The bots on ``account`` (a ``kraken:<fingerprint>``) in ``bots_dir``; ``own``: this bot's state file."""

    def __init__(self, bots_dir: Path, account: str, own: Path) -> None:
        self.bots_dir = bots_dir
        self.account = account
        self.own = own

    def seen(self) -> dict[str, SeenBooks]:
        """Every bot's books on ``account`` by file name, ``own`` included (a read shared by the fleet needs them)."""
        found = {}
        for path in sorted(self.bots_dir.glob("*.sqlite")):
            seen = read_books(path, self.account)
            if seen is not None:
                found[path.name] = seen
        return found


@dataclass(frozen=True)
class SeenBooks:
    """One bot's state file as an account read saw it: its claim (None: not bound to a pair yet) and a digest of
    its orders and trades, so that the bot can tell later that its books are still those the read saw."""

    claim: Claim | None
    digest: str


EMPTY_BOOKS = hashlib.sha256(b"[[], []]").hexdigest()  # the digest of books with no order: a new bot's


def read_books(path: Path, account: str) -> SeenBooks | None:
    """The books of the bot whose state file is ``path`` (one read snapshot), or None when it is not on ``account``."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0, isolation_level=None)
    try:
        db.execute("BEGIN")  # one snapshot of the file for every query below
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('account', 'base', 'bot_name')"))
        if meta.get("account") != account:
            return None
        digest = _digest(db)
        if not meta.get("base"):
            db.execute("COMMIT")
            return SeenBooks(None, digest)
        held = ZERO
        for volume, share in db.execute(
                "SELECT o.fill_volume, t.open_volume FROM trades t JOIN orders o ON o.userref = t.open_ref "
                "WHERE t.close_ref IS NULL AND t.written_off IS NULL"):
            held += Decimal(share if share is not None else volume)
        selling = sum((Decimal(v) for (v,) in db.execute(
            "SELECT volume FROM orders WHERE status = 'intent' AND side = 'sell'")), ZERO)
        db.execute("COMMIT")
        return SeenBooks(Claim(meta.get("bot_name") or path.stem, meta["base"], held, selling), digest)
    finally:
        db.close()


def _digest(db: sqlite3.Connection) -> str:
    """What an audit compares of a bot's books: its orders and its trades (hashed, in a stable order)."""
    orders = db.execute("SELECT userref, side, status, volume, fill_volume, fill_time FROM orders ORDER BY userref")
    rows = [list(orders)]
    rows.append(list(db.execute("SELECT trade_id, open_ref, close_ref, open_volume, written_off FROM trades "
                                "ORDER BY trade_id")))
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@dataclass(frozen=True)
class FleetHold:
    asset: str
    reason: str
    at: float  # Kraken's time of the account read that found the shortage


class HoldBoard:
    """The fleet's shortage holds for one key: files any bot of the key sets, reads and lifts."""

    def __init__(self, state_dir: Path, key_id: str) -> None:
        self.folder = state_dir / "fleet"
        self.prefix = f"{key_id}-"

    def _path(self, asset: str) -> Path:
        return self.folder / f"{self.prefix}{asset}{HOLD_SUFFIX}"

    def holds(self) -> list[FleetHold]:
        try:
            names = [n for n in os.listdir(self.folder) if n.startswith(self.prefix) and n.endswith(HOLD_SUFFIX)]
        except FileNotFoundError:
            return []
        found = []
        for name in sorted(names):
            hold = self._read(self.folder / name)
            if hold is not None:
                found.append(hold)
        return found

    def set(self, hold: FleetHold) -> None:
        """Written whole: a reader never sees half a hold."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(self._path(hold.asset), {"asset": hold.asset, "reason": hold.reason, "at": hold.at})

    def lift(self, asset: str, seen_at: float) -> FleetHold | None:
        """Remove the hold on ``asset`` unless it was set from a later account read than ``seen_at``."""
        path = self._path(asset)
        hold = self._read(path)
        if hold is None or hold.at > seen_at:
            return None
        try:
            path.unlink()
        except FileNotFoundError:
            return None
        return hold

    def _read(self, path: Path) -> FleetHold | None:
        try:
            data = read_json(path)
            return FleetHold(str(data["asset"]), str(data["reason"]), float(data["at"]))
        except FileNotFoundError:
            return None
        except (UnreadableFile, ValueError, KeyError, TypeError):  # unreadable: still a hold, never silently none
            return FleetHold(path.name[len(self.prefix):-len(HOLD_SUFFIX)], f"unreadable hold file {path}", 0.0)
