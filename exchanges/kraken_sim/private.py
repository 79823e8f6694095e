"""Kraken's private endpoints for one authenticated account, at simulator time ``now``.

Argument checks follow the exchange: a malformed or missing argument is
``EGeneral:Invalid arguments``; a price off the pair's tick is
``EOrder:Invalid price:...``; then (AddOrder) ``EOrder:Order minimum not met``,
``EOrder:Cost minimum not met`` and ``EOrder:Insufficient funds`` in that order
(see ``accounts``). ``validate=true`` runs every check and places nothing.
QueryOrders and CancelOrder answer ``EOrder:Invalid order`` for a txid that is
not an order id at all, ``EOrder:Unknown order`` for a well-formed one the
account does not have open (cancel) or at all (query). TradeVolume reports the
account's fee tier (``feeschedule``); CancelAll cancels every open order.
Order lists are newest first; ClosedOrders and TradesHistory page 50 at a time
(``ofs``) and report the total in ``count``. A second open order with the same
``cl_ord_id`` is refused with ``EOrder:Duplicate cl_ord_id`` (unsure of
Kraken's exact string: clients should treat any ``EOrder:*`` as a rejection).
An order not yet listed (late_listing fault, see ``accounts``) and its trades
are left out of QueryOrders (``EOrder:Unknown order`` if nothing else is
found), OpenOrders, ClosedOrders (and their ``count``) and TradesHistory, and
do not serve as ``start``/``end`` bounds; balances already show it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable, Iterable

from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_pairs import offline_pairs
from candlebot.exchanges.kraken_sim import params as p
from candlebot.exchanges.kraken_sim.accounts import Account, Accounts, Draw, OrderRequest
from candlebot.exchanges.kraken_sim.catalog import Catalog, result_key
from candlebot.exchanges.kraken_sim.errors import (
    INVALID_ARGUMENTS,
    INVALID_ORDER,
    INVALID_PRICE,
    UNKNOWN_METHOD,
    UNKNOWN_ORDER,
    KrakenError,
)
from candlebot.exchanges.kraken_sim.feeschedule import tier_json
from candlebot.exchanges.kraken_sim.orders import Order, Trade, describe, order_json, trade_json
from candlebot.exchanges.kraken_sim.units import Units, fixed

PAGE = 50
_OFLAGS = frozenset({"post", "fcib", "fciq", "nompp"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FIAT_PREFIX = "Z"
_ORDER_ID = re.compile(r"^O[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}$")
DUPLICATE_CL_ORD_ID = "EOrder:Duplicate cl_ord_id"


def balance_str(asset: str, amount: Decimal) -> str:
    """Kraken prints fiat balances with 4 decimals and crypto with 10; never fewer than the amount has."""
    places = 4 if asset.startswith(_FIAT_PREFIX) else 10
    exponent = amount.normalize().as_tuple().exponent
    return fixed(amount, max(places, -exponent if isinstance(exponent, int) else 0))


class PrivateApi:
    """The private endpoints, over the venue's accounts."""

    def __init__(self, *, catalog: Catalog, accounts: Accounts, units: Units) -> None:
        self.catalog = catalog
        self.accounts = accounts
        self.units = units
        self.pair = units.pair
        self._handlers: dict[str, Callable[[Account, p.Params, float], Any]] = {
            "Balance": self.balance, "BalanceEx": self.balance_ex, "TradeBalance": self.trade_balance,
            "AddOrder": self.add_order, "CancelOrder": self.cancel_order, "QueryOrders": self.query_orders,
            "OpenOrders": self.open_orders, "ClosedOrders": self.closed_orders, "TradesHistory": self.trades_history,
            "TradeVolume": self.trade_volume, "CancelAll": self.cancel_all,
        }

    def handle(self, method: str, key: str, params: p.Params, now: float, draw: Draw | None = None) -> Any:
        """Run ``method``; ``draw`` (AddOrder) gives the order faults that fire for the order it books."""
        handler = self._handlers.get(method)
        if handler is None:
            raise KrakenError(UNKNOWN_METHOD)
        if method == "AddOrder":
            return self.add_order(self.accounts.account(key), params, now, draw)
        return handler(self.accounts.account(key), params, now)

    # -- balances -----------------------------------------------------------------------------------------------

    def balance(self, account: Account, params: p.Params, now: float) -> dict[str, str]:
        return {asset: balance_str(asset, amount) for asset, amount in account.balances.items()}

    def balance_ex(self, account: Account, params: p.Params, now: float) -> dict[str, dict[str, str]]:
        pair = self.pair
        return {asset: {"balance": balance_str(asset, amount),
                        "hold_trade": balance_str(asset, account.held(asset, pair.base, pair.quote))}
                for asset, amount in account.balances.items()}

    def trade_balance(self, account: Account, params: p.Params, now: float) -> dict[str, str]:
        """Equity in ``asset`` (default ZUSD): that asset, plus the pair's base at the last price when quoted in it."""
        asset = p.text(params, "asset") or "ZUSD"
        pair, units = self.pair, self.units
        last = units.price(self.accounts.path.ticks_at(now))
        equity = account.balances.get(asset, Decimal(0))
        if pair.quote == asset and pair.base != asset:
            equity += account.balances.get(pair.base, Decimal(0)) * last
        unexecuted = sum((o.volume * (o.limit or last) for o in account.orders.values() if o.is_open), Decimal(0))
        zero = fixed(Decimal(0), 4)
        eb = fixed(equity, 4)
        return {"eb": eb, "tb": eb, "m": zero, "n": zero, "c": zero, "v": zero, "e": eb, "mf": eb,
                "ml": zero, "uv": fixed(unexecuted, 4)}

    def trade_volume(self, account: Account, params: p.Params, now: float) -> dict[str, Any]:
        """30-day volume and, for each ``pair`` asked, the account's taker (``fees``) and maker (``fees_maker``) tier.

        Without ``pair`` there are no fee entries, as Kraken documents (fees differ by pair).
        """
        volume = self.accounts.volume(account, now)
        out: dict[str, Any] = {"currency": "ZUSD", "volume": fixed(volume, 4)}
        names = p.names(params, "pair")
        if names:
            fees, fees_maker = {}, {}
            for name in names:
                pair = self._snapshot_pair(name)
                key = result_key(name, pair.name)
                fees[key] = tier_json(pair.taker_tiers, volume, pair.taker_fee)
                fees_maker[key] = tier_json(pair.maker_tiers, volume, pair.maker_fee)
            out["fees"], out["fees_maker"] = fees, fees_maker
        return out

    def _snapshot_pair(self, name: str) -> PairInfo:
        pair_id = self.catalog.pair_id(name)
        return self.pair if pair_id == self.pair.name else offline_pairs()[pair_id]

    # -- orders ---------------------------------------------------------------------------------------------

    def add_order(self, account: Account, params: p.Params, now: float, draw: Draw | None = None) -> dict[str, Any]:
        request = self._order_request(account, params, now)
        order = self.accounts.place(account.key, request, now, draw)
        volume = self.units.volume(request.lots)
        limit = None if request.limit_ticks is None else self.units.price(request.limit_ticks)
        reply: dict[str, Any] = {"descr": {"order": describe(self.units, request.side, request.ordertype, volume, limit)}}
        if order is not None:
            reply["txid"] = [order.txid]
        return reply

    def _order_request(self, account: Account, params: p.Params, now: float) -> OrderRequest:
        pair_name = p.text(params, "pair", required=True)
        assert pair_name is not None
        self.catalog.market_pair(pair_name)
        side = p.text(params, "type", required=True)
        ordertype = p.text(params, "ordertype", required=True)
        volume = p.decimal(params, "volume")
        if side not in ("buy", "sell") or ordertype not in ("market", "limit") or volume is None:
            raise KrakenError(INVALID_ARGUMENTS)
        limit_ticks = self._limit_ticks(params) if ordertype == "limit" else None
        userref = p.integer(params, "userref", default=0, low=-(2**31), high=2**31 - 1)
        assert userref is not None
        cl_ord_id = p.text(params, "cl_ord_id")
        if cl_ord_id is not None:
            if "userref" in params or not (_UUID.match(cl_ord_id) or (len(cl_ord_id) <= 18 and cl_ord_id.isprintable())):
                raise KrakenError(INVALID_ARGUMENTS)
            if any(o.is_open and o.cl_ord_id == cl_ord_id for o in account.orders.values()):
                raise KrakenError(DUPLICATE_CL_ORD_ID)
        oflags = frozenset(p.names(params, "oflags"))
        if not oflags <= _OFLAGS or {"fcib", "fciq"} <= oflags or ("post" in oflags and ordertype != "limit"):
            raise KrakenError(INVALID_ARGUMENTS)
        timeinforce = (p.text(params, "timeinforce") or "GTC").upper()
        if timeinforce not in ("GTC", "IOC", "GTD"):
            raise KrakenError(INVALID_ARGUMENTS)
        expiretm = self._expiry(params, now) if timeinforce == "GTD" else 0.0
        return OrderRequest(side=side, ordertype=ordertype, lots=self.units.lots(volume), limit_ticks=limit_ticks,
                            userref=userref, cl_ord_id=cl_ord_id, oflags=oflags, timeinforce=timeinforce,
                            expiretm=expiretm, validate=p.boolean(params, "validate"))

    def _limit_ticks(self, params: p.Params) -> int:
        price = p.decimal(params, "price")
        if price is None:
            raise KrakenError(INVALID_ARGUMENTS)
        ticks = self.units.ticks(price)
        if ticks is None:
            pair = self.pair
            raise KrakenError(f"{INVALID_PRICE}:{pair.altname} price can only be specified up to "
                              f"{pair.pair_decimals} decimals.")
        return ticks

    @staticmethod
    def _expiry(params: p.Params, now: float) -> float:
        value = p.text(params, "expiretm", required=True)
        assert value is not None
        try:
            expiry = now + float(value[1:]) if value.startswith("+") else float(value)
        except ValueError:
            raise KrakenError(INVALID_ARGUMENTS) from None
        if expiry <= now:
            raise KrakenError(INVALID_ARGUMENTS)
        return expiry

    def cancel_order(self, account: Account, params: p.Params, now: float) -> dict[str, Any]:
        """``txid`` may be an order id or a userref (all open orders carrying it); or ``cl_ord_id``."""
        txid = p.text(params, "txid")
        cl_ord_id = p.text(params, "cl_ord_id")
        if (txid is None) == (cl_ord_id is None):
            raise KrakenError(INVALID_ARGUMENTS)
        if txid is not None and not re.fullmatch(r"-?\d+", txid) and not _ORDER_ID.match(txid):
            raise KrakenError(INVALID_ORDER)
        if txid is not None and re.fullmatch(r"-?\d+", txid):
            count = self.accounts.cancel(account.key, userref=int(txid), now=now)
        else:
            count = self.accounts.cancel(account.key, txid=txid, cl_ord_id=cl_ord_id, now=now)
        return {"count": count}

    def cancel_all(self, account: Account, params: p.Params, now: float) -> dict[str, Any]:
        return {"count": self.accounts.cancel_all(account.key, now)}

    def query_orders(self, account: Account, params: p.Params, now: float) -> dict[str, Any]:
        txids = p.names(params, "txid")
        if not txids or len(txids) > PAGE:
            raise KrakenError(INVALID_ARGUMENTS)
        if not all(_ORDER_ID.match(t) for t in txids):  # not an order id at all (a trade id, a list's repr...)
            raise KrakenError(INVALID_ORDER)
        found = [account.orders[t] for t in txids if t in account.orders and account.orders[t].listed(now)]
        if not found:
            raise KrakenError(UNKNOWN_ORDER)
        userref = p.integer(params, "userref")
        with_trades = p.boolean(params, "trades")
        return {o.txid: order_json(o, self.units, with_trades=with_trades)
                for o in found if userref is None or o.userref == userref}

    def open_orders(self, account: Account, params: p.Params, now: float) -> dict[str, Any]:
        orders = self._filtered(account.orders.values(), params, now, open_=True)
        with_trades = p.boolean(params, "trades")
        return {"open": {o.txid: order_json(o, self.units, with_trades=with_trades) for o in orders}}

    def closed_orders(self, account: Account, params: p.Params, now: float) -> dict[str, Any]:
        orders = self._filtered(account.orders.values(), params, now, open_=False)
        closetime = p.text(params, "closetime") or "both"
        if closetime not in ("open", "close", "both"):
            raise KrakenError(INVALID_ARGUMENTS)

        def times(order: Order) -> list[float]:
            both = [order.opentm, order.closetm or order.opentm]
            return both[:1] if closetime == "open" else both[1:] if closetime == "close" else both

        orders = self._window(account, params, now, orders, times)
        with_trades = p.boolean(params, "trades")
        page = self._page(params, orders)
        return {"closed": {o.txid: order_json(o, self.units, with_trades=with_trades) for o in page},
                "count": len(orders)}

    def trades_history(self, account: Account, params: p.Params, now: float) -> dict[str, Any]:
        trades = sorted((t for t in account.trades.values() if account.orders[t.ordertxid].listed(now)),
                        key=lambda t: (t.time, t.trade_id), reverse=True)
        trades = self._window(account, params, now, trades, lambda t: [t.time])
        page = self._page(params, trades)
        return {"trades": {t.txid: trade_json(t, self.units) for t in page}, "count": len(trades)}

    # -- helpers ----------------------------------------------------------------------------------------------

    @staticmethod
    def _filtered(orders: Iterable[Order], params: p.Params, now: float, *, open_: bool) -> list[Order]:
        userref = p.integer(params, "userref")
        cl_ord_id = p.text(params, "cl_ord_id")
        chosen = [o for o in orders if o.is_open == open_ and o.listed(now)
                  and (userref is None or o.userref == userref)
                  and (cl_ord_id is None or o.cl_ord_id == cl_ord_id)]
        return sorted(chosen, key=lambda o: (o.closetm or o.opentm, o.opentm), reverse=True)

    def _window(self, account: Account, params: p.Params, now: float, items: list[Any],
                times: Callable[[Any], list[float]]) -> list[Any]:
        """Items with a time strictly inside (start, end); bounds may be unix times or (listed) order/trade ids."""
        start, end = self._bound(account, params, now, "start"), self._bound(account, params, now, "end")
        return [item for item in items
                if any((start is None or t > start) and (end is None or t < end) for t in times(item))]

    @staticmethod
    def _bound(account: Account, params: p.Params, now: float, name: str) -> float | None:
        value = p.text(params, name)
        if value is None:
            return None
        order = account.orders.get(value)
        if order is not None and order.listed(now):
            return order.opentm
        trade: Trade | None = account.trades.get(value)
        if trade is not None and account.orders[trade.ordertxid].listed(now):
            return trade.time
        return p.timestamp(params, name)

    @staticmethod
    def _page(params: p.Params, items: list[Any]) -> list[Any]:
        ofs = p.integer(params, "ofs", default=0, low=0)
        assert ofs is not None
        return items[ofs:ofs + PAGE]
