"""How a simulated protected market order fills (walk the book's levels up to the protection price, pay the
taker fee on the notional) and how it moves a simulated account.

Shared by the backtest exchange (a one-level book at the next candle's open)
and paper trading (the live Depth), so both book fills by the same rules as
the real exchange: volume at lot decimals, cost at cost decimals, fee rounded up.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from candlebot.errors import OrderRejected
from candlebot.venue import BookLevel, Fill, OrderRequest, Side
from candlebot.money import ZERO, step
from candlebot.pair import PairInfo
from candlebot.trading.protection import take


def fill_market_order(
    order: OrderRequest,
    levels: Sequence[BookLevel],
    pair: PairInfo,
    fee_rate: Decimal,
    *,
    order_id: str,
    time: float,
) -> Fill:
    """Fill ``order`` against ``levels`` (asks for a buy, bids for a sell; best first) as Kraken fills an IOC
    limit order at ``order.limit``: what the levels offer up to the limit executes, the rest is canceled.

    The executed volume may be all, part, or none of the order (a Fill of volume 0). The average price is the
    notional over the volume, at the pair's price decimals plus four (Kraken reports averages finer than its tick).
    """
    taken = take(levels, order.volume, order.limit, order.side)
    volume = sum((amount for _, amount in taken), ZERO)
    if volume <= 0:
        return Fill(order_id=order_id, userref=order.userref, pair=pair.name, side=order.side, time=time,
                    price=ZERO, volume=ZERO, cost=ZERO, fee=ZERO)
    notional = sum((price * amount for price, amount in taken), ZERO)
    best = taken[0]
    price = _average(best[0] if best[1] >= volume else notional / volume, pair.pair_decimals)
    cost = pair.round_cost(notional)
    return Fill(
        order_id=order_id,
        userref=order.userref,
        pair=pair.name,
        side=order.side,
        time=time,
        price=price,
        volume=volume,
        cost=cost,
        fee=pair.fee(cost, fee_rate),
    )


def settle(balances: dict[str, Decimal], fill: Fill, pair: PairInfo, *, check: bool = True) -> None:
    """Move a simulated account by a fill: a buy pays cost + fee in quote for the volume, a sell the reverse.

    With ``check``, an account that cannot cover the fill raises OrderRejected and nothing moves.
    """
    quote, base = pair.quote, pair.base
    if fill.side is Side.BUY:
        if check and fill.cost + fill.fee > balances.get(quote, ZERO):
            raise OrderRejected(f"insufficient funds: need {fill.cost + fill.fee} {quote}, have {balances.get(quote, ZERO)}",
                                code="EOrder:Insufficient funds")
        balances[quote] = balances.get(quote, ZERO) - fill.cost - fill.fee
        balances[base] = balances.get(base, ZERO) + fill.volume
    else:
        if check and fill.volume > balances.get(base, ZERO):
            raise OrderRejected(f"insufficient funds: need {fill.volume} {base}, have {balances.get(base, ZERO)}",
                                code="EOrder:Insufficient funds")
        balances[base] = balances.get(base, ZERO) - fill.volume
        balances[quote] = balances.get(quote, ZERO) + fill.cost - fill.fee


def _average(price: Decimal, places: int) -> Decimal:
    """A fill price at the pair's decimals plus four, without trailing zeros beyond the pair's (Kraken's Depth pads
    its prices: "31086.70000" is booked as 31086.7)."""
    fine = price.quantize(step(places + 4))
    coarse = fine.quantize(step(places))
    return coarse if coarse == fine else fine
