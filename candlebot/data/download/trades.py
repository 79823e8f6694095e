"""Paging Kraken's public ``Trades`` endpoint into a ``TradeStore``.

Kraken returns up to 1000 trades a call, oldest first, after an exclusive ``since`` cursor (nanoseconds),
and the cursor of the last one as ``last``: passing ``last`` back as ``since`` neither skips nor repeats a
trade. A page shorter than 1000 means nothing newer existed at that moment: the download has caught up.
Calls are paced (``pace`` seconds apart per pair, or as an adaptive pacer says: ``pace.PacedCall``, which also
retries rate-limit refusals). ``stop`` ends the loop between two pages, never inside one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from candlebot.data.download.tradestore import DownloadState, TradeRow, TradeStore
from candlebot.errors import ExchangeError

PAGE = 1000
SIDES = {"b": "buy", "s": "sell"}

PublicCall = Callable[[str, dict[str, str]], Any]


@dataclass(frozen=True)
class PairDownload:
    """What one run did for one pair."""

    pair: str
    state: DownloadState
    calls: int
    fetched: int
    seconds: float
    finish: str  # "caught up", "reached --until" or "interrupted"


def parse_page(result: Any) -> tuple[list[TradeRow], str]:
    """(trades, last) from a Trades ``result``: ``{pair_id: [[price, volume, time, side, type, misc, id], ...], "last": ns}``."""
    try:
        last = str(int(result["last"]))
        [rows] = [value for key, value in result.items() if key != "last"]
        return [TradeRow(float(row[2]), str(row[0]), str(row[1]), SIDES[row[3]]) for row in rows], last
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise ExchangeError(f"Kraken Trades: unexpected reply ({type(exc).__name__}: {exc})") from None


def download_trades(public: PublicCall, pair: str, store: TradeStore, *, since: float, until: float | None,
                    pace: float | Callable[[], float], stop: threading.Event,
                    progress: Callable[[DownloadState], None] = lambda state: None) -> PairDownload:
    state = store.begin(pair, since)
    started = time.perf_counter()
    calls = fetched = 0
    finish = "interrupted"
    next_call = time.monotonic()
    # ``pace``: seconds between two calls, or how long to wait now (an adaptive pace: ``pace.Pacer.delay``)
    while not stop.wait(pace() if callable(pace) else max(0.0, next_call - time.monotonic())):
        next_call = time.monotonic() + (0.0 if callable(pace) else pace)
        rows, last = parse_page(public("Trades", {"pair": pair, "since": state.cursor}))
        calls += 1
        fresh = rows[state.skip :]
        kept = fresh if until is None else [row for row in fresh if row.time < until]
        fetched += len(kept)
        if len(kept) < len(fresh):  # reached --until inside this page: keep its cursor, count what is stored
            state = store.append(state, kept, cursor=state.cursor, skip=state.skip + len(kept), caught_up=False)
            finish = "reached --until"
            break
        full = len(rows) >= PAGE
        state = store.append(state, kept, cursor=last if rows else state.cursor, skip=0, caught_up=not full)
        progress(state)
        if not full:
            finish = "caught up"
            break
    progress(state)
    return PairDownload(pair, state, calls, fetched, time.perf_counter() - started, finish)
