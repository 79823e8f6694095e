"""Protected market orders on Kraken that are never placed twice.

An order with a protection price (``OrderRequest.limit``) goes out as an
immediate-or-cancel limit order at that price (``ordertype=limit``,
``timeinforce=IOC``): Kraken executes what the book offers up to the price and
cancels the rest, so no fill is ever dearer than the price the bot sized
with. What executed (all, part or nothing) is read from the settled order's
``vol_exec``, ``cost`` and ``fee``: a zero execution is a ``Fill`` of volume 0,
not an error. Without a limit (adapter tests only) the order is a plain market order.

Each ``OrderRequest`` carries a unique int32 ``userref`` that is sent with
AddOrder. When AddOrder's outcome is unknown (read timeout, 5xx, dropped
connection, ``EService:Unavailable``/``Busy``, ``EGeneral:Internal error``,
an unreadable reply) the order is looked up by that userref (OpenOrders and
ClosedOrders, repeatedly for ``lookup_window`` seconds since it can appear
late, then the latest own trades in TradesHistory). Found: it is used.
Proven absent (the lookups worked and found nothing): it is sent again with
the same userref, at most ``max_sends`` times in all; past that, or when the
lookups fail too, ``OrderOutcomeUnknown(userref=...)``: the caller keeps the
intent open and goes on looking (``candlebot.live.recovery``) instead of forgetting
an order that may still appear. Once no send is left (``max_sends``; a running
bot allows one) there is nothing to prove: one lookup, which never waits for the
key (``deferrable``), and the intent goes to the caller, whose paced lookups
(``find(..., deferrable=True)``) never hold up its ticker poll. Refusals before processing (invalid nonce, rate
limits, no connection) are retried by the client itself. Once an order may
exist, a failed or odd lookup never turns into a rejection. Two executed orders
with one userref stop the bot (``DuplicateOrderError``): never pick one silently.

A running bot (``share_fill_reads``) never waits for the key's REST budget to
learn what a placed order executed: the txid goes on the key's ``FillBoard``;
when no shared read can go at once the order is ``OrderFillPending`` (placed,
not a failure) and ``find`` picks the fill up from the board on a later poll,
with no call of its own when another process's read has posted it.

Kraken's strict nonce helps: a resend carries a higher nonce, so a first request
still in flight that arrives later is refused. An order already queued behind
a 5xx or ``EService:Busy`` can still appear late, hence the long default window.
Fees are asked in the quote currency (``oflags=fciq``), as the ledger books them.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from candlebot.clock import Clock
from candlebot.errors import OrderFillPending, OrderOutcomeUnknown, OrderRejected, RateLimitError, TemporaryExchangeError
from candlebot.venue import Fill, OrderRequest
from candlebot.pair import PairInfo
from candlebot.exchanges.kraken import replies
from candlebot.exchanges.kraken.client import KrakenClient
from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.exchanges.kraken.errors import DuplicateOrderError, MalformedReplyError, RateBudgetDeferred, UnknownOrderError
from candlebot.exchanges.kraken.fillboard import FillBoard
from candlebot.exchanges.kraken.replies import KrakenOrder
from candlebot.exchanges.kraken_pairs import normalise

log = logging.getLogger(__name__)

_RECENT_TRADES = 50


class KrakenOrders:
    """Placement, validation and lookup of one account's orders."""

    def __init__(self, client: KrakenClient, config: KrakenConfig, clock: Clock, *, board: FillBoard | None = None) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self.board = board
        self._placed: dict[int, list[str]] = {}  # userref -> txids whose fill is on the board

    # -- reads ---------------------------------------------------------------------------------

    def open_orders(self, userref: int | None = None) -> list[KrakenOrder]:
        found = replies.orders(self.client.private("OpenOrders", {"userref": userref}), "open")
        return [o for o in found if userref is None or o.userref == userref]

    def closed_orders(self, userref: int | None = None, *, start: float | None = None,
                      ofs: int | None = None) -> list[KrakenOrder]:
        params = {"userref": userref, "start": start, "ofs": ofs}
        found = replies.orders(self.client.private("ClosedOrders", params), "closed")
        return [o for o in found if userref is None or o.userref == userref]

    def query_orders(self, txids: list[str], userref: int | None = None) -> list[KrakenOrder]:
        if not txids:
            return []
        found: list[KrakenOrder] = []
        for start in range(0, len(txids), 50):
            try:
                result = self.client.private("QueryOrders", {"txid": txids[start:start + 50]})
            except UnknownOrderError:
                continue
            found.extend(replies.orders(result))
        return [o for o in found if userref is None or o.userref == userref]

    def cancel(self, txid: str) -> bool:
        """Cancel an order (id, or a userref for all open orders carrying it); False when no such open order."""
        try:
            result = self.client.private("CancelOrder", {"txid": txid})
        except UnknownOrderError:
            return False
        count = result.get("count", 0) if isinstance(result, dict) else 0
        return isinstance(count, int) and count > 0

    def lookup(self, pair: PairInfo, userref: int, *, deferrable: bool = False) -> list[KrakenOrder]:
        """Every order of ``pair`` carrying ``userref``, open or closed (oldest first).

        ``deferrable``: ``RateBudgetDeferred`` instead of waiting for the key or the rate counter.
        """
        if deferrable:  # both lists under one lease: never half a lookup
            open_result, closed_result = self.client.private_reads([("OpenOrders", {"userref": userref}),
                                                                    ("ClosedOrders", {"userref": userref})])
            listed = replies.orders(open_result, "open") + replies.orders(closed_result, "closed")
        else:
            listed = self.open_orders(userref) + self.closed_orders(userref)
        found = {o.txid: o for o in listed if o.userref == userref}
        return sorted((o for o in found.values() if _same_pair(o, pair)), key=lambda o: o.opened)

    def _lookup_in_trades(self, pair: PairInfo, userref: int, known: set[str]) -> list[KrakenOrder]:
        """Orders behind our latest trades that the order lists did not show (they can lag)."""
        result = self.client.private("TradesHistory")
        txids = sorted({t.order_txid for t in replies.own_trades(result)[:_RECENT_TRADES]} - known)
        return [o for o in self.query_orders(txids, userref) if _same_pair(o, pair)]

    def find(self, pair: PairInfo, userref: int, *, deferrable: bool = False) -> Fill | None:
        """The fill of the order carrying ``userref``: None when no such order is listed, a Fill of volume 0
        when it settled with nothing executed; OrderOutcomeUnknown while it has not settled."""
        if userref in self._placed:
            placed = self._from_board(userref)
            if placed is not None:
                return placed.fill(pair.name)
            if userref in self._placed:
                raise OrderOutcomeUnknown(f"order userref={userref} placed; its fill is not read yet", userref=userref)
        found = self.lookup(pair, userref, deferrable=deferrable)
        if any(not o.settled for o in found):
            raise OrderOutcomeUnknown(f"order userref={userref} exists but has not settled yet", userref=userref)
        executed = _executed_one(found, userref)
        if executed is None and found:
            executed = found[-1]  # settled, nothing executed: the order is over
        return executed.fill(pair.name) if executed is not None else None

    # -- placement -----------------------------------------------------------------------------

    def _params(self, order: OrderRequest, pair: PairInfo) -> dict[str, Any]:
        volume = pair.floor_volume(order.volume)
        if volume <= 0:
            raise OrderRejected(f"order volume {order.volume} rounds to 0 at {pair.lot_decimals} decimals")
        params: dict[str, Any] = {"pair": pair.altname, "type": order.side.value, "ordertype": "market",
                                  "volume": volume, "oflags": "fciq"}
        if order.limit is not None:
            limit = pair.protect_price(order.limit, order.side.value)
            params.update(ordertype="limit", price=f"{limit:.{pair.pair_decimals}f}", timeinforce="IOC")
        return params

    def validate(self, order: OrderRequest, pair: PairInfo) -> str:
        """AddOrder with validate=true: Kraken checks the order and places nothing. Returns its description."""
        result = self.client.private("AddOrder", {**self._params(order, pair), "userref": order.userref,
                                                  "validate": True})
        descr = result.get("descr", {}) if isinstance(result, dict) else {}
        return str(descr.get("order", "")) if isinstance(descr, dict) else ""

    def place(self, order: OrderRequest, pair: PairInfo) -> Fill:
        params = self._params(order, pair)
        for send in range(1, self.config.max_sends + 1):
            try:
                txids = self._send(params, order.userref)
            except RateBudgetDeferred as exc:
                if send == 1:
                    raise  # nothing was ever sent: the order was not placed
                # send 1 was only looked up as absent, and order lists lag: it may exist yet, so never "not placed"
                raise OrderOutcomeUnknown(f"order userref={order.userref}: send {send} deferred ({exc}) after send "
                                          f"{send - 1} was looked up as absent; keep looking before deciding it was "
                                          "never placed", userref=order.userref) from None
            except OrderOutcomeUnknown as exc:
                log.warning("kraken AddOrder userref=%d: outcome unknown (%s); looking it up",
                            order.userref, exc)
                if send == self.config.max_sends:
                    return self._settle(self._look_once(pair, order.userref, send), pair, order.userref)
                found = self._reconcile(pair, order.userref)
                if found is None:
                    log.warning("kraken AddOrder userref=%d: proven absent after send %d", order.userref, send)
                    continue
                return self._settle(found, pair, order.userref)
            if self.board is not None:
                return self._fill_from_board(txids, pair, order.userref)
            return self._settle(self._await_by_txid(txids, order.userref), pair, order.userref)
        raise OrderOutcomeUnknown(
            f"order userref={order.userref}: absent after {self.config.max_sends} sends; "
            "keep looking before deciding it was never placed", userref=order.userref)

    def _fill_from_board(self, txids: list[str], pair: PairInfo, userref: int) -> Fill:
        """The fill now if a shared read can go at once; else ``OrderFillPending`` (``find`` picks it up later)."""
        assert self.board is not None
        self._placed[userref] = txids
        self.board.want(txids)
        placed = self._from_board(userref)
        if placed is None:
            raise OrderFillPending(f"order userref={userref} placed ({', '.join(txids)}); its fill is read on a later poll",
                                   userref=userref)
        return placed.fill(pair.name)

    def _from_board(self, userref: int) -> KrakenOrder | None:
        """The settled order from the board (reading it if the budget allows now); forgotten when the board dropped it."""
        assert self.board is not None
        txids = self._placed[userref]
        try:
            found = self.board.settled(txids)
        except (RateLimitError, TemporaryExchangeError, OrderRejected) as exc:  # deferred or failed: a later poll
            log.debug("fill of userref=%d not read yet: %s", userref, exc)
            found = None
        if found is not None or not self.board.wanted(txids):
            del self._placed[userref]  # read, or dropped as stale: the userref lookup takes over
        return found

    def _send(self, params: dict[str, Any], userref: int) -> list[str]:
        """One AddOrder; a reply that was accepted but lacks its txid leaves the outcome unknown."""
        result = self.client.add_order(params, userref=userref)
        try:
            return replies.added_txids(result)
        except MalformedReplyError as exc:
            raise OrderOutcomeUnknown(f"order userref={userref}: AddOrder reply without txid ({exc})",
                                      userref=userref) from exc

    def _look_once(self, pair: PairInfo, userref: int, sends: int) -> KrakenOrder:
        """The order if one lookup, sent without waiting for the key, finds it; else OrderOutcomeUnknown."""
        sent = f"{sends} send{'s' if sends > 1 else ''}"
        try:
            found = self.lookup(pair, userref, deferrable=True)
        except (TemporaryExchangeError, OrderRejected) as exc:
            found, state = [], f"unknown after {sent} (lookup failed or deferred: {exc})"
        else:
            state = f"absent after {sent} (not listed yet)"
        if found:
            return _executed_one(found, userref) or found[0]
        raise OrderOutcomeUnknown(f"order userref={userref}: {state}; keep looking before deciding it was never placed",
                                  userref=userref)

    def _reconcile(self, pair: PairInfo, userref: int) -> KrakenOrder | None:
        """The order with ``userref`` if it exists; None only when proven absent; else OrderOutcomeUnknown."""
        deadline = self.clock.monotonic() + self.config.lookup_window
        while True:
            last_ok = False
            try:
                found = self.lookup(pair, userref)
                last_ok = True
            except (TemporaryExchangeError, OrderRejected) as exc:
                log.warning("kraken lookup of userref=%d failed: %s", userref, exc)
                found = []
            if found:
                return _executed_one(found, userref) or found[0]
            if self.clock.monotonic() >= deadline:
                break
            self.clock.sleep(min(self.config.lookup_interval, max(0.0, deadline - self.clock.monotonic())))
        if not last_ok:
            raise OrderOutcomeUnknown(f"order userref={userref}: cannot tell whether it was placed", userref=userref)
        if self.config.check_trades_history:
            try:
                found = self._lookup_in_trades(pair, userref, set())
            except (TemporaryExchangeError, OrderRejected) as exc:
                raise OrderOutcomeUnknown(f"order userref={userref}: trade history unreadable ({exc})",
                                          userref=userref) from exc
            if found:
                return _executed_one(found, userref) or found[0]
        return None

    def _await_by_txid(self, txids: list[str], userref: int) -> KrakenOrder:
        return self._poll_settled(lambda: self.query_orders(txids), userref)

    def _settle(self, placed: KrakenOrder, pair: PairInfo, userref: int) -> Fill:
        """What the settled order executed: all, part, or nothing (volume 0: an IOC that found no price within its limit)."""
        settled = placed if placed.settled else self._poll_settled(lambda: self.query_orders([placed.txid]), userref)
        return settled.fill(pair.name)

    def _poll_settled(self, query: Callable[[], list[KrakenOrder]], userref: int) -> KrakenOrder:
        deadline = self.clock.monotonic() + self.config.fill_timeout
        pause = self.config.fill_poll_interval
        while True:
            try:
                found = query()
            except (TemporaryExchangeError, OrderRejected) as exc:  # the order exists: a failed read proves nothing
                log.warning("kraken QueryOrders for userref=%d failed: %s", userref, exc)
                found = []
            settled = [o for o in found if o.settled]
            if settled:
                return settled[0]
            if self.clock.monotonic() >= deadline:
                raise OrderOutcomeUnknown(
                    f"order userref={userref} placed but not closed after {self.config.fill_timeout:g}s",
                    userref=userref)
            self.clock.sleep(pause)
            pause = min(pause * 2, 2.0)


def _executed_one(found: list[KrakenOrder], userref: int) -> KrakenOrder | None:
    """The one order with an execution among ``found``; DuplicateOrderError when there are several."""
    executed = [o for o in found if o.volume_executed > 0]
    if len(executed) > 1:
        raise DuplicateOrderError(
            f"{len(executed)} executed orders carry userref={userref} ({', '.join(o.txid for o in executed)}): "
            "the bot stops so that a human can reconcile the account")
    return executed[0] if executed else None


def _same_pair(order: KrakenOrder, pair: PairInfo) -> bool:
    return normalise(order.pair) in (normalise(pair.altname), normalise(pair.name), normalise(pair.wsname))

