"""The minimal reference a backtest engine is measured against: numpy's CSV reader, TA-Lib once over
the arrays, and a bare Python loop with candlebot's fill rule (decide on candle i's close, fill at
candle i+1's open, 0.26% fee on both fills, lot and minimum checks). No objects, no events, no Decimal.

    python bench/reference_backtest.py --data FILE --strategy sma_cross|macd
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import talib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--strategy", choices=("sma_cross", "macd"), required=True)
    args = parser.parse_args()

    table = np.loadtxt(args.data, delimiter=",", skiprows=1, usecols=range(6))
    opens, closes = table[:, 1].copy(), table[:, 4].copy()
    del table
    if args.strategy == "sma_cross":
        a, b = talib.SMA(closes, 10), talib.SMA(closes, 30)
    else:
        a, b, _ = talib.MACD(closes, 12, 26, 9)
    a, b, o = a.tolist(), b.tolist(), opens.tolist()

    fee, cash, volume, trades = 0.0026, 10_000.0, 0.0, 0
    for i in range(1, len(a) - 1):
        if volume == 0.0:
            if a[i] > b[i] and a[i - 1] <= b[i - 1]:
                price = o[i + 1]
                size = math.floor(cash / (price * (1 + fee)) * 1e8) / 1e8
                if size >= 0.0001 and size * price >= 0.5:
                    cost = price * size
                    cash -= cost + cost * fee
                    volume = size
                    trades += 1
        elif a[i] < b[i] and a[i - 1] >= b[i - 1]:
            proceeds = o[i + 1] * volume
            cash += proceeds - proceeds * fee
            volume = 0.0
    print(f"reference {args.strategy}: {len(a)} candles, {trades} trades, final cash {cash:.2f}")


if __name__ == "__main__":
    main()
