"""What the receive path hands to the writer: book rows of one message, and gaps.

Prices and quantities are integers at the pair's precisions (price x 10^price_decimals, qty x
10^qty_decimals): exact, compact, and the checksum's own units. Times are integer microseconds
since the epoch; ``ts_exchange`` is None when Kraken sent no timestamp (snapshots).
"""

from __future__ import annotations

from typing import NamedTuple

Row = tuple[int, int, int]  # (side: 1 ask / 0 bid, price units, qty units; qty 0 deletes)


class BookRecord(NamedTuple):
    pair: str
    ts_exchange: int | None
    ts_local: int
    rows: list[Row]
    snapshot: str | None  # None: a delta; else why the snapshot was taken (start, interval, resync reason)


class GapRecord(NamedTuple):
    pair: str
    start: int  # receive time of the last stored message before the gap (or of the restart)
    end: int    # receive time of the snapshot that ended it
    reason: str


Record = BookRecord | GapRecord
