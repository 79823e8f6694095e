"""The trader as a strategy sees it: the ``OrderDesk`` a strategy holds, and what the engine learns at that boundary.

    strategy code --books/buy/close--> view (functions only) --> Trader (its own ledger: caps, --cash, --stake)
                                            |
                                            '--> StrategyDesk (the engine's side): core_failure, mistakes, stop loss

The view is a frozen object of four functions: no attribute of it names the trader, the ledger, the store or
this desk, so nothing a strategy reaches by attribute can change the books or the caps (Python hides nothing
from code that reads closures on purpose: the live audit compares the books with the account all the same).

What crosses the boundary is sorted here, because only here is it known who is at fault:
- an exception from the core behind an order (trader, ledger, store, exchange) is remembered as ``core_failure``
  before it reaches the strategy's code, so the engine stops on it even when that code catches it, and nothing
  more is sent;
- an order the strategy got wrong (``OrderArgumentError``: a wrong type, NaN, zero, negative or absurd volume, a
  trade that is not open) is remembered as a mistake, so it is a strategy error even when its code catches it;
  so is a failure of the strategy's code the desk runs while the trader books (its ``_see``, a watcher of its own),
  which never interrupts a booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from candlebot.errors import OrderArgumentError
from candlebot.strategy.orders import BooksView, OrderDesk
from candlebot.trade import STOP_LOSS, BotTrade
from candlebot.trading.trader import Trader


@dataclass(frozen=True, slots=True)
class _DeskView:
    """Functions only (``OrderDesk``): what a strategy holds instead of the trader."""

    books: Callable[[], BooksView]
    buy: Callable[[Decimal | None], BotTrade | None]
    close: Callable[[BotTrade], BotTrade | None]
    watch: Callable[[Callable[[BooksView], None]], None]


class StrategyDesk:
    """The engine's side of a strategy's orders; ``view`` is what the strategy is given (``StrategyContext.orders``).

    ``books`` is the snapshot of the ledger taken when it last changed (``seen`` is ``Ledger.changes`` then), taken
    again whenever the trader books a fill (the strategy's own orders and recovered fills alike): a strategy reads its
    books as plain attributes, at no cost per candle. ``troubled`` tells the engine, with one test per candle, that
    the tick left a core failure or a mistake to handle.
    """

    def __init__(self, trader: Trader) -> None:
        self.core_failure: BaseException | None = None
        self._trader = trader
        self.mistakes: list[Exception] = []  # since the engine last took them (``take_mistakes``)
        self._watchers: list[Callable[[BooksView], None]] = []
        self.troubled = False
        self.seen = -1
        self.books = self.refresh()
        trader.on_booked.append(self.refresh)

        def buy(volume: Decimal | None = None) -> BotTrade | None:
            return self._order(trader.buy, volume)

        def close(trade: BotTrade) -> BotTrade | None:
            return self._order(trader.close, trade)

        def watch(see: Callable[[BooksView], None]) -> None:
            self._watchers.append(see)
            see(self.books)

        self.view: OrderDesk = _DeskView(lambda: self.books, buy, close, watch)

    def refresh(self) -> BooksView:
        """A new snapshot when the ledger changed since the last one, shown to the watchers (the strategy)."""
        ledger = self._trader.ledger
        if ledger.changes != self.seen:
            self.seen = ledger.changes
            self.books = BooksView(ledger.cash, ledger.start_cash, ledger.position, tuple(ledger.open_trades))
            for see in self._watchers:  # ``BotStrategy._see`` (two assignments), or what a strategy put there
                try:
                    see(self.books)
                except Exception as exc:  # noqa: BLE001 - the strategy's code, run inside a booking: its error
                    self.mistakes.append(exc)
                    self.troubled = True
        return self.books

    def take_mistakes(self) -> list[Exception]:
        """The strategy's wrong orders since the last call (caught by its code or not)."""
        mistakes, self.mistakes = self.mistakes, []
        self.troubled = self.core_failure is not None
        return mistakes

    def stop_out(self, held: Sequence[BotTrade], close: float, stop_loss: float) -> None:
        """Sell the trades of ``held`` still open whose entry is ``stop_loss`` (a fraction) or more above ``close``:
        the base's stop loss, run by the core (its exits are booked and reported as stop-loss)."""
        ledger, trader = self._trader.ledger, self._trader
        for trade in held:
            if trade in ledger.open_trades and close <= float(trade.entry_price) * (1 - stop_loss):
                self._order(lambda t: trader.close(t, reason=STOP_LOSS), trade)

    def _order(self, order: Callable[[object], BotTrade | None], argument: object) -> BotTrade | None:
        if self.core_failure is not None:
            raise self.core_failure
        try:
            booked = order(argument)
        except OrderArgumentError as exc:
            self.mistakes.append(exc)
            self.troubled = True
            raise
        except BaseException as exc:
            self.core_failure = exc
            self.troubled = True
            raise
        return booked
