"""A round trip: the fill that opened a position and, once closed, the fill that closed it.

A sell that executes only part of a trade splits it (``split``): the closed part keeps the trade's id and its
share of the opening fill (volume, cost and fee pro rata), the open remainder gets a new id and the rest, so
that the parts always add up to the opening fill to the last decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from candlebot.errors import BooksInvariantError
from candlebot.venue import Fill, Side
from candlebot.money import ZERO, round_to

SIGNAL = "signal"  # why a sell was sent: the strategy's exit rule
STOP_LOSS = "stop_loss"  # the base's stop_loss_pct, run by the core

@dataclass(frozen=True, slots=True)
class BotTrade:
    """Long-only: opened by a buy fill, closed by a sell fill of the same volume.

    P/L is net of both fees: (exit cost - exit fee) - (entry cost + entry fee).
    """

    trade_id: int
    open_fill: Fill
    close_fill: Fill | None = None

    def __post_init__(self) -> None:
        if self.open_fill.side is not Side.BUY:
            raise ValueError("a trade opens with a buy fill (long-only)")
        if self.close_fill is not None:
            if self.close_fill.side is not Side.SELL:
                raise ValueError("a trade closes with a sell fill")
            if self.close_fill.volume != self.open_fill.volume:
                raise ValueError(
                    f"trade {self.trade_id}: close volume {self.close_fill.volume} != open volume {self.open_fill.volume}"
                )

    @property
    def is_open(self) -> bool:
        return self.close_fill is None

    @property
    def side(self) -> Side:
        return self.open_fill.side

    @property
    def volume(self) -> Decimal:
        return self.open_fill.volume

    @property
    def entry_price(self) -> Decimal:
        return self.open_fill.price

    @property
    def exit_price(self) -> Decimal | None:
        return None if self.close_fill is None else self.close_fill.price

    @property
    def fees(self) -> Decimal:
        return self.open_fill.fee + (ZERO if self.close_fill is None else self.close_fill.fee)

    @property
    def pnl(self) -> Decimal | None:
        """Realised P/L in quote, net of fees; None while open."""
        if self.close_fill is None:
            return None
        return (self.close_fill.cost - self.close_fill.fee) - (self.open_fill.cost + self.open_fill.fee)

    @property
    def gross_pnl(self) -> Decimal | None:
        """P/L before fees: what the prediction earned before the exchange took its share."""
        if self.close_fill is None:
            return None
        return self.close_fill.cost - self.open_fill.cost

    def split(self, volume: Decimal, remainder_id: int, cost_decimals: int) -> tuple[BotTrade, BotTrade]:
        """(the part of ``volume``, the open remainder with id ``remainder_id``); cost and fee shared pro rata."""
        fill = self.open_fill
        if not ZERO < volume < fill.volume:
            raise BooksInvariantError(f"trade {self.trade_id}: cannot split {volume} off {fill.volume}")
        share = volume / fill.volume
        cost, fee = round_to(fill.cost * share, cost_decimals), round_to(fill.fee * share, cost_decimals)
        part = replace(fill, volume=volume, cost=cost, fee=fee)
        rest = replace(fill, volume=fill.volume - volume, cost=fill.cost - cost, fee=fill.fee - fee)
        return replace(self, open_fill=part), BotTrade(remainder_id, rest)

    def closed_by(self, fill: Fill) -> BotTrade:
        if self.close_fill is not None:
            raise ValueError(f"trade {self.trade_id} is already closed")
        return replace(self, close_fill=fill)
