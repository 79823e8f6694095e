"""The original bot's console lines: the ticker line per poll or candle, the ledger line per trade.

    Open: 7915.5 Close: 7921.0 High: 7930.0 Low: 7915.5 Current: 7921.0        (a closed candle)
    Open: 7915.5 High: 7915.5 Low: 7915.5 Current: 7915.5 (candle forming)     (a poll)
    2018-04-13 14:54:50 / 2018-04-15 11:08:10 O534UO-LTVCP-6NNUMC BUY 0.002 @ 8121.2 = $16.2424 OSR3G5-THKZ5-CYHFVJ CLOSED Exit Price: 8364.2 net P/L: $0.3862 | price move: $243.0 (2.992%)

An open trade shows ``OPEN`` and is marked at the latest price instead of an exit: ``Mark: 8200.1
unrealized net P/L: $...`` (after its entry fee, before any exit fee). The original printed two bare
dollar amounts after ``P/L:``; they are labelled here (net P/L of the trade, then the price move).
The original's per-poll line printed ``Close: None`` for the candle still forming; here it says so in words.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from candlebot.candle import Candle
from candlebot.clock import utc
from candlebot.trade import BotTrade


def ticker_line(forming: Candle | None, current: float, closed: bool = False) -> str:
    """``closed`` shows the candle's close; a forming candle has no close yet, and says so instead."""
    if forming is None:
        return f"Current: {current} (no candle yet)"
    if closed:
        return f"Open: {forming.open} Close: {forming.close} High: {forming.high} Low: {forming.low} Current: {current}"
    return f"Open: {forming.open} High: {forming.high} Low: {forming.low} Current: {current} (candle forming)"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 trade``, ``2 trades``, ``1,200 candles`` (``many`` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def duration_text(seconds: float | None) -> str:
    """``13d 20h``, ``2h 05m``, ``24m 49s``: the text summary's and the HTML report's durations (a report of 6 s
    candles read "holding 0.0 h" in hours to one decimal)."""
    if seconds is None:
        return "n/a"
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {int(seconds) % 60:02d}s"


def fields_line(fields: Mapping[str, object]) -> str:
    """``key=value`` pairs for a person and for grep: fields without a value (None, "") are left out."""
    return " ".join(f"{key}={value}" for key, value in fields.items() if value is not None and value != "")


def ledger_line(trade: BotTrade, mark: Decimal | None) -> str:
    """``mark`` prices an open trade (the latest close); None when no price is known (then no P/L is shown)."""
    opened = trade.open_fill
    head = f"{utc(opened.time)} / "
    body = f"{opened.order_id} {trade.side.value.upper()} {trade.volume} @ {trade.entry_price} = ${opened.cost}"
    closed = trade.close_fill
    if closed is None:
        if mark is None:
            return f"{head}{'-':<19} {body} - OPEN Mark: unknown (no price yet)"
        move = mark - trade.entry_price
        unrealised = (mark * trade.volume - opened.cost) - opened.fee
        tail = f"- OPEN Mark: {mark} unrealized net P/L: ${unrealised.quantize(opened.cost)}"
        return f"{head}{'-':<19} {body} {tail} | price move: ${move} ({_pct(move, trade.entry_price)}%)"
    move = closed.price - trade.entry_price
    tail = f"{closed.order_id} CLOSED Exit Price: {closed.price} net P/L: ${trade.pnl}"
    return f"{head}{utc(closed.time)} {body} {tail} | price move: ${move} ({_pct(move, trade.entry_price)}%)"


def _pct(move: Decimal, base: Decimal) -> str:
    return f"{float(move / base * 100):.3f}" if base else "0.000"
