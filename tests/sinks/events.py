"""One of every event, built from the real core types (for sink tests that need events no backtest emits)."""

from __future__ import annotations

from decimal import Decimal

from candlebot.candle import Candle
from candlebot.events import (
    BooksAudited,
    BotError,
    BotStarted,
    BotStopped,
    CandleClosed,
    DustLeft,
    Event,
    Heartbeat,
    OrderFailed,
    OrderSkipped,
    OrderUnfilled,
    PriceRejected,
    TickerPolled,
    TradeClosed,
    TradeOpened,
)
from candlebot.venue import Fill, Side
from candlebot.trade import BotTrade

T0 = 1_704_067_200.0  # 2024-01-01 00:00 UTC


def buy_fill(order_id: str = "OBUY01-AAAAA-BBBBBB", price: str = "42000.1", volume: str = "0.0123") -> Fill:
    p, v = Decimal(price), Decimal(volume)
    cost = (p * v).quantize(Decimal("0.00001"))
    return Fill(order_id, 1, "XXBTZUSD", Side.BUY, T0, p, v, cost, (cost * Decimal("0.0026")).quantize(Decimal("0.00001")))


def sell_fill(order_id: str = "OSELL1-CCCCC-DDDDDD", price: str = "43000.0", volume: str = "0.0123") -> Fill:
    p, v = Decimal(price), Decimal(volume)
    cost = (p * v).quantize(Decimal("0.00001"))
    return Fill(order_id, 2, "XXBTZUSD", Side.SELL, T0 + 93_600, p, v, cost, (cost * Decimal("0.0026")).quantize(Decimal("0.00001")))


def opened_trade(trade_id: int = 3) -> BotTrade:
    return BotTrade(trade_id, buy_fill())


def closed_trade(trade_id: int = 3, exit_price: str = "43000.0") -> BotTrade:
    return BotTrade(trade_id, buy_fill()).closed_by(sell_fill(price=exit_price))


def every_event() -> list[Event]:
    candle = Candle(int(T0), 42000.0, 42100.0, 41900.0, 42050.5, 12.5)
    return [
        BotStarted(T0, "kraken-sma-1", "XBTUSD", "sma_cross", "paper"),
        TickerPolled(T0 + 1, 42001.5, candle),
        CandleClosed(T0 + 60, candle, {"sma_10": 42010.25, "sma_30": float("nan"), "macd.signal": -1.5},
                     Decimal("9483.40"), Decimal("10001.23"), 1),
        TradeOpened(T0 + 61, opened_trade(), 0.0123),
        TradeOpened(T0 + 62, opened_trade(4), None, recovered=True),
        TradeClosed(T0 + 120, closed_trade(), 0.0456),
        OrderSkipped(T0 + 121, Side.BUY, "1 trades open (num_simultaneous_trades=1)"),
        OrderFailed(T0 + 122, Side.BUY, Decimal("0.5"), 7, "OrderRejected", "EOrder:Insufficient funds"),
        OrderUnfilled(T0 + 122, Side.SELL, Decimal("0.5"), 8, Decimal("41800.0")),
        PriceRejected(T0 + 122, "book", "crossed book: ask 1.0 <= bid 42000.0"),
        DustLeft(T0 + 122, opened_trade()),
        BotError(T0 + 123, "strategy", "sma_cross failed on candle 1704067200: ZeroDivisionError: division by zero"),
        BooksAudited(T0 + 123.5, Decimal("0.0123"), Decimal("0.0100"), ("the books hold 0.0123 XXBT, the account only 0.0100",), True),
        Heartbeat(T0 + 124, 0),
        Heartbeat(T0 + 125, 6),
        BotStopped(T0 + 126, "SIGTERM"),
    ]
