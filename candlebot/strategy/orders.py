"""What a strategy may know of its books and how it places orders: read-only views and a small protocol.

A strategy never holds the trader, the ledger or the store. It holds an ``OrderDesk``: snapshots of its books
that it cannot change (``BooksView``: frozen, its open trades a tuple of frozen ``BotTrade``) and three orders
that the trader checks against its own books, whatever the strategy did to its copies. The core implements the
desk (``candlebot.trading.strategydesk``); this package depends on nothing in ``candlebot.trading``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Protocol

from candlebot.trade import BotTrade


@dataclass(frozen=True, slots=True)
class BooksView:
    """A snapshot of the bot's books, taken when they last changed: what ``self.ledger`` is to a strategy."""

    cash: Decimal  # free quote balance of this bot (not the account's)
    start_cash: Decimal
    position: Decimal  # base held: open trades and dust
    open_trades: tuple[BotTrade, ...]  # oldest first; dust (too small to sell) is not offered


class OrderDesk(Protocol):
    """How a strategy reads its books and places orders; every call is checked by the trader."""

    def books(self) -> BooksView:
        """The books as they are now (the same object until they change)."""
        ...

    def buy(self, volume: Decimal | None) -> BotTrade | None:
        """Open a trade (sized by the bot's rule when ``volume`` is None); the booked trade, or None."""
        ...

    def close(self, trade: BotTrade) -> BotTrade | None:
        """Sell one open trade; the closed trade (the executed part of a partial sell), or None."""
        ...

    def watch(self, see: Callable[[BooksView], None]) -> None:
        """Call ``see`` with the books now and each time they change (before the tick that follows, after an order)."""
        ...
