"""Orders a run decided not to send, counted for its summary next to its trades.

A stake too small for the pair makes every buy fall below Kraken's order minimum: the run then shows
``trades 0`` and nothing else would say why. The minimum is told apart by the trader's reason text
(``PairInfo.below_minimum``: "... below ordermin ..." / "... below costmin ...").
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.events import EventBus, OrderSkipped

_MINIMUMS = (" below ordermin ", " below costmin ")


@dataclass
class SkipTally:
    total: int = 0
    below_minimum: int = 0

    def attach(self, bus: EventBus) -> SkipTally:
        bus.subscribe(self, OrderSkipped)
        return self

    def __call__(self, event: OrderSkipped) -> None:
        self.total += 1
        reason = event.reason  # two tests written out: a backtest counts tens of thousands of skips
        if _MINIMUMS[0] in reason or _MINIMUMS[1] in reason:
            self.below_minimum += 1
