"""The Kraken REST methods the simulator answers, by access level (fault filters are checked against these)."""

from __future__ import annotations

PUBLIC_METHODS = frozenset({"Time", "SystemStatus", "AssetPairs", "Ticker", "OHLC", "Depth", "Trades"})
PRIVATE_METHODS = frozenset({
    "Balance", "BalanceEx", "TradeBalance", "AddOrder", "CancelOrder", "QueryOrders",
    "OpenOrders", "ClosedOrders", "TradesHistory",
})
ALL_METHODS = PUBLIC_METHODS | PRIVATE_METHODS
