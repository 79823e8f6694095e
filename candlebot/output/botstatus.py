"""One line per bot in a state directory, read from the bots' own files while they run.

A bot's file is opened without writing (``BotStore(writable=False)``: SQLite
WAL readers take no write lock, so a running bot never waits for ``status``).
A file that cannot be read or trusted becomes a row that says why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from candlebot.live.audit import FLEET_HOLD_KEY, HOLD_KEY
from candlebot.errors import StateFileError
from candlebot.money import ZERO
from candlebot.live.store import BotStore
from candlebot.output.pnl import books_cost_decimals, net_pnl

READ_LOCK_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class BotStatus:
    """``unrealized``: open volume x mark - its cost (fees apart, as in the metrics); ``net_pnl``: the one net P/L of
    ``candlebot.output.pnl`` (closed trades' gross - every fee paid), as report and ledger show it."""

    name: str
    file: str
    mode: str | None = None
    pair: str | None = None
    strategy: str | None = None
    position: Decimal = ZERO
    mark: Decimal | None = None
    unrealized: Decimal | None = None
    net_pnl: Decimal = ZERO
    signal_exits: int = 0  # trades closed by the strategy's rule
    stop_loss_exits: int = 0  # trades closed by the stop loss (stop_loss_pct)
    fees: Decimal = ZERO
    heartbeat: float | None = None
    heartbeat_age_s: float | None = None
    failures: int = 0
    last_error: str | None = None
    last_error_time: float | None = None
    pending: int = 0
    hold: str | None = None
    stopped: str | None = None  # why it stopped, when it stopped cleanly
    supervisor: str | None = None
    problem: str | None = None  # the file could not be read


def bot_name(path: Path) -> str:
    """``<id>_<name>.sqlite`` -> name (``candlebot.identity``)."""
    stem = path.stem
    return stem.split("_", 1)[1] if "_" in stem else stem


def bot_files(state_dir: Path) -> list[Path]:
    return sorted((state_dir / "bots").glob("*.sqlite"), key=lambda p: bot_name(p))


def open_bot(path: Path) -> BotStore:
    """The bot's file for reading; ``StateFileError`` when it cannot be trusted."""
    return BotStore(path, now=time.time, create=False, writable=False, lock_timeout=READ_LOCK_TIMEOUT_S)


def read_status(path: Path, now: float) -> BotStatus:
    name = bot_name(path)
    try:
        store = open_bot(path)
    except StateFileError as exc:
        return BotStatus(name, str(path), problem=str(exc))
    try:
        return _summarize(store, name, path, now)
    except Exception as exc:  # noqa: BLE001 - one bad file is a row, never the end of the table
        return BotStatus(name, str(path), problem=f"unreadable: {type(exc).__name__}: {exc}")
    finally:
        store.close()


def fleet_status(state_dir: Path, now: float) -> list[BotStatus]:
    return [read_status(path, now) for path in bot_files(state_dir)]


def _summarize(store: BotStore, name: str, path: Path, now: float) -> BotStatus:
    books = store.load()
    status = store.status()
    open_trades = [t for t in books.trades if t.is_open]
    closed = [t for t in books.trades if not t.is_open]
    position = sum((t.volume for t in open_trades), ZERO)
    mark = _decimal(status.get("price"))
    if mark is None:
        candles = store.candles()
        mark = Decimal(repr(candles[-1][4])) if candles else None
    unrealized = None
    if mark is not None:
        unrealized = sum((t.volume * mark - t.open_fill.cost for t in open_trades), ZERO)
        if open_trades:
            unrealized = unrealized.quantize(Decimal(1).scaleb(open_trades[0].open_fill.cost.as_tuple().exponent))
    heartbeat = _float(status.get("heartbeat"))
    return BotStatus(
        name=name,
        file=str(path),
        mode=status.get("mode"),
        pair=status.get("pair") or store.meta("pair"),
        strategy=status.get("strategy"),
        position=position,
        mark=mark,
        unrealized=unrealized,
        net_pnl=net_pnl(books.trades, books_cost_decimals(status, books.trades)),
        signal_exits=sum(1 for t in closed if t.trade_id not in books.stop_loss_ids),
        stop_loss_exits=sum(1 for t in closed if t.trade_id in books.stop_loss_ids),
        fees=sum((t.fees for t in books.trades), ZERO),
        heartbeat=heartbeat,
        heartbeat_age_s=None if heartbeat is None else max(0.0, now - heartbeat),
        failures=int(status.get("failures") or 0),
        last_error=status.get("last_error"),
        last_error_time=_float(status.get("last_error_time")),
        pending=len(books.pending),
        hold="; ".join(h for h in (store.meta(FLEET_HOLD_KEY), store.meta(HOLD_KEY)) if h) or None,
        stopped=status.get("stop_reason") if status.get("stopped") else None,
    )


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


def _float(text: str | None) -> float | None:
    return float(text) if text else None
