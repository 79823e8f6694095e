"""Trades as plain rows: one per fill, with why the position was left."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Mapping, Sequence

from candlebot.trade import BotTrade


class ExitReason(str, Enum):
    SIGNAL = "signal"  # the strategy's exit rule
    STOP_LOSS = "stop_loss"  # the base's stop_loss_pct
    END_OF_DATA = "end_of_data"  # still open when the backtest's candles ran out: marked at the last close
    OPEN = "open"  # still open in a running bot


@dataclass(frozen=True, slots=True)
class FillMark:
    """One fill as the report draws it; ``pnl`` is the trade's net P/L on its exit fill."""

    time: float
    side: str
    price: Decimal
    volume: Decimal
    cost: Decimal
    fee: Decimal
    trade_id: int
    pnl: Decimal | None = None
    reason: str = ""


def exit_reason(trade: BotTrade, stop_loss_ids: frozenset[int] | set[int], *, backtest: bool) -> ExitReason:
    if trade.close_fill is None:
        return ExitReason.END_OF_DATA if backtest else ExitReason.OPEN
    return ExitReason.STOP_LOSS if trade.trade_id in stop_loss_ids else ExitReason.SIGNAL


def fill_marks(trades: Sequence[BotTrade], reasons: Mapping[int, ExitReason]) -> list[FillMark]:
    """Every fill of every trade, in time order (a fill is never merged or dropped)."""
    marks: list[FillMark] = []
    for trade in trades:
        o = trade.open_fill
        marks.append(FillMark(o.time, "buy", o.price, o.volume, o.cost, o.fee, trade.trade_id))
        c = trade.close_fill
        if c is not None:
            reason = reasons.get(trade.trade_id)
            marks.append(FillMark(c.time, "sell", c.price, c.volume, c.cost, c.fee, trade.trade_id, trade.pnl,
                                  reason.value if reason else ""))
    marks.sort(key=lambda m: (m.time, m.trade_id))
    return marks
