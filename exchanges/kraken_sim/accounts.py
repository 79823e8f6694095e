"""Accounts of the simulated venue: balances, orders, trades, and the matching of orders against the market.

Fills follow the exchange's arithmetic, in ``Decimal``:

- a market order walks the book; its price is the volume-weighted average of
  the levels taken, rounded against the trader to ``pair_decimals``;
- an immediate-or-cancel limit order (``timeinforce=IOC``) takes what the
  book offers up to its limit, walking the levels, and the rest is canceled
  (Kraken's protected "market" order): ``closed`` when all executed, else
  ``canceled`` with ``vol_exec`` (possibly 0) and reason ``PARTIAL_REASON``;
- another limit order that crosses the book on arrival fills the same way (never
  beyond its limit); otherwise it rests and fills at its limit price as soon
  as a trade of the tape reaches it (a buy when the price falls to it, a sell
  when it rises to it), as a maker;
- ``cost = round_half_even(price * volume, cost_decimals)``,
  ``fee = ceil(rate * cost, cost_decimals)`` with the pair's first-tier taker or
  maker rate. ``fee`` is always REPORTED in the quote currency (order and trade
  objects), as Kraken documents it ("total fee (quote currency)").

Fee currency (what the balances pay). Kraken's REST AddOrder reference
(docs.kraken.com, formerly https://docs.kraken.com/rest/#operation/addOrder;
its source: https://github.com/krakenfx/api-specs,
spot-rest/partials/properties/oflags.yaml) says: "fcib prefer fee in base
currency (default if selling)", "fciq prefer fee in quote currency (default
if buying, mutually exclusive with fcib)". So:

- fee in quote: a buy pays ``cost + fee`` quote and gets ``volume`` base; a
  sell gives ``volume`` base and gets ``cost - fee`` quote;
- fee in base: the fee converted at the fill price,
  ``fee_base = ceil(fee / price, lot_decimals)``; a buy pays ``cost`` quote and
  gets ``volume - fee_base`` base; a sell gives ``volume + fee_base`` base and
  gets ``cost`` quote.

``oflags`` fciq/fcib choose; with neither, ``default_fee_currency`` decides:
``"by_side"`` (default, the AddOrder reference above: quote for buys, base for
sells) or ``"quote"`` (quote for both sides: how Kraken's fee-schedule page
words it, "calculated as a percentage of the quote currency volume ... (by
default)", what ledgers published by users show for plain sells, e.g.
github.com/ccxt/ccxt/issues/8204, and what this simulator did before).
The choice is a preference,
as Kraken's support says (article 201893638: it "won't necessarily give you
your choice", e.g. a currency you hold none of): a sell that cannot also pay
``fee_base`` out of its available base pays the fee in quote instead. The
order's ``oflags`` shows the preference in force (fciq or fcib).

A validated order (``validate=true``) is checked as Kraken checks it: its arguments, the pair, ``ordermin``,
``costmin`` and the price's decimals, never the account's funds. Kraken documents ``validate`` as "validate inputs
only, do not submit order", and users report that it accepts orders their account could not pay (an account with no
funds at all, a very large volume: github.com/dominiktraxl/pykrakenapi issues 39 and 44). So a ``--validate`` bot's
paper sells validate although the account holds none of the coins its paper buys booked.

Resting orders hold funds (buys: ``cost`` plus the fee if paid in quote, at the
limit; sells: the volume plus the fee if paid in base), so that an order
accepted now can always be paid when it fills. Matching is lazy:
``sync(now)`` runs before every private call and every state read, so fills
depend only on simulator time.

Order faults (``faults``: drawn through ``draw`` only once an order is booked):

- ``late_listing``: the order's ``listed_at`` is ``delay_s`` after placing;
  the private lookups leave it (and its trades) out until then. The engine
  has it all along: it fills, it can be canceled by txid/userref/cl_ord_id,
  its cl_ord_id counts as taken, and balances move AT ONCE, as Kraken's
  ledger-backed balances do (a client sees the money move before the order).
- ``thin_book`` (market and IOC orders): checks (minimums, funds) apply to the whole
  order, then only ``floor(lots * fill_ratio)`` lots execute, priced by
  walking the book for those lots; cost, fee and balances are those of the
  executed part. The order ends ``canceled`` with ``vol_exec < vol``,
  ``misc`` "partial" and reason ``PARTIAL_REASON`` (Kraken cancels an
  unfillable market leftover IOC-like; its exact reason text is unsure).
- ``slow_fill`` (market and IOC orders): the order stays ``open`` (vol_exec 0, funds
  held, balances unmoved) until ``delay_s`` later, then fills at the price
  quoted when it was placed, with ``closetm`` and the trade time at the fill.
  With thin_book too, the partial fill happens then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Callable, Iterable, Mapping

from candlebot.money import ZERO, ceil_to, floor_to
from candlebot.exchanges.kraken_sim.book import BookMaker, walk
from candlebot.exchanges.kraken_sim.config import FEE_DEFAULTS
from candlebot.exchanges.kraken_sim.errors import (
    COST_MINIMUM,
    INSUFFICIENT_FUNDS,
    ORDER_MINIMUM,
    UNKNOWN_ORDER,
    KrakenError,
)
from candlebot.exchanges.kraken_sim.faults import Fault, LateListing, SlowFill, ThinBook
from candlebot.exchanges.kraken_sim.feeschedule import WINDOW_S, rates
from candlebot.exchanges.kraken_sim.market import PricePath
from candlebot.exchanges.kraken_sim.orders import IdMaker, Order, Trade
from candlebot.exchanges.kraken_sim.units import Units

PARTIAL_REASON = "Insufficient liquidity"
Draw = Callable[[str], "Fault | None"]
"""Draws an order fault by kind (``faults.ORDER_KINDS``): the fault if it fires for this order, else None."""


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

    def __init__(self, key: str, balances: Mapping[str, Decimal], volume_30d: Decimal = ZERO) -> None:
        self.key = key
        self.balances: dict[str, Decimal] = dict(balances)
        self.volume_before = volume_30d  # 30-day volume traded before the simulator started
        self.orders: dict[str, Order] = {}
        self.trades: dict[str, Trade] = {}

    def held(self, asset: str, base: str, quote: str) -> Decimal:
        """Funds reserved by open orders: the base asset by sells, the quote asset by buys."""
        side = "sell" if asset == base else "buy" if asset == quote else None
        return sum((o.hold for o in self.orders.values() if o.is_open and o.side == side), ZERO)


class Accounts:
    """Every account of the venue, on one pair's market. Not thread-safe: the venue holds its lock."""

    def __init__(self, *, units: Units, path: PricePath, books: BookMaker, ids: IdMaker,
                 keys: Iterable[str], balances: Mapping[str, Decimal], default_fee_currency: str = "by_side",
                 volume_30d: Decimal = ZERO) -> None:
        if default_fee_currency not in FEE_DEFAULTS:
            raise ValueError(f"default_fee_currency must be one of {FEE_DEFAULTS}, got {default_fee_currency!r}")
        self.default_fee_currency = default_fee_currency
        self.units = units
        self.pair = units.pair
        self.path = path
        self.books = books
        self.ids = ids
        self.accounts = {key: Account(key, balances, volume_30d) for key in keys}

    def account(self, key: str) -> Account:
        return self.accounts[key]

    def available(self, account: Account, asset: str) -> Decimal:
        return account.balances.get(asset, ZERO) - account.held(asset, self.pair.base, self.pair.quote)

    def volume(self, account: Account, now: float) -> Decimal:
        """The account's 30-day trade volume in the pair's quote (its fee volume currency, USD for USD pairs)."""
        recent = sum((t.cost for t in account.trades.values() if t.time > now - WINDOW_S), ZERO)
        return account.volume_before + recent

    def fee_rates(self, account: Account, now: float) -> tuple[Decimal, Decimal]:
        """(taker, maker) fee fractions of the account's tier now."""
        return rates(self.pair, self.volume(account, now))

    def all_orders(self) -> list[Order]:
        return sorted((o for a in self.accounts.values() for o in a.orders.values()), key=lambda o: o.opentm)

    # -- placing ---------------------------------------------------------------------------------------------

    def place(self, key: str, request: OrderRequest, now: float, draw: Draw | None = None) -> Order | None:
        """Check and (unless validating) book an order; KrakenError when refused. None when only validated.

        ``draw`` gives the order faults that fire for this order (see the module docstring).
        """
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
        ioc = request.timeinforce == "IOC" and limit is not None
        available_lots = request.lots
        taker_rate, maker_rate = self.fee_rates(account, now)
        if crosses and ioc:
            # an IOC limit order takes what the book offers up to its limit; the rest is canceled
            available_lots = _lots_within(levels, request.limit_ticks, request.side, request.lots)  # type: ignore[arg-type]
            price = self._walk_price(levels, available_lots, request.side)
            rate = taker_rate
        elif crosses:
            price = self._walk_price(levels, request.lots, request.side)
            if limit is not None:
                price = min(price, limit) if request.side == "buy" else max(price, limit)
            rate = taker_rate
        else:
            assert limit is not None
            price, rate = limit, maker_rate
        cost = pair.cost(price if limit is None else limit, volume)  # a limit order is checked (and held) at its limit
        if cost < pair.costmin:
            raise KrakenError(COST_MINIMUM)
        if request.validate:  # Kraken validates the order's inputs, not the account's funds (see the module docstring)
            return None
        fee = pair.fee(cost, rate)
        prefers_base = self._prefers_base(request)
        if request.side == "buy":
            fee_in_base = prefers_base
            need = cost if fee_in_base else cost + fee
            if self.available(account, pair.quote) < need:
                raise KrakenError(INSUFFICIENT_FUNDS)
        else:
            available = self.available(account, pair.base)
            if available < volume:
                raise KrakenError(INSUFFICIENT_FUNDS)
            fee_base = self._base_fee(fee, price)
            fee_in_base = prefers_base and available >= volume + fee_base
            need = volume + fee_base if fee_in_base else volume
        order = Order(
            txid=self.ids.make("O"), key=key, side=request.side, ordertype=request.ordertype, volume=volume,
            limit=limit, userref=request.userref, cl_ord_id=request.cl_ord_id,
            oflags=",".join(sorted(request.oflags - {"fcib", "fciq"}) + ["fcib" if prefers_base else "fciq"]),
            timeinforce=request.timeinforce, opentm=now, expiretm=request.expiretm, checked_at=now,
            fee_in_base=fee_in_base,
        )
        account.orders[order.txid] = order
        late, thin, slow = self._order_faults(draw, market=request.ordertype == "market" or ioc)
        if late is not None:
            order.listed_at = now + late.delay_s
        if crosses and "post" in request.oflags:
            _close(order, "canceled", now, reason="Post only order")
        elif crosses:
            lots = available_lots
            if thin is not None:
                lots = int((Decimal(lots) * Decimal(str(thin.fill_ratio))).to_integral_value(rounding=ROUND_FLOOR))
                if 0 < lots < available_lots:
                    price = self._walk_price(levels, lots, request.side)
            if slow is not None:
                order.hold, order.fill_at, order.fill_lots, order.fill_price = need, now + slow.delay_s, lots, price
            else:
                self._execute(account, order, price, lots, maker=False, now=now)
        elif request.timeinforce == "IOC":
            _close(order, "canceled", now, reason="Immediate or cancel")
        else:
            order.hold = need
        return order

    @staticmethod
    def _order_faults(draw: Draw | None, *, market: bool) -> tuple[LateListing | None, ThinBook | None,
                                                                    SlowFill | None]:
        """The order faults firing for a booked order, drawn in a fixed order (reproducible)."""
        if draw is None:
            return None, None, None
        late = draw("late_listing")
        thin = draw("thin_book") if market else None
        slow = draw("slow_fill") if market else None
        assert late is None or isinstance(late, LateListing)
        assert thin is None or isinstance(thin, ThinBook)
        assert slow is None or isinstance(slow, SlowFill)
        return late, thin, slow

    def _prefers_base(self, request: OrderRequest) -> bool:
        """fcib/fciq as asked; with neither, ``default_fee_currency`` decides."""
        if "fcib" in request.oflags:
            return True
        if "fciq" in request.oflags:
            return False
        return self.default_fee_currency == "by_side" and request.side == "sell"

    def _base_fee(self, fee: Decimal, price: Decimal) -> Decimal:
        """The (quote) fee converted to the base at the fill price, rounded up to whole lots."""
        return ceil_to(fee / price, self.pair.lot_decimals) if price > 0 else ZERO

    def _walk_price(self, levels: tuple, lots: int, side: str) -> Decimal:
        if lots <= 0:
            return ZERO
        fills = walk(levels, lots)
        notional = sum(ticks * taken for ticks, taken in fills)
        average = self.units.tick * Decimal(notional) / Decimal(lots)
        places = self.pair.pair_decimals
        return ceil_to(average, places) if side == "buy" else floor_to(average, places)

    def _execute(self, account: Account, order: Order, price: Decimal, lots: int, *, maker: bool,
                 now: float) -> None:
        """Fill ``lots`` of the order at ``price`` in one trade; the order closes, or is canceled if that was not all."""
        pair = self.pair
        if lots > 0:
            volume = self.units.volume(lots)
            cost = pair.cost(price, volume)
            taker_rate, maker_rate = self.fee_rates(account, now)
            fee = pair.fee(cost, maker_rate if maker else taker_rate)
            fee_base, fee_quote = (self._base_fee(fee, price), ZERO) if order.fee_in_base else (ZERO, fee)
            balances = account.balances
            if order.side == "buy":
                balances[pair.quote] = balances.get(pair.quote, ZERO) - cost - fee_quote
                balances[pair.base] = balances.get(pair.base, ZERO) + volume - fee_base
            else:
                balances[pair.base] = balances.get(pair.base, ZERO) - volume - fee_base
                balances[pair.quote] = balances.get(pair.quote, ZERO) + cost - fee_quote
            trade = Trade(
                txid=self.ids.make("T"), ordertxid=order.txid, postxid=self.ids.make("T"),
                trade_id=self.ids.trade_id(), time=now, side=order.side, ordertype=order.ordertype,
                price=price, cost=cost, fee=fee, vol=volume, maker=maker,
            )
            account.trades[trade.txid] = trade
            order.trades.append(trade.txid)
            order.vol_exec, order.cost, order.fee, order.avg_price = volume, cost, fee, price
        if lots >= self.units.lots(order.volume):
            _close(order, "closed", now)
        else:
            order.misc = "partial" if lots > 0 else ""
            _close(order, "canceled", now, reason=PARTIAL_REASON)

    # -- matching resting orders -----------------------------------------------------------------------------

    def sync(self, now: float) -> None:
        """Fill or expire resting orders for everything the tape did up to ``now``; complete due slow fills."""
        for account in self.accounts.values():
            for order in [o for o in account.orders.values() if o.is_open]:
                if order.fill_at is not None:
                    if now >= order.fill_at:
                        assert order.fill_price is not None and order.fill_lots is not None
                        self._execute(account, order, order.fill_price, order.fill_lots, maker=False,
                                      now=order.fill_at)
                elif order.limit is not None:
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
            self._execute(account, order, order.limit, self.units.lots(order.volume), maker=True,  # type: ignore[arg-type]
                          now=max(after, float(hi)))
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

    def cancel_all(self, key: str, now: float) -> int:
        """Cancel every open order of the account (none is not an error: count 0)."""
        targets = [o for o in self.accounts[key].orders.values() if o.is_open]
        for order in targets:
            _close(order, "canceled", now, reason="User requested")
        return len(targets)


def _lots_within(levels: tuple, limit_ticks: int, side: str, wanted: int) -> int:
    """How many of ``wanted`` lots the book offers at or better than the limit (asks up to it, bids down to it)."""
    total = 0
    for level in levels:
        if (level.ticks > limit_ticks) if side == "buy" else (level.ticks < limit_ticks):
            break
        total += level.lots
        if total >= wanted:
            return wanted
    return total


def _close(order: Order, status: str, now: float, reason: str | None = None) -> None:
    """End an order's life: no longer open, nothing held."""
    order.status, order.closetm, order.reason, order.hold = status, now, reason, ZERO
