"""Protected market orders: the price an order may not go beyond, and the volume a commitment buys at it.

    book levels -> walk them for the volume (the fill model's walk) -> worst price reached
                -> moved by --max-slippage against us -> rounded to the pair's decimals in the safe direction

A buy's protection price is never below what the book asks for its volume, so the order fills whole unless
the book moves; the volume is sized at the protection price, so that volume x protection x (1 + fee) fits in
the commitment: whatever executes (all, part or nothing), the bot can pay for it. A backtest's book is one
level at the next candle's open, so ``max_slippage`` 0 gives exact all-in sizing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from candlebot.venue import BookLevel, Side
from candlebot.money import ZERO
from candlebot.pair import PairInfo

MAX_SLIPPAGE = Decimal("0.005")
VolumeFor = Callable[[Decimal, Decimal, Decimal], Decimal]
"""``Ledger.volume_for(commit, price, fee_rate)``: the volume whose cost plus fee at ``price`` fits in ``commit``."""


def take(levels: Sequence[BookLevel], volume: Decimal, limit: Decimal | None = None,
         side: Side = Side.BUY) -> list[tuple[Decimal, Decimal]]:
    """(price, volume) taken from ``levels`` (best first) for ``volume``, never beyond ``limit``; may fall short."""
    taken: list[tuple[Decimal, Decimal]] = []
    left = volume
    for level in levels:
        if left <= 0:
            break
        if limit is not None and (level.price > limit if side is Side.BUY else level.price < limit):
            break
        amount = level.volume if level.volume < left else left
        taken.append((level.price, amount))
        left -= amount
    return taken


def reach(levels: Sequence[BookLevel], volume: Decimal) -> Decimal:
    """The worst price a fill of ``volume`` reaches; the deepest level's when the book is thinner than that."""
    if not levels:
        raise ValueError("an empty side of the book has no price")
    taken = take(levels, volume)
    return taken[-1][0] if taken else levels[0].price


@dataclass(frozen=True, slots=True)
class Protection:
    """How far beyond the book an order may go: ``max_slippage`` as a fraction (0.005 = 0.5%)."""

    pair: PairInfo
    max_slippage: Decimal = MAX_SLIPPAGE

    def __post_init__(self) -> None:
        if not ZERO <= self.max_slippage < 1:
            raise ValueError(f"max slippage must be a fraction within [0, 1), got {self.max_slippage}")

    def price(self, levels: Sequence[BookLevel], volume: Decimal, side: Side) -> Decimal:
        worst = reach(levels, volume)
        moved = worst * (1 + self.max_slippage) if side is Side.BUY else worst * (1 - self.max_slippage)
        return self.pair.protect_price(moved, side.value)

    def buy(self, levels: Sequence[BookLevel], commit: Decimal, fee_rate: Decimal,
            volume_for: VolumeFor) -> tuple[Decimal, Decimal]:
        """(volume, protection price) for a buy committing ``commit``: sized at the protection price of a first
        estimate, then protected for the (smaller) volume found, which only lowers the price it may pay."""
        first = volume_for(commit, levels[0].price, fee_rate)
        ceiling = self.price(levels, first, Side.BUY)
        volume = volume_for(commit, ceiling, fee_rate)
        return volume, (self.price(levels, volume, Side.BUY) if volume > 0 else ceiling)
