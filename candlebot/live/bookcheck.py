"""Impossible books: values a correct bot never writes, found before a bot trades on them.

Amounts must read as finite Decimals (no NaN, no infinity), cash and start cash
must not be negative, every filled order must have a positive price and volume,
every trade must point at a filled buy (and a filled sell once closed), with a finite share of
its open fill when a partial sell split it, and the
cash must equal the start cash plus what the booked fills moved: a file edited
by hand, or written by something else, shows up here rather than as a bot that
raises on every buy.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal, InvalidOperation

from candlebot.live.statefile import one_snapshot
from candlebot.money import ZERO


def check_books(db: sqlite3.Connection) -> list[str]:
    """What is impossible in the books held by ``db`` (empty when nothing is), read as one snapshot."""
    with one_snapshot(db):
        return _problems(db)


def _problems(db: sqlite3.Connection) -> list[str]:
    problems: list[str] = []
    meta = dict(db.execute("SELECT key, value FROM meta"))
    if meta.get("pair") is None:  # new books, bound at the first start: nothing may be booked yet
        if db.execute("SELECT 1 FROM orders UNION ALL SELECT 1 FROM trades LIMIT 1").fetchone():
            problems.append("orders without the pair and cash they belong to")
        return problems
    start_cash = _amount(meta.get("start_cash"), "start cash", problems, minimum=ZERO)
    cash = _amount(meta.get("cash"), "cash", problems, minimum=ZERO)
    moved = ZERO
    filled: dict[int, str] = {}
    for userref, side, volume, status, price, fill_volume, cost, fee, order_id in db.execute(
            "SELECT userref, side, volume, status, price, fill_volume, cost, fee, order_id FROM orders"):
        what = f"order userref {userref}"
        _amount(volume, f"{what} volume", problems, positive=True)
        if status != "filled":
            continue
        filled[userref] = side
        amounts = [_amount(price, f"{what} price", problems, positive=True),
                   _amount(fill_volume, f"{what} filled volume", problems, positive=True),
                   _amount(cost, f"{what} cost", problems, minimum=ZERO),
                   _amount(fee, f"{what} fee", problems, minimum=ZERO)]
        if order_id is None:
            problems.append(f"{what} is filled without an exchange order id")
        if all(a is not None for a in amounts):
            _, _, fill_cost, fill_fee = amounts
            moved += -(fill_cost + fill_fee) if side == "buy" else fill_cost - fill_fee  # type: ignore[operator]
    for trade_id, open_ref, close_ref, share_volume, share_cost, share_fee in db.execute(
            "SELECT trade_id, open_ref, close_ref, open_volume, open_cost, open_fee FROM trades"):
        if share_volume is not None:  # a part of a split trade: its share of the open fill
            _amount(share_volume, f"trade {trade_id} open volume", problems, positive=True)
            _amount(share_cost, f"trade {trade_id} open cost", problems, minimum=ZERO)
            _amount(share_fee, f"trade {trade_id} open fee", problems, minimum=ZERO)
        if filled.get(open_ref) != "buy":
            problems.append(f"trade {trade_id} is opened by order {open_ref}, which is not a filled buy")
        if close_ref is not None and filled.get(close_ref) != "sell":
            problems.append(f"trade {trade_id} is closed by order {close_ref}, which is not a filled sell")
    if not problems and start_cash is not None and cash is not None and start_cash + moved != cash:
        problems.append(f"cash {cash} is not start cash {start_cash} plus the booked fills ({moved:+})")
    return problems


def _amount(text: object, what: str, problems: list[str], *, minimum: Decimal | None = None,
            positive: bool = False) -> Decimal | None:
    if text is None:
        problems.append(f"{what} is missing")
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        problems.append(f"{what} is {text!r}, not a number")
        return None
    if not value.is_finite():
        problems.append(f"{what} is {text}")
    elif positive and value <= 0:
        problems.append(f"{what} is {text}, not positive")
    elif minimum is not None and value < minimum:
        problems.append(f"{what} is negative ({text})")
    else:
        return value
    return None
