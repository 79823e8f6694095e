"""Accounts of the simulated venue: balances, orders, trades, and the matching of orders against the market.

Fills follow the exchange's arithmetic, in ``Decimal``:

- a market order walks the book; its price is the volume-weighted average of
  the levels taken, rounded against the trader to ``pair_decimals``;
- a limit order that crosses the book on arrival fills the same way (never
  beyond its limit); otherwise it rests and fills at its limit price as soon
  as a trade of the tape reaches it (a buy when the price falls to it, a sell
  when it rises to it), as a maker;
- ``cost = round_half_even(price * volume, cost_decimals)``,
  ``fee = ceil(rate * cost, cost_decimals)`` with the pair's first-tier taker or
  maker rate, and balances move by exactly that: a buy takes ``cost + fee`` of
  the quote asset and gives ``volume`` of the base; a sell takes ``volume`` and
  gives ``cost - fee``. Fees are always charged in the quote asset.

Resting orders hold funds (``cost + fee`` at the limit, or the volume), so
that an order accepted now can always be paid when it fills. Orders fill
whole (no partial fills). Matching is lazy: ``sync(now)`` runs before every
private call and every state read, so fills depend only on simulator time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from candlebot.money import ZERO, ceil_to, floor_to
from exchanges.kraken_sim.book import BookMaker, walk
from exchanges.kraken_sim.errors import (
    COST_MINIMUM,
    INSUFFICIENT_FUNDS,
    ORDER_MINIMUM,
    UNKNOWN_ORDER,
    KrakenError,
)
from exchanges.kraken_sim.market import PricePath
from exchanges.kraken_sim.orders import IdMaker, Order, Trade
from exchanges.kraken_sim.units import Units


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A checked AddOrder: volume in whole lots, limit price in ticks."""

    side: str
    ordertype: str
    lots: int
    limit_ticks: int | None
    userref: int
    cl_ord_id: str | None
    oflags: frozenset[str]
    timeinforce: str
    expiretm: float
    validate: bool


class Account:
    """What one API key owns."""

    def __init__(self, key: str, balances: Mapping[str, Decimal]) -> None:
        self.key = key
        self.balances: dict[str, Decimal] = dict(balances)
        self.orders: dict[str, Order] = {}
        self.trades: dict[str, Trade] = {}

    def held(self, asset: str, base: str, quote: str) -> Decimal:
        """Funds reserved by open orders: the base asset by sells, the quote asset by buys."""
        side = "sell" if asset == base else "buy" if asset == quote else None
        return sum((o.hold for o in self.orders.values() if o.is_open and o.side == side), ZERO)


