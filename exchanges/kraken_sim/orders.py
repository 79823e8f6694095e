"""Order and trade records of the simulated accounts, and their Kraken JSON shapes."""

from __future__ import annotations

import os
import random
import string
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from candlebot.exchanges.kraken_sim.units import Units

ZERO = Decimal(0)
OPEN_STATUSES = frozenset({"pending", "open"})


class IdMaker:
    """Kraken-looking ids (``OU22CG-KLAF2-FWUDD7``, ``T...`` for trades) and integer trade ids, unique across runs.

    A bot keeps order and trade ids in its state and ledger; a simulator restarted with the same
    seed must not hand the same ids out again (Kraken never reuses one). So ids come from a
    per-run random ``run`` salt (``os.urandom``), not from the seed: every other seeded thing
    (prices, books, faults) stays reproducible. Pass ``run`` to make ids reproducible too.
    """

    _ALPHABET = string.ascii_uppercase + string.digits

    def __init__(self, seed: int, run: int | None = None) -> None:
        self.run = int.from_bytes(os.urandom(8), "big") if run is None else run
        self._rng = random.Random(f"kraken-sim-ids-{seed}-{self.run}")
        self._seen: set[str] = set()
        # integer trade ids (TradesHistory ``trade_id``): a run's block of 2**20 out of 2**63
        self._next_trade_id = (self.run % (2**43)) * 2**20 + 1

    def trade_id(self) -> int:
        value, self._next_trade_id = self._next_trade_id, self._next_trade_id + 1
        return value

    def make(self, prefix: str) -> str:
        while True:
            chars = "".join(self._rng.choice(self._ALPHABET) for _ in range(16))
            txid = f"{prefix}{chars[:5]}-{chars[5:10]}-{chars[10:16]}"
            if txid not in self._seen:
                self._seen.add(txid)
                return txid


@dataclass(slots=True)
class Order:
    """One order of one account, executed in at most one trade (a thin book can make that trade partial).

    ``fee_in_base``: the fee is paid in the base asset (``fee`` is still reported
    in quote). ``listed_at``: from when the private lookups show it (a
    late_listing fault sets it after ``opentm``). ``fill_at``/``fill_lots``/
    ``fill_price``: a slow-filling market order's pending execution.
    """

    txid: str
    key: str
    side: str
    ordertype: str
    volume: Decimal
    limit: Decimal | None
    userref: int
    cl_ord_id: str | None
    oflags: str
    timeinforce: str
    opentm: float
    expiretm: float = 0.0
    status: str = "open"
    closetm: float | None = None
    reason: str | None = None
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    avg_price: Decimal = ZERO
    hold: Decimal = ZERO
    checked_at: float = 0.0
    trades: list[str] = field(default_factory=list)
    misc: str = ""
    fee_in_base: bool = False
    listed_at: float = 0.0
    fill_at: float | None = None
    fill_lots: int | None = None
    fill_price: Decimal | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def listed(self, now: float) -> bool:
        """Whether QueryOrders/OpenOrders/ClosedOrders/TradesHistory show it at ``now``."""
        return now >= self.listed_at


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of an order (the simulator fills an order in one trade)."""

    txid: str
    ordertxid: str
    postxid: str
    trade_id: int
    time: float
    side: str
    ordertype: str
    price: Decimal
    cost: Decimal
    fee: Decimal
    vol: Decimal
    maker: bool


def describe(units: Units, side: str, ordertype: str, volume: Decimal, limit: Decimal | None) -> str:
    """Kraken's ``descr.order`` text: ``buy 1.25000000 XBTUSD @ limit 37500.0``."""
    pair = units.pair
    text = f"{side} {volume:.{pair.lot_decimals}f} {pair.altname} @ {ordertype}"
    return text if limit is None else f"{text} {limit:.{pair.pair_decimals}f}"


def order_json(order: Order, units: Units, *, with_trades: bool = False) -> dict[str, Any]:
    """The order object of QueryOrders/OpenOrders/ClosedOrders (amounts as strings)."""
    pair = units.pair
    out: dict[str, Any] = {
        "refid": None,
        "userref": order.userref,
        "status": order.status,
        "reason": order.reason,
        "opentm": round(order.opentm, 4),
        "starttm": 0,
        "expiretm": round(order.expiretm, 4) if order.expiretm else 0,
        "descr": {
            "pair": pair.altname,
            "type": order.side,
            "ordertype": order.ordertype,
            "price": "0" if order.limit is None else f"{order.limit:.{pair.pair_decimals}f}",
            "price2": "0",
            "leverage": "none",
            "order": describe(units, order.side, order.ordertype, order.volume, order.limit),
            "close": "",
        },
        "vol": units.volume_str(units.lots(order.volume)),
        "vol_exec": units.volume_str(units.lots(order.vol_exec)),
        "cost": units.cost_str(order.cost),
        "fee": units.cost_str(order.fee),
        "price": f"{order.avg_price:.{pair.pair_decimals}f}",
        "stopprice": units.cost_str(ZERO),
        "limitprice": units.cost_str(ZERO),
        "misc": order.misc,
        "oflags": order.oflags,
    }
    if order.cl_ord_id is not None:
        out["cl_ord_id"] = order.cl_ord_id
    if order.timeinforce != "GTC":
        out["timeinforce"] = order.timeinforce
    if order.closetm is not None:
        out["closetm"] = round(order.closetm, 4)
    if with_trades and order.trades:
        out["trades"] = list(order.trades)
    return out


def trade_json(trade: Trade, units: Units) -> dict[str, Any]:
    """A TradesHistory entry; ``pair`` is the pair id, as Kraken sends it there."""
    return {
        "ordertxid": trade.ordertxid,
        "postxid": trade.postxid,
        "pair": units.pair.name,
        "time": round(trade.time, 4),
        "type": trade.side,
        "ordertype": trade.ordertype,
        "price": f"{trade.price:.{units.pair.pair_decimals}f}",
        "cost": units.cost_str(trade.cost),
        "fee": units.cost_str(trade.fee),
        "vol": units.volume_str(units.lots(trade.vol)),
        "margin": units.cost_str(ZERO),
        "misc": "",
        "trade_id": trade.trade_id,
        "maker": trade.maker,
    }
