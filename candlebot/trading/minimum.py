"""A buy that cannot reach the pair's order minimum, told from a float price before any Decimal sizing.

Once a backtest's cash has run out, every buy signal still sizes an order (the book, the protection price, the
volume in Decimal) only to skip it below ``ordermin``: ~25 us each, most of a long backtest's loop. The volume
the trader sizes is at most ``commit / (ceiling x (1 + fee))``, where the protection ceiling is at least
``ask x (1 + max_slippage) - tick - 10^-pair_decimals`` and the ask is at least the venue's raw price (spread,
slippage and rounding only raise a buy's price). So at a raw price above ``short_above(commit)`` the sized volume
is below ``ordermin`` whatever the Decimal arithmetic finds, and the buy is skipped for that same reason. The
bound keeps a relative margin of 1e-9 for the float/Decimal conversions: a price near it takes the full path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from candlebot.money import step
from candlebot.pair import PairInfo

_MARGIN = 1 + 1e-9  # far beyond a float's relative error (1.1e-16) and Decimal's 28 digits


@dataclass(slots=True)
class OrderminBound:
    """``short_above(commit)``: the raw price above which ``commit`` buys less than the pair's ``ordermin``
    (``inf`` when no price is; remembered for the last commit, which stays the same while the cash does)."""

    pair: PairInfo
    fee_rate: Decimal
    max_slippage: Decimal
    _last: tuple[Decimal, float] | None = field(default=None, repr=False)
    _worded: tuple[Decimal, str] | None = field(default=None, repr=False)

    def short_above(self, commit: Decimal) -> float:
        last = self._last
        if last is not None and last[0] == commit:
            return last[1]
        pair = self.pair
        if pair.ordermin <= 0 or commit < 0:
            bound = float("inf")
        else:
            ceiling = commit / (pair.ordermin * (1 + self.fee_rate))  # a ceiling above this buys < ordermin
            bound = float((ceiling + pair.tick_size + step(pair.pair_decimals)) / (1 + self.max_slippage)) * _MARGIN
        self._last = (commit, bound)
        return bound

    def reason(self, commit: Decimal, ask: float) -> str:
        """Why the buy is skipped, as the trader words it; the Decimal part is formatted once per commit (a backtest
        out of cash skips tens of thousands of buys, and formatting the whole text was ~2 us of each)."""
        worded = self._worded
        if worded is None or worded[0].compare_total(commit):  # not 0: another value, or 1.5 against 1.50
            pair = self.pair
            worded = self._worded = (commit, f"{commit} {pair.quote} buys a volume below ordermin {pair.ordermin} "
                                             f"{pair.base} at ")
        return f"{worded[1]}{ask} or more"