class Accounts:
    """Every account of the venue, on one pair's market. Not thread-safe: the venue holds its lock."""

    def __init__(self, *, units: Units, path: PricePath, books: BookMaker, ids: IdMaker,
                 keys: Iterable[str], balances: Mapping[str, Decimal]) -> None:
        self.units = units
        self.pair = units.pair
        self.path = path
        self.books = books
        self.ids = ids
        self.accounts = {key: Account(key, balances) for key in keys}
        self._next_trade_id = 1

    def account(self, key: str) -> Account:
        return self.accounts[key]

    def available(self, account: Account, asset: str) -> Decimal:
        return account.balances.get(asset, ZERO) - account.held(asset, self.pair.base, self.pair.quote)

    def all_orders(self) -> list[Order]:
        return sorted((o for a in self.accounts.values() for o in a.orders.values()), key=lambda o: o.opentm)

    # -- placing ---------------------------------------------------------------------------------------------

    def place(self, key: str, request: OrderRequest, now: float) -> Order | None:
        """Check and (unless validating) book an order; KrakenError when refused. None when only validated."""
        account = self.accounts[key]
        pair, units = self.pair, self.units
        volume = units.volume(request.lots)
        if volume < pair.ordermin or request.lots <= 0:
            raise KrakenError(ORDER_MINIMUM)
        book = self.books.book(math.floor(now), self.path.ticks_at(now))
        levels = book.asks if request.side == "buy" else book.bids
        limit = None if request.limit_ticks is None else units.price(request.limit_ticks)
        crosses = limit is None or (levels[0].ticks <= request.limit_ticks if request.side == "buy"
                                    else levels[0].ticks >= request.limit_ticks)
        if crosses:
            price = self._walk_price(levels, request.lots, request.side)
            if limit is not None:
                price = min(price, limit) if request.side == "buy" else max(price, limit)
            rate = pair.taker_fee
        else:
            assert limit is not None
            price, rate = limit, pair.maker_fee
        cost = pair.cost(price, volume)
        if cost < pair.costmin:
            raise KrakenError(COST_MINIMUM)
        fee = pair.fee(cost, rate)
        need, asset = (cost + fee, pair.quote) if request.side == "buy" else (volume, pair.base)
        if self.available(account, asset) < need:
            raise KrakenError(INSUFFICIENT_FUNDS)
        if request.validate:
            return None
        order = Order(
            txid=self.ids.make("O"), key=key, side=request.side, ordertype=request.ordertype, volume=volume,
            limit=limit, userref=request.userref, cl_ord_id=request.cl_ord_id,
            oflags=",".join(sorted(request.oflags - {"fcib", "fciq"}) + ["fciq"]),
            timeinforce=request.timeinforce, opentm=now, expiretm=request.expiretm, checked_at=now,
        )
        account.orders[order.txid] = order
        if crosses and "post" in request.oflags:
            _close(order, "canceled", now, reason="Post only order")
        elif crosses:
            self._fill(account, order, price, maker=False, now=now)
        elif request.timeinforce == "IOC":
            _close(order, "canceled", now, reason="Immediate or cancel")
        else:
            order.hold = need
        return order

    def _walk_price(self, levels: tuple, lots: int, side: str) -> Decimal:
        fills = walk(levels, lots)
        notional = sum(ticks * taken for ticks, taken in fills)
        average = self.units.tick * Decimal(notional) / Decimal(lots)
        places = self.pair.pair_decimals
        return ceil_to(average, places) if side == "buy" else floor_to(average, places)

    def _fill(self, account: Account, order: Order, price: Decimal, *, maker: bool, now: float) -> None:
        pair = self.pair
        cost = pair.cost(price, order.volume)
        fee = pair.fee(cost, pair.maker_fee if maker else pair.taker_fee)
        balances = account.balances
        if order.side == "buy":
            balances[pair.quote] = balances.get(pair.quote, ZERO) - cost - fee
            balances[pair.base] = balances.get(pair.base, ZERO) + order.volume
        else:
            balances[pair.base] = balances.get(pair.base, ZERO) - order.volume
            balances[pair.quote] = balances.get(pair.quote, ZERO) + cost - fee
        trade = Trade(
            txid=self.ids.make("T"), ordertxid=order.txid, postxid=self.ids.make("T"),
            trade_id=self._next_trade_id, time=now, side=order.side, ordertype=order.ordertype,
            price=price, cost=cost, fee=fee, vol=order.volume, maker=maker,
        )
        self._next_trade_id += 1
        account.trades[trade.txid] = trade
        order.trades.append(trade.txid)
        order.vol_exec, order.cost, order.fee, order.avg_price = order.volume, cost, fee, price
        _close(order, "closed", now)

    # -- matching resting orders -----------------------------------------------------------------------------

    def sync(self, now: float) -> None:
        """Fill or expire resting orders for everything the tape did up to ``now``."""
        for account in self.accounts.values():
            for order in [o for o in account.orders.values() if o.is_open and o.limit is not None]:
                self._match(account, order, now)

    def _crosses(self, order: Order, after: float, until: float) -> bool:
        window = self.path.extremes(after, until)
        if window is None:
            return False
        low, high = window
        limit_ticks = self.units.ticks(order.limit)  # type: ignore[arg-type]
        assert limit_ticks is not None
        return low <= limit_ticks if order.side == "buy" else high >= limit_ticks

    def _match(self, account: Account, order: Order, now: float) -> None:
        after = order.checked_at
        until = min(now, order.expiretm) if order.expiretm else now
        if until > after and self._crosses(order, after, until):
            # the first second at which the tape reached the limit
            lo, hi = math.floor(after), math.floor(until)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if self._crosses(order, after, mid):
                    hi = mid
                else:
                    lo = mid
            self._fill(account, order, order.limit, maker=True, now=max(after, float(hi)))  # type: ignore[arg-type]
            return
        if order.expiretm and now >= order.expiretm:
            _close(order, "expired", order.expiretm)
        order.checked_at = now

    # -- canceling ---------------------------------------------------------------------------------------------

    def cancel(self, key: str, *, txid: str | None = None, userref: int | None = None,
               cl_ord_id: str | None = None, now: float) -> int:
        """Cancel open orders by txid, userref or cl_ord_id; EOrder:Unknown order when none matches."""
        account = self.accounts[key]
        if txid is not None:
            order = account.orders.get(txid)
            targets = [order] if order is not None and order.is_open else []
        else:
            targets = [o for o in account.orders.values() if o.is_open and (
                (userref is not None and o.userref == userref) or (cl_ord_id is not None and o.cl_ord_id == cl_ord_id))]
        if not targets:
            raise KrakenError(UNKNOWN_ORDER)
        for order in targets:
            _close(order, "canceled", now, reason="User requested")
        return len(targets)


def _close(order: Order, status: str, now: float, reason: str | None = None) -> None:
    """End an order's life: no longer open, nothing held."""
    order.status, order.closetm, order.reason, order.hold = status, now, reason, ZERO
