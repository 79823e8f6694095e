"""The lean reference a candlebot backtest is measured against: what a person writes in twenty lines.

    python bench/reference_backtest.py --data FILE --strategy sma_cross|macd [--fast 10 --slow 30] [--books]

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
  final cash). This loop is what ``bench/compare.py`` times.
- **Its sizing is not candlebot's**, so its books differ: 1,668 round trips against candlebot's 1,677 on
  sma_cross over the 1M file (1,681 against 1,687 on macd), traced to the candles: the same signals on the
  same candles, and the first 1,639 trades identical in time and price. This loop spends all the cash at the
  next open. candlebot sizes each buy at its protection price, ``--max-slippage`` (0.5%) above the next open
  floored onto the tick, so that whatever fills it can pay: every trade holds ~0.5% of the cash back (0.60031221
  BTC instead of 0.60331156 on the first), the fees eat the cash a little more slowly, and once the cash nears
  Kraken's 0.0001 BTC minimum (~2 USD, late February 2023) the two runs buy on different signals, candlebot on
  more of them. It also books cost at the pair's 5 decimals (half to even) and rounds the fee up, where floats
  keep every digit. With ``--max-slippage 0`` candlebot books 1,668 trades too, but not the same ones (those
  roundings). Neither is a fault: the conventions differ.
- ``--books`` runs the same loop with candlebot's order convention instead, in integers (prices in tenths,
  volume in satoshis, cash in 1e-5 USD): the volume sized at the protection price (``Ledger.volume_for``: the
  floor of commit / (price x 1.0026), less whole lots until cost + fee fit), refused below the minimums at the
  protection price and at the fill price, filled at the next open, cost half-even, fee rounded up. It books
  candlebot's trades exactly (1,677 on sma_cross and 1,687 on macd, the same entries and volumes and the same
  final cash to the 1e-5 USD, on the 1M file and on its first 481k rows): ``bench/compare.py`` checks the trade
  count and final cash against it, untimed (its integer sizing costs more per signal than the timed loop's).
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
    parser.add_argument("--books", action="store_true", help="size and book as candlebot does (untimed check)")
    args = parser.parse_args()

    frame = pd.read_csv(args.data, usecols=["time", "open", "close"])
    times = frame["time"].to_numpy()
    period = int(np.diff(times).min())
    frame = frame.set_index("time").reindex(np.arange(times[0], times[-1] + period, period))
    closes = frame["close"].ffill().to_numpy()
    opens = frame["open"].fillna(frame["close"].ffill()).to_numpy()
    closes = np.rint(closes / 0.1) / TICK_DIVISOR
    ticks = np.rint(opens / 0.1)
    opens = ticks / TICK_DIVISOR

    if args.strategy == "sma_cross":
        a, b = talib.SMA(closes, args.fast), talib.SMA(closes, args.slow)
    else:
        a, b, _ = talib.MACD(closes, 12, 26, 9)
    a, b, o = a.tolist(), b.tolist(), opens.tolist()
    if args.books:
        trades, final_cash = candlebot_books(a, b, ticks.astype(np.int64).tolist())
        print(json.dumps({"reference": args.strategy, "books": "candlebot", "candles": len(a), "trades": trades,
                          "final_cash": final_cash}))
        return

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


FEE, FEE_SCALE = 26, 10_000  # the 0.26% taker fee as a ratio of integers
SLIPPAGE, SLIPPAGE_SCALE = 1005, 1000  # --max-slippage 0.5%: a buy's protection price is 1.005 x the next open
ORDERMIN = 10_000  # 0.0001 BTC in satoshis
COSTMIN = 5 * 10**8  # 0.5 USD as price-tenths x satoshis (1e-9 USD)


def _cost(tenths: int, sats: int) -> int:
    """Notional in 1e-5 USD (the pair's cost decimals), half to even."""
    units, rest = divmod(tenths * sats, 10_000)
    return units + (rest > 5_000 or (rest == 5_000 and units % 2))


def _fee(cost: int) -> int:
    return -(-cost * FEE // FEE_SCALE)  # rounded up


def _volume_for(cash: int, tenths: int) -> int:
    """Satoshis whose cost plus fee at ``tenths`` fit in ``cash``: candlebot's ``Ledger.volume_for``."""
    per_unit = tenths * (FEE_SCALE + FEE)
    sats = cash * 10**8 // per_unit
    while sats > 0:
        cost = _cost(tenths, sats)
        excess = cost + _fee(cost) - cash
        if excess <= 0:
            break
        sats -= max(1, excess * 10**8 // per_unit)
    return max(sats, 0)


def candlebot_books(a: list[float], b: list[float], ticks: list[int]) -> tuple[int, float]:
    """The loop above with candlebot's sizing and rounding (``--books``): (trades, final cash in USD)."""
    cash, volume, trades = 10_000 * 10**5, 0, 0
    for i in range(1, len(a) - 1):
        if volume == 0:
            if a[i] > b[i] and a[i - 1] <= b[i - 1]:
                price = ticks[i + 1]
                protection = price * SLIPPAGE // SLIPPAGE_SCALE  # floored onto the 0.1 tick
                size = _volume_for(cash, protection)
                if size >= ORDERMIN and protection * size >= COSTMIN and price * size >= COSTMIN:
                    cost = _cost(price, size)
                    cash -= cost + _fee(cost)
                    volume = size
                    trades += 1
        elif a[i] < b[i] and a[i - 1] >= b[i - 1]:
            cost = _cost(ticks[i + 1], volume)
            cash += cost - _fee(cost)
            volume = 0
    return trades, cash / 10**5


if __name__ == "__main__":
    main()
