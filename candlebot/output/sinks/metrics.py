"""Every metric candlebot sends to DogStatsD: its name, type, unit, tags and the event it comes from.

The StatsD sink refers to these constants only; tests check
``deploy/datadog/dashboard.json`` and the README's metrics table against
``METRICS``. Every metric also carries the constant tags ``bot``, ``pair``,
``strategy`` and ``mode``.

Indicators use one metric, ``candlebot.indicator``, tagged ``indicator:<name>``
(``sma_10``, ``macd_12_26_9.signal``): any strategy's lines show up without a
new metric name, and a dashboard graphs them all with ``by {indicator}``.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "candlebot."
CONSTANT_TAGS = ("bot", "pair", "strategy", "mode")


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # gauge | count | distribution
    unit: str
    source: str
    description: str
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.startswith(PREFIX):
            raise ValueError(f"metric {self.name} is not under {PREFIX}")
        if self.kind not in ("gauge", "count", "distribution"):
            raise ValueError(f"metric {self.name}: unknown kind {self.kind}")


PRICE = Metric("candlebot.price", "gauge", "quote", "TickerPolled", "last traded price at each ticker poll")
CANDLE_CLOSE = Metric("candlebot.candle.close", "gauge", "quote", "CandleClosed", "close of the candle that just closed")
CANDLES_CLOSED = Metric("candlebot.candles.closed", "count", "candles", "CandleClosed", "candles closed (strategy ticks)")
INDICATOR = Metric("candlebot.indicator", "gauge", "value", "CandleClosed",
                   "each indicator line the strategy reads, NaN (warm-up) skipped", ("indicator",))
CASH = Metric("candlebot.cash", "gauge", "quote", "CandleClosed", "free quote balance in the ledger")
EQUITY = Metric("candlebot.equity", "gauge", "quote", "CandleClosed", "cash + open positions marked at the close")
POSITIONS_OPEN = Metric("candlebot.positions.open", "gauge", "trades", "CandleClosed", "trades open at the close")
TRADES_OPENED = Metric("candlebot.trades.opened", "count", "trades", "TradeOpened", "trades opened (buy fills)")
TRADES_CLOSED = Metric("candlebot.trades.closed", "count", "trades", "TradeClosed",
                       "trades closed; result:win when net P/L > 0, else loss; exit:signal or stop_loss", ("result", "exit"))
TRADE_PNL = Metric("candlebot.trade.pnl", "distribution", "quote", "TradeClosed", "net P/L of each closed trade (after both fees)")
PNL_CUMULATIVE = Metric("candlebot.pnl.cumulative", "gauge", "quote", "TradeClosed",
                        "net P/L of the trades closed since the process started")
FEES_PAID = Metric("candlebot.fees.paid", "count", "quote", "TradeOpened/TradeClosed", "fee of each fill, summed per interval")
FEES_CUMULATIVE = Metric("candlebot.fees.cumulative", "gauge", "quote", "TradeOpened/TradeClosed", "fees paid since the process started")
ORDER_LATENCY = Metric("candlebot.order.latency", "distribution", "seconds", "TradeOpened/TradeClosed",
                       "order round trip: sent to fill booked", ("side",))
ORDERS_SKIPPED = Metric("candlebot.orders.skipped", "count", "orders", "OrderSkipped", "orders the risk checks did not send", ("side",))
ORDERS_FAILED = Metric("candlebot.orders.failed", "count", "orders", "OrderFailed",
                       "orders refused or with an unknown outcome; error: the error class", ("side", "error"))
ORDERS_UNFILLED = Metric("candlebot.orders.unfilled", "count", "orders", "OrderUnfilled",
                         "protected orders that executed nothing within their protection price", ("side",))
PRICES_REJECTED = Metric("candlebot.prices.rejected", "count", "prices", "PriceRejected",
                         "tickers or books refused as impossible, crossed or too far from the last trade/close, "
                         "and books that could not be read for an order; source: ticker or book", ("source",))
DUST = Metric("candlebot.dust", "count", "trades", "DustLeft", "open remainders below ordermin/costmin, kept and never sold")
ERRORS = Metric("candlebot.errors", "count", "errors", "BotError", "errors the bot survived, by kind", ("kind",))
FILLS_RECOVERED = Metric("candlebot.fills.recovered", "count", "fills", "TradeOpened/TradeClosed",
                         "fills found by a userref lookup (restart, lost reply) rather than as the order's reply", ("side",))
AUDIT_PROBLEMS = Metric("candlebot.audit.problems", "gauge", "problems", "BooksAudited",
                        "disagreements between the books and the account at the latest audit (live; 0 = they agree)")
AUDIT_HOLD = Metric("candlebot.audit.hold", "gauge", "bool", "BooksAudited",
                    "1 while an audit hold stops the bot sending any order (a shortage of the key's account: until "
                    "the account covers the fleet's books; an order mismatch: until a person clears it)")
HEARTBEATS = Metric("candlebot.heartbeat", "count", "beats", "Heartbeat", "one per bot loop iteration")
HEARTBEAT_FAILURES = Metric("candlebot.heartbeat.failures", "gauge", "polls", "Heartbeat", "consecutive failed exchange polls")
BOT_STARTED = Metric("candlebot.bot.started", "count", "starts", "BotStarted", "bot (re)starts")
BOT_STOPPED = Metric("candlebot.bot.stopped", "count", "stops", "BotStopped", "clean bot stops")
SINK_DROPPED = Metric("candlebot.sink.dropped", "count", "events", "any sink queue",
                      "events a sink queue dropped because it was full", ("sink",))

METRICS: tuple[Metric, ...] = tuple(value for value in globals().values() if isinstance(value, Metric))
METRIC_NAMES: frozenset[str] = frozenset(metric.name for metric in METRICS)
