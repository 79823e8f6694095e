"""The one convention of every figure called "net P/L": backtest summary, reports, ``candlebot ledger`` and ``status``.

net P/L = closed trades' gross - every fee paid, an open trade's entry fee included (money that has left the account
for good); the open trades themselves are apart, marked at the last price as unrealized P/L (volume x mark - cost),
and net + unrealized = end equity - start cash, the optimizer's default objective ``total_pnl``. A bot's three
commands used to print three figures (the report counted the open trade's entry fee, ledger and status did not).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Mapping

from candlebot.money import ZERO
from candlebot.trade import BotTrade

NET_PNL = "net P/L"
NET_PNL_MEANING = "closed trades' gross - every fee paid, open trades' entry fees included"


def net_pnl(trades: Iterable[BotTrade], cost_decimals: int) -> Decimal:
    """``NET_PNL_MEANING``, at the pair's cost decimals (as a backtest's and a report's metrics round it)."""
    trades = list(trades)
    gross = sum((g for t in trades if (g := t.gross_pnl) is not None), ZERO)
    fees = sum((t.fees for t in trades), ZERO)
    step = Decimal(1).scaleb(-cost_decimals)
    return gross.quantize(step) - fees.quantize(step)


def books_cost_decimals(status: Mapping[str, str], trades: Iterable[BotTrade], default: int = 2) -> int:
    """The pair's cost decimals as the bot recorded them, else as many as the fills' costs carry."""
    if status.get("cost_decimals"):
        return int(status["cost_decimals"])
    costs = [f.cost for t in trades for f in (t.open_fill, t.close_fill) if f is not None]
    return max((-c.as_tuple().exponent for c in costs), default=default)


def net_pnl_line(value: Decimal) -> str:
    """How a person reads it, the same words everywhere."""
    return f"{NET_PNL} {value:f} ({NET_PNL_MEANING})"
