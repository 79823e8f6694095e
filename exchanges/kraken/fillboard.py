"""What placed orders executed, read for every process on the key at once: one QueryOrders serves the fleet.

After AddOrder a bot knows its order's txid but not what it executed: only a
private read tells (QueryOrders, 1 unit of the key's REST counter, which on a
starter key holds 15 and regains 0.33 a second). Twenty bots each reading their
own fills would spend that budget many times over, and whoever waits longest
would starve. So a placed order's txid waits on a board in the key's state
directory, and the first process that finds the budget free (a deferrable read:
it never waits) reads every waiting txid, up to Kraken's 50, in one call and
posts the settled orders for their owners, who pick them up with no call at all.
Every read serves every bot, oldest orders first: sharing is fair by
construction, and a fill costs a fraction of one call.

    <state_dir>/kraken/key-<key_id>.fills/<txid>.want   the owner's monotonic posting time
                                           <txid>.done   Kraken's order object (JSON), posted by the reader

A want older than ``stale_s`` (its owner died, or the order is not listed) is
dropped from the reads; its owner then looks the order up by userref instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from candlebot.clock import Clock
from candlebot.exchanges.kraken import replies
from candlebot.exchanges.kraken.client import KrakenClient
from candlebot.exchanges.kraken.errors import UnknownOrderError
from candlebot.exchanges.kraken.replies import KrakenOrder

log = logging.getLogger(__name__)

BATCH = 50  # QueryOrders takes up to 50 txids
_TXID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class FillBoard:
    """The shared board of one key; ``reserve``: REST-counter units its reads leave free for calls that wait."""

    def __init__(self, folder: Path, client: KrakenClient, clock: Clock, *, reserve: float = 1.0,
                 stale_s: float = 300.0) -> None:
        self.folder = folder
        self.client = client
        self.clock = clock
        self.reserve = reserve
        self.stale_s = stale_s

    def __repr__(self) -> str:
        return f"FillBoard({str(self.folder)!r})"

    def _path(self, txid: str, kind: str) -> Path:
        if not _TXID.match(txid):
            raise ValueError(f"not a Kraken txid: {txid!r}")
        return self.folder / f"{txid}.{kind}"

    def _write(self, path: Path, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text)
        os.replace(tmp, path)  # readers never see half a file

    def want(self, txids: list[str]) -> None:
        """Ask for these orders' outcome (the caller placed them)."""
        for txid in txids:
            self._write(self._path(txid, "want"), f"{self.clock.monotonic():.6f}\n")

    def wanted(self, txids: list[str]) -> bool:
        return any(self._path(t, "want").exists() or self._path(t, "done").exists() for t in txids)

    def take(self, txids: list[str]) -> KrakenOrder | None:
        """A settled order among ``txids`` if a read has posted it (removed from the board), else None."""
        for txid in txids:
            done = self._path(txid, "done")
            try:
                text = done.read_text()
            except FileNotFoundError:
                continue
            order = replies.orders(json.loads(text))[0]
            for other in txids:
                for kind in ("want", "done"):
                    self._path(other, kind).unlink(missing_ok=True)
            return order
        return None

    def settled(self, txids: list[str]) -> KrakenOrder | None:
        """``take``, after one shared read if the post is not there yet; ``RateBudgetDeferred`` when no read could go."""
        found = self.take(txids)
        if found is None:
            self.read()
            found = self.take(txids)
        return found

    def _waiting(self) -> list[str]:
        now = self.clock.monotonic()
        waiting: list[tuple[float, str]] = []
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        for entry in entries:
            if not entry.name.endswith(".want"):
                continue
            try:
                posted = float(Path(entry.path).read_text().strip() or 0)
            except (OSError, ValueError):
                continue
            if now - min(posted, now) > self.stale_s:
                Path(entry.path).unlink(missing_ok=True)
                continue
            waiting.append((posted, entry.name[:-len(".want")]))
        return [txid for _, txid in sorted(waiting)[:BATCH]]

    def read(self) -> None:
        """One QueryOrders for the oldest waiting txids of every process (deferrable: never waits)."""
        txids = self._waiting()
        if not txids:
            return
        try:
            [result] = self.client.private_reads([("QueryOrders", {"txid": txids})], reserve=self.reserve)
        except UnknownOrderError:
            return  # none listed yet
        table: dict[str, Any] = result if isinstance(result, dict) else {}
        for order in replies.orders(table):
            if order.settled and order.txid in txids:
                self._write(self._path(order.txid, "done"), json.dumps({order.txid: table[order.txid]}))
                self._path(order.txid, "want").unlink(missing_ok=True)
        log.debug("kraken fill board: read %d waiting order(s)", len(txids))
