"""A bot's own record replayed as a backtest, decision by decision: the check that the backtest predicts the bot.

The bot's file holds the candles it charted (its warm-up from Kraken's OHLC, then one per period), what it
ran (strategy, parameters, fee, stake, protection) and every order and event. The backtest runs the same
strategy on those very candles from the candle the bot started on, earlier ones warming it up as they warmed
the bot. A decision on candle i's close is an order in the period after it, and the backtest fills it at that
candle's open: so both sides are keyed by (the candle the order belongs to, side). Where only one side
decided, the bot's events around that candle name the cause.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Sequence

import numpy as np

from candlebot.chart import Chart
from candlebot.errors import ConfigError
from candlebot.live.store import BotStore

CAUSES = ("refused", "unfilled", "partial", "price guard", "audit hold", "outage", "strategy error", "different candle",
          "no position")


@dataclass(frozen=True)
class BotRecord:
    """What a bot's file says it saw and ran."""

    name: str
    pair: str
    mode: str
    strategy: str
    strategy_spec: str | None  # module:Class, to import it again
    params: tuple[str, ...]
    period: int
    fee_rate: Decimal | None
    max_slippage: Decimal | None
    stake: Decimal | None
    start_cash: Decimal
    chart: Chart  # closed candles only
    first_start: float  # the first time the bot started
    orders: tuple[dict[str, Any], ...]
    events: tuple[tuple[float, str, str | None, int | None, str], ...]


@dataclass(frozen=True)
class Side:
    """One side's decision at a candle: the price and the money it moved (cost + fee for a buy, what it got for a sell)."""

    price: Decimal
    volume: Decimal
    money: Decimal


@dataclass(frozen=True)
class Comparison:
    candle: int  # open time of the candle the order belongs to (the backtest's fill candle)
    side: str
    bot: Side | None
    backtest: Side | None
    cause: str | None  # None: both decided alike

    @property
    def agrees(self) -> bool:
        return self.cause is None

    @property
    def price_difference(self) -> Decimal | None:
        """Per unit: what the bot paid more (buy) or got less (sell) than the backtest; + is worse for the bot.
        Apart from the volume, so that a fill at the backtest's own price reads 0 whatever the volumes."""
        if self.bot is None or self.backtest is None:
            return None
        return self.bot.price - self.backtest.price if self.side == "buy" else self.backtest.price - self.bot.price

    @property
    def volume_difference(self) -> Decimal | None:
        """The bot's volume less the backtest's (sizing: its cash and fees, a partial fill)."""
        if self.bot is None or self.backtest is None:
            return None
        return self.bot.volume - self.backtest.volume


def read_record(store: BotStore, name: str) -> BotRecord:
    status = store.status()
    rows = store.candles()
    if not status.get("strategy") or not rows:
        raise ConfigError(f"bot {name} has recorded nothing to replay yet (it records its candles while it runs)")
    period = int(status.get("period") or 0)
    if period <= 0:
        raise ConfigError(f"bot {name}: its file does not say its candle period")
    seen = max((float(status.get(key) or 0) for key in ("price_time", "heartbeat", "stopped")), default=0.0)
    closed = [r for r in rows if r[0] + period <= seen] or rows[:-1]
    columns = [np.array([r[k] for r in closed], dtype=np.float64) for k in range(6)]
    chart = Chart.from_arrays(status.get("pair", "?"), period, columns[0].astype(np.int64), *columns[1:])
    events = tuple(store.events())
    starts = [e[0] for e in events if e[1] == "started"]
    first_start = min(starts) if starts else float(status.get("started") or closed[0][0])
    return BotRecord(
        name=name, pair=status.get("pair") or store.meta("pair") or "?", mode=status.get("mode", "?"),
        strategy=status["strategy"], strategy_spec=status.get("strategy_spec") or None, params=tuple(json.loads(status.get("params") or "[]")), period=period,
        fee_rate=_decimal(status.get("fee_rate")), max_slippage=_decimal(status.get("max_slippage")),
        stake=_decimal(status.get("stake")), start_cash=Decimal(store.meta("start_cash") or "0"), chart=chart,
        first_start=first_start, orders=tuple(store.orders()), events=events)


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


