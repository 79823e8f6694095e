"""The Kraken REST methods the simulator answers, by access level (fault filters are checked against these)."""

from __future__ import annotations

PUBLIC_METHODS = frozenset({"Time", "SystemStatus", "Assets", "AssetPairs", "Ticker", "OHLC", "Depth", "Trades",
                            "Spread"})
PRIVATE_METHODS = frozenset({
    "Balance", "BalanceEx", "TradeBalance", "AddOrder", "CancelOrder", "QueryOrders",
    "OpenOrders", "ClosedOrders", "TradesHistory", "TradeVolume", "CancelAll",
})
ALL_METHODS = PUBLIC_METHODS | PRIVATE_METHODS
