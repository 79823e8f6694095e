"""Extending a download backwards: an earlier ``--since`` on a folder that already holds trades (freqtrade's
``--prepend``).

The older trades are downloaded like any download, into ``<dir>/prepend/``, up to the stored download's
``since`` (so resumable, and a trade at exactly that time is neither lost nor doubled). Then they are spliced in
front of the stored trades: the joined file is written beside ``trades.csv`` and flushed, the state naming its
size and the new ``since`` replaces ``download.json``, and only then the joined file replaces ``trades.csv``.
A run that dies in between is finished or undone by the next one (``recover``): no trade is ever lost or doubled.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import replace
from typing import BinaryIO, Callable

from candlebot.data.download.trades import PairDownload, PublicCall, download_trades
from candlebot.data.download.tradestore import HEADER, DownloadState, TradeStore

STAGING = "prepend"
JOINED = ".trades.csv.joined"


def prepend_history(public: PublicCall, pair: str, store: TradeStore, *, since: float, pace: float | Callable[[], float],
                    stop: threading.Event, progress: Callable[[DownloadState], None]) -> PairDownload | None:
    """Download the trades from ``since`` up to the stored ones and splice them in; None when there is nothing
    before the stored download to fetch (a new folder, or ``since`` not earlier)."""
    recover(store)
    state = store.load()
    if state is None or not state.trades or since >= state.since:
        return None
    staging = TradeStore(store.directory / STAGING)
    fetch = download_trades(public, pair, staging, since=since, until=state.since, pace=pace, stop=stop,
                            progress=progress)
    if fetch.finish == "interrupted":
        return fetch
    _splice(store, state, staging, fetch.state)
    return fetch


def recover(store: TradeStore) -> None:
    """Finish a splice whose state was saved, drop one whose state was not, and forget a spliced staging folder."""
    joined = store.directory / JOINED
    state = store.load()
    if joined.exists():
        if state is not None and joined.stat().st_size == state.size:
            os.replace(joined, store.trades_path)
        else:
            joined.unlink()
    staged = TradeStore(store.directory / STAGING).load()
    if staged is not None and state is not None and state.since <= staged.since:
        shutil.rmtree(store.directory / STAGING, ignore_errors=True)


def _splice(store: TradeStore, state: DownloadState, staging: TradeStore, older: DownloadState) -> None:
    joined = store.directory / JOINED
    with open(joined, "wb") as out:
        out.write(HEADER.encode("ascii"))
        _copy(staging.trades_path, out, older.size)
        _copy(store.trades_path, out, state.size)
        out.flush()
        os.fsync(out.fileno())
        size = out.tell()
    first = older.first if older.trades else state.first
    store.save(replace(state, since=older.since, size=size, trades=state.trades + older.trades, first=first))
    os.replace(joined, store.trades_path)
    shutil.rmtree(staging.directory, ignore_errors=True)


def _copy(path: os.PathLike[str], out: BinaryIO, size: int) -> None:
    """The recorded trades of a trades file (after its header, up to ``size`` bytes) onto ``out``."""
    with open(path, "rb") as handle:
        handle.seek(len(HEADER))
        remaining = size - len(HEADER)
        while remaining > 0:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                raise OSError(f"{path} is shorter than its download state records")
            out.write(block)
            remaining -= len(block)
