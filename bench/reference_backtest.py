"""The lean reference a candlebot backtest is measured against: what a person writes in twenty lines.

    python bench/reference_backtest.py --data FILE --strategy sma_cross|macd [--fast 10 --slow 30]

- **Reading**: pandas ``read_csv`` (its C parser; gzip by the file name), the columns as numpy arrays.
- **The same candle convention as candlebot** (so that both compute the same backtest, and the ratio compares
  equal work): every period without a row becomes a flat candle at the previous close (a reindex onto the
  file's own grid and a forward fill), and open and close are rounded onto XBTUSD's 0.1 tick, half to even,
  as ``np.rint(price / 0.1) / 10`` (the double nearest to the decimal, as candlebot rounds). High, low and
  volume are not read by the rule, so the reference leaves them alone.
- **Indicators**: TA-Lib once over the whole close array (``SMA`` fast/slow, or ``MACD`` 12/26/9 line vs signal).
- **A bare Python loop** over lists: decide on candle i's close, fill at candle i+1's open, the pair's 0.26%
  taker fee on both fills, volume floored to 8 decimals, Kraken's minimums (0.0001 BTC, 0.5 USD). Floats, no
  Decimal, no objects, no events, no protection price, no report beyond one JSON line (candles, trades,
  final cash). ``bench/compare.py`` prints its trade count beside candlebot's: close, not equal (1,668 against
  1,677 round trips on sma_cross over the 1M file; not yet traced: floats and the float minimum checks here
  are the likely cause). The ratio compares the work of the same rule on the same candles, not the books.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pandas as pd
import talib

TICK_DIVISOR = 10.0  # XBTUSD's 0.1 tick: k / 10 is the double nearest to k x 0.1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--strategy", choices=("sma_cross", "macd"), required=True)
    parser.add_argument("--fast", type=int, default=10)
    parser.add_argument("--slow", type=int, default=30)
    args = parser.parse_args()

    frame = pd.read_csv(args.data, usecols=["time", "open", "close"])
    times = frame["time"].to_numpy()
    period = int(np.diff(times).min())
    frame = frame.set_index("time").reindex(np.arange(times[0], times[-1] + period, period))
    closes = frame["close"].ffill().to_numpy()
    opens = frame["open"].fillna(frame["close"].ffill()).to_numpy()
    closes = np.rint(closes / 0.1) / TICK_DIVISOR
    opens = np.rint(opens / 0.1) / TICK_DIVISOR

    if args.strategy == "sma_cross":
        a, b = talib.SMA(closes, args.fast), talib.SMA(closes, args.slow)
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
    print(json.dumps({"reference": args.strategy, "candles": len(a), "trades": trades, "final_cash": round(cash, 2)}))


if __name__ == "__main__":
    main()
