"""Orders a run decided not to send, counted for its summary next to its trades.

A stake too small for the pair makes every buy fall below Kraken's order minimum: the run then shows
``trades 0`` and nothing else would say why. A backtest's tally follows its trader (``follow``), which says which
skips were below the minimum: a backtest out of cash skips tens of thousands of buys, and building an event and
wording a reason for each was most of what they cost. A tally fed ``OrderSkipped`` events (a bot's log) tells the
minimum apart by the trader's reason text (``PairInfo.below_minimum``: "... below ordermin ..." / "... below
costmin ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from candlebot.events import EventBus, OrderSkipped

if TYPE_CHECKING:
    from candlebot.trading.trader import Trader

_MINIMUMS = (" below ordermin ", " below costmin ")


@dataclass
class SkipTally:
    total: int = 0
    below_minimum: int = 0

    def attach(self, bus: EventBus) -> SkipTally:
        bus.subscribe(self, OrderSkipped)
        return self

    def follow(self, trader: Trader) -> SkipTally:
        """Count ``trader``'s skips as it makes them (``Trader.on_skipped``): no event built, no reason worded."""
        trader.on_skipped.append(self.count)
        return self

    def count(self, below_minimum: bool) -> None:
        self.total += 1
        if below_minimum:
            self.below_minimum += 1

    def __call__(self, event: OrderSkipped) -> None:
        self.total += 1
        reason = event.reason  # two tests written out: a backtest counts tens of thousands of skips
        if _MINIMUMS[0] in reason or _MINIMUMS[1] in reason:
            self.below_minimum += 1
