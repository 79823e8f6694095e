"""Strategies that try to break the money rules (loaded as ``tests.support.hostile:Mutating`` ...).

Each one trades as well, so that a run shows the caps holding while it misbehaves: whatever it does, the bot
goes on, counts and alerts its mistakes, and its books equal the account.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from candlebot.strategy import BotStrategy
from tests.support.strategies import candle_number, flip


class Mutating(BotStrategy):
    """Buys, then empties its open trades and raises its cash and cap: the issue's ``open_trades.clear()`` and
    ``ledger.cash = 9000``, and what still works on a frozen object (``object.__setattr__``)."""

    name = "mutating"
    lookback = 1
    interface = 1  # written for interface 1: it still loads (and still cannot break anything)

    def evaluate_positions(self, i: int) -> None:
        self.buy()
        for attempt in (self._clear, self._more_cash, self._force_cash):
            try:
                attempt()
            except (AttributeError, TypeError):
                pass
        self.num_simultaneous_trades = 99
        self.buy()
        self.open_trades.clear()  # raises: a strategy error on every candle

    def _clear(self) -> None:
        self.open_trades.clear()

    def _more_cash(self) -> None:
        self.ledger.cash = Decimal(9000)

    def _force_cash(self) -> None:
        object.__setattr__(self.ledger, "cash", Decimal(9000))  # bypasses frozen: only its own snapshot changes


class Greedy(BotStrategy):
    """Chooses its own volumes: one within ``--stake 300`` at about 30000, one three times over it."""

    name = "greedy"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        if len(self.open_trades) >= 2:
            self.close_all()
        self.buy(Decimal("0.03"))  # about 900 USD: over the stake, skipped
        self.buy(Decimal("0.009"))  # about 270 USD: within it


class Absurd(BotStrategy):
    """Wraps every order in its own try/except and asks for what no order can be, then flips like ``Flip``."""

    name = "absurd"
    lookback = 1
    WRONG = (Decimal("1e30"), Decimal("NaN"), Decimal("Infinity"), Decimal("-0.01"), Decimal(0), 0.001, "0.001", True)

    def evaluate_positions(self, i: int) -> None:
        for volume in self.WRONG:
            try:
                self.buy(volume)  # type: ignore[arg-type]
            except Exception:
                pass  # "never let an order error kill my bot": still counted as this strategy's error
        try:
            self.close("trade 1")  # type: ignore[arg-type]
        except Exception:
            pass
        flip(self)


class Exiting(BotStrategy):
    """Flips, then calls ``sys.exit(0)`` on one candle and raises ``KeyboardInterrupt`` on the next."""

    name = "exiting"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        flip(self)
        if candle_number(self, i) % 2:
            sys.exit(0)
        raise KeyboardInterrupt("not a Ctrl-C: the strategy raised it")


class Hold(BotStrategy):
    """Buys when flat and never sells: only the stop loss (``--param stop_loss_pct=...``) closes its trades."""

    name = "hold"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        if not self.open_trades:
            self.buy()
