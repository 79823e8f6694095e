"""One pair's downloaded trades: ``<dir>/trades.csv`` and the cursor that continues it, ``<dir>/download.json``.

Crash-safe by ordering: a page is appended to ``trades.csv`` and flushed to disk first, then the state
(cursor, byte length of the trades file, counts) replaces ``download.json`` atomically (write, fsync,
rename). A restart truncates ``trades.csv`` to the length the state names, so a page appended by a run
that died before recording it is dropped, never doubled, and the download continues from the saved
cursor: no stored trade is fetched again.

A page that reaches ``--until`` is stored only up to it; the cursor then stays at the page's ``since``
and ``skip`` counts the trades of that page already stored, so a later run with a later ``--until``
continues exactly where this one stopped (Kraken's cursor of a trade inside a page is not known).
"""

from __future__ import annotations

import json
import os
from decimal import ROUND_CEILING, Decimal
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from candlebot.errors import ConfigError

TRADES = "trades.csv"
STATE = "download.json"
HEADER = "time,price,volume,side\n"


@dataclass(frozen=True)
class TradeRow:
    """One trade as Kraken sent it: price and volume keep Kraken's decimal strings."""

    time: float
    price: str
    volume: str
    side: str  # "buy" / "sell"

    def csv(self) -> str:
        return f"{self.time!r},{self.price},{self.volume},{self.side}\n"


@dataclass(frozen=True)
class DownloadState:
    """Where a pair's download stands. ``cursor`` is the ``since`` of the next Trades call (ns, a string)."""

    pair: str
    since: float  # unix seconds the download started from
    cursor: str
    skip: int = 0  # trades of the page at ``cursor`` already stored
    size: int = len(HEADER)  # bytes of trades.csv that hold recorded trades
    trades: int = 0
    first: float | None = None
    last: float | None = None
    caught_up: bool = False  # the last call returned a short page: nothing newer existed then


def first_cursor(since: float) -> str:
    """The Trades cursor that includes a trade at exactly ``since``: Kraken's ``since`` is exclusive, in ns. Through
    the shortest decimal of ``since`` (as Kraken prints times), never ``since * 1e9``: a float holds a nanosecond
    timestamp only to 256 ns, which can step over the trade."""
    return str(int(Decimal(repr(float(since))).scaleb(9).to_integral_value(ROUND_CEILING)) - 1)


class TradeStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.trades_path = directory / TRADES
        self.state_path = directory / STATE

    def load(self) -> DownloadState | None:
        try:
            raw = json.loads(self.state_path.read_text())
            return DownloadState(**raw)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"{self.state_path}: unreadable download state ({exc}); delete the folder to start over") from None

    def begin(self, pair: str, since: float) -> DownloadState:
        """The saved state (its trades file cut back to what it records), or a new download from ``since``."""
        state = self.load()
        if state is not None and not state.trades and since != state.since:
            state = None  # nothing stored yet: nothing ties the folder to its first --since
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if state is None:
                state = DownloadState(pair=pair, since=since, cursor=first_cursor(since))
                with open(self.trades_path, "w", encoding="ascii") as handle:
                    handle.write(HEADER)
                self._save(state)
                return state
            if since < state.since:  # ``prepend`` fetches the earlier trades first; anything else is a bug
                raise ConfigError(f"{self.directory} holds {pair} trades from unix time {state.since:.0f}; the trades "
                                  "before it were not prepended")
            size = self.trades_path.stat().st_size
            if size < state.size:
                raise ConfigError(f"{self.trades_path} is shorter than {self.state_path} records; "
                                  "delete the folder to start over")
            if size > state.size:  # a page written by a run that stopped before recording it
                os.truncate(self.trades_path, state.size)
        except FileNotFoundError:
            raise ConfigError(f"{self.trades_path} is missing but {self.state_path} exists; "
                              "delete the folder to start over") from None
        except OSError as exc:
            raise ConfigError(f"cannot write to {self.directory}: {exc.strerror or exc}") from None
        return state

    def remove_if_empty(self) -> None:
        """Forget a download that stored no trade (its folder too, when nothing else is in it)."""
        state = self.load()
        if state is None or state.trades:
            return
        for path in (self.state_path, self.trades_path):
            path.unlink(missing_ok=True)
        try:
            self.directory.rmdir()
        except OSError:
            pass  # something else lives there: keep it

    def append(self, state: DownloadState, rows: list[TradeRow], *, cursor: str, skip: int,
               caught_up: bool) -> DownloadState:
        """Store ``rows`` (may be empty) and move the cursor; durable when this returns."""
        if rows:
            with open(self.trades_path, "r+b") as handle:
                handle.seek(state.size)
                handle.write("".join(row.csv() for row in rows).encode("ascii"))
                handle.flush()
                os.fsync(handle.fileno())
                size = handle.tell()
        else:
            size = state.size
        state = replace(state, cursor=cursor, skip=skip, size=size, trades=state.trades + len(rows),
                        first=state.first if state.first is not None or not rows else rows[0].time,
                        last=rows[-1].time if rows else state.last, caught_up=caught_up)
        self._save(state)
        return state

    def save(self, state: DownloadState) -> None:
        """Replace the recorded state atomically (``prepend`` splices older trades in with it)."""
        self._save(state)

    def _save(self, state: DownloadState) -> None:
        staging = self.state_path.with_name(f".{STATE}.tmp")
        with open(staging, "w", encoding="utf-8") as handle:
            json.dump(asdict(state), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, self.state_path)
