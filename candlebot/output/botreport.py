"""A running or stopped bot's report: its store turned into the backtest report's plain data (``ReportData``).

The candles and indicator values are those the bot saw (``candlebot.live.diary``);
the fills, the equity and the metrics come from its books exactly as a
backtest's do; the decisions table pairs each order's intent (volume and
protection price, written before it was sent) with its outcome, and lists the
orders the bot did not send and why.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Sequence

import numpy as np

from candlebot.errors import ConfigError
from candlebot.output.lines import plural, utc
from candlebot.output.equity import equity_curve
from candlebot.output.fills import exit_reason, fill_marks
from candlebot.output.metrics import compute_metrics
from candlebot.output.report_data import Decision, IndicatorLine, ReportData
from candlebot.live.store import BotStore, CandleRow, EventRow


def bot_report_data(store: BotStore, name: str) -> ReportData:
    status = store.status()
    rows = store.candles()
    if not rows:
        raise ConfigError(f"bot {name} has recorded no candle yet: nothing to draw (it records them while it runs)")
    times = np.array([r[0] for r in rows], dtype=np.int64)
    opens, highs, lows, closes = (np.array([r[k] for r in rows], dtype=np.float64) for k in (1, 2, 3, 4))
    period = int(status.get("period") or (np.diff(times).min() if len(times) > 1 else 60))
    books = store.load()
    trades = books.trades
    reasons = {t.trade_id: exit_reason(t, books.stop_loss_ids, backtest=False) for t in trades}
    fills = fill_marks(trades, reasons)
    start_cash = Decimal(store.meta("start_cash") or "0")
    cost_decimals = int(status.get("cost_decimals") or _places([f.cost for f in fills], 2))
    curve = equity_curve(fills, times, closes, period, float(start_cash))
    metrics = compute_metrics(curve=curve, start_cash=start_cash, trades=trades, reasons=reasons,
                              mark=Decimal(repr(float(closes[-1]))), first_open=float(opens[0]), last_close=float(closes[-1]),
                              round_cost=lambda amount: amount.quantize(Decimal(1).scaleb(-cost_decimals)))
    orders = store.orders()
    decisions = decisions_of(orders, store.events())
    strategy, mode = status.get("strategy", "?"), status.get("mode", "?")
    pair = status.get("pair") or store.meta("pair") or "?"
    counts = {kind: sum(1 for d in decisions if d.kind == kind) for kind in ("skipped", "rejected", "unfilled", "failed")}
    # a kill can lose the diary's last tick: a fill after the newest candle is listed, its candle was never written
    unplaced = sum(1 for f in fills if f.time >= times[-1] + period)
    size = f"{period}s" if period < 60 else f"{period / 60:g} min"
    return ReportData(
        title=f"bot {name}: {strategy} on {pair} ({mode})",
        subtitle=f"{size} candles, {utc(float(times[0]))} .. {utc(float(times[-1]))} UTC | {len(times):,} candles, "
                 f"{plural(len(trades), 'trade')}, {plural(len(orders), 'order')} sent, {len(books.pending)} pending | "
                 + ", ".join(f"{n} {kind}" for kind, n in counts.items())
                 + (f" | {unplaced} fills after the last recorded candle" if unplaced else ""),
        pair=pair,
        period_s=period,
        price_decimals=int(status.get("price_decimals") or _places([f.price for f in fills], 1)),
        volume_decimals=int(status.get("volume_decimals") or _places([f.volume for f in fills], 8)),
        cost_decimals=cost_decimals,
        times=times,
        opens=opens,
        highs=highs,
        lows=lows,
        closes=closes,
        lines=_lines(rows),
        fills=tuple(fills),
        start_cash=float(start_cash),
        metrics=metrics,
        decisions=tuple(decisions),
    )


def decisions_of(orders: Sequence[dict[str, object]], events: Sequence[EventRow]) -> list[Decision]:
    """Each order once (intent -> final outcome) and every event as reported at its time, in time order."""
    reported: dict[int, str] = {}
    decisions = []
    for time_, kind, side, userref, detail in events:
        if userref is not None:
            reported[userref] = detail  # the latest word on an order, for one still pending
        decisions.append(Decision(time_, kind, side or "", userref, "", detail))
    for o in orders:
        sent = limit_words(str(o["side"]), o["volume"], o["limit_price"])
        if o["status"] == "filled":
            outcome = f"filled {o['fill_volume']} @ {o['price']}, cost {o['cost']}, fee {o['fee']} (order {o['order_id']})"
        elif o["status"] == "failed":
            outcome = f"failed: {o['error']}"
        else:
            outcome = "pending: outcome unknown, looked up by userref at the next start" + (
                f" (last: {reported[o['userref']]})" if o["userref"] in reported else "")
        decisions.append(Decision(float(o["created"]), "order", str(o["side"]), int(o["userref"]), sent, outcome))
    decisions.sort(key=lambda d: d.time)
    return decisions


def limit_words(side: str, volume: object, limit: object) -> str:
    """What an order asked for, in words: a buy limit is the most it pays, a sell limit the least it accepts."""
    if not limit:
        return f"{side} {volume} at the market"
    return f"{side} {volume} at {limit} or " + ("less" if side == "buy" else "more")


def _lines(rows: Sequence[CandleRow]) -> tuple[IndicatorLine, ...]:
    values = [json.loads(r[6]) if r[6] else {} for r in rows]
    names = list(dict.fromkeys(name for v in values for name in v))
    return tuple(IndicatorLine(name, np.array([v.get(name, np.nan) for v in values], dtype=np.float64)) for name in names)


def _places(amounts: Sequence[Decimal], default: int) -> int:
    """Decimals of amounts as Kraken sent them (a file written before the bot recorded its pair's decimals)."""
    return max((-a.as_tuple().exponent for a in amounts), default=default)