def compare(record: BotRecord, backtest_fills: Sequence[Any]) -> list[Comparison]:
    """Every decision of either side, in candle order, with the cause of each divergence. An order the bot
    placed in the candle still forming (decided on the last closed one) is left out: the backtest has no
    later open to fill it at, as at the end of any data."""
    period = record.period
    bot: dict[tuple[int, str], tuple[Side, dict[str, Any]]] = {}
    for order in record.orders:
        if order["status"] != "filled":
            continue
        key = (int(float(order["created"]) // period * period), str(order["side"]))
        cost, fee = Decimal(str(order["cost"])), Decimal(str(order["fee"]))
        bot[key] = (Side(Decimal(str(order["price"])), Decimal(str(order["fill_volume"])),
                         cost + fee if order["side"] == "buy" else cost - fee), order)
    tested: dict[tuple[int, str], Side] = {}
    for fill in backtest_fills:
        side = fill.side.value
        tested[(int(fill.time), side)] = Side(fill.price, fill.volume,
                                              fill.cost + fill.fee if side == "buy" else fill.cost - fill.fee)
    times = set(int(t) for t in record.chart.times)
    last = int(record.chart.times[-1]) if len(record.chart) else 0
    comparisons = []
    missed: dict[str, Comparison | None] = {"bot": None, "backtest": None}  # the buy only the other side made
    for key in sorted(set(bot) | set(tested)):
        if key[0] > last:  # decided on the last closed candle: the backtest has no later open to fill at
            continue
        ours, order = bot.get(key, (None, None))
        theirs = tested.get(key)
        cause = None
        if ours is None or theirs is None:
            cause = _cause(record, key, times, bot if ours is None else tested)
        elif order is not None and Decimal(str(order["fill_volume"])) < Decimal(str(order["volume"])):
            cause = "partial"
        comparison = Comparison(key[0], key[1], ours, theirs, cause)
        cause = _no_position(comparison, missed) or cause
        comparisons.append(replace(comparison, cause=cause))
    return comparisons


def _no_position(c: Comparison, missed: dict[str, Comparison | None]) -> str | None:
    """The cause of a sell only one side made after a buy only it made: the other side had nothing to sell (its
    events at the sell's candle, "different candle", said nothing of why). Updates ``missed``."""
    if c.side == "buy":
        missed["bot"] = c if c.bot is None else None
        missed["backtest"] = c if c.backtest is None else None
        return None
    who = "bot" if c.bot is None else "backtest" if c.backtest is None else None
    buy = missed[who] if who else None
    missed["bot"] = missed["backtest"] = None
    if buy is None:
        return None
    return f"no position: the {who} did not buy at {utc_seconds(buy.candle)} ({buy.cause})"


def after_the_record(record: BotRecord) -> int:
    """The bot's filled orders in the candle still forming: ``compare`` cannot compare them."""
    last = int(record.chart.times[-1]) if len(record.chart) else 0
    return sum(1 for o in record.orders
               if o["status"] == "filled" and int(float(o["created"]) // record.period * record.period) > last)


def _cause(record: BotRecord, key: tuple[int, str], times: set[int], other: dict[tuple[int, str], Any]) -> str:
    """Why only one side decided at this candle, from the bot's events in that period."""
    candle, side = key
    period = record.period
    happened = [e for e in record.events if candle <= e[0] < candle + period and (e[2] in (None, side))]
    kinds = {e[1] for e in happened}
    details = " ".join(e[4] for e in happened).lower()
    refusals = [str(o["error"] or "no reason recorded") for o in record.orders
                if o["side"] == side and o["status"] == "failed" and candle <= float(o["created"]) < candle + period]
    if refusals:  # the exchange said no: not the same as an order that met no price within its protection
        return "refused: " + "; ".join(refusals)
    if "failed" in kinds:
        return "refused: " + "; ".join(e[4] for e in happened if e[1] == "failed")
    if "unfilled" in kinds:
        return "unfilled"
    if "rejected" in kinds:
        return "price guard"
    if "skipped" in kinds and "hold" in details:
        return "audit hold"
    if "error" in kinds and "strategy" in details:
        return "strategy error"
    decided_on = candle - period
    if decided_on not in times or (decided_on - period) not in times:
        return "outage"
    return "different candle"


def paid(comparisons: Sequence[Comparison], opens: dict[int, float]) -> tuple[float, float] | None:
    """(mean, median) of what the bot's fills paid against the candle's open, as a fraction: half a spread plus
    slippage. None without a filled bot order on a recorded candle."""
    costs = []
    for c in comparisons:
        if c.bot is not None and c.candle in opens:
            reference = opens[c.candle]
            price = float(c.bot.price)
            costs.append((price - reference) / reference if c.side == "buy" else (reference - price) / reference)
    if not costs:
        return None
    return sum(costs) / len(costs), statistics.median(costs)


def suggested_spread(mean_cost: float) -> str:
    """The ``--spread`` that charges a backtest fill what the bot's fills paid on average (twice the half)."""
    spread = max(0.0, 2 * mean_cost)
    return "0" if spread == 0 else f"{spread:.6f}".rstrip("0") if spread >= 1e-6 else f"{spread:.2e}"


def utc_seconds(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if math.isfinite(ts) else "-"
