"""What every trial of a study paid on each fill: fee, spread and slippage.

Shown in the header of every result (terminal table, JSON, HTML), since two studies whose tables differ only by
the costs they ran with cannot be compared otherwise (the new-user review ran --spread 0.04% and the table did
not say so).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class TrialCosts:
    fee_rate: Decimal  # fraction per fill
    spread: Decimal  # fraction of the price; each fill pays half of it
    slippage_bps: Decimal
    fee_source: str = ""  # where the fee came from when not typed: "XBTUSD's taker fee"

    def text(self) -> str:
        source = f" ({self.fee_source})" if self.fee_source else ""
        spread = f"spread {percent(self.spread)} (half of it paid on each fill)" if self.spread else "no spread"
        return (f"costs per fill: fee {percent(self.fee_rate)}{source}, {spread}, "
                f"slippage {self.slippage_bps.normalize():f} bps")

    def to_json(self) -> dict[str, Any]:
        return {"fee_rate": str(self.fee_rate), "fee_source": self.fee_source or "--fee", "spread": str(self.spread),
                "slippage_bps": str(self.slippage_bps)}


def percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}%"
