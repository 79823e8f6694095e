"""A warm-up built from trades (periods under a minute) fills only the candles it returns: a pair whose last trade
is months old once made a flat one-second candle for every second since, gigabytes before the first poll (found
when a test replayed 2023 trades to a bot running in 2026)."""

from __future__ import annotations

import tracemalloc

from candlebot.data.history import latest_closed_candles

NOW = 1_765_000_000.5  # late 2025
YEARS_AGO = 1_672_531_200.0  # 2023-01-01


def _no_ohlc(interval: int, rows: int) -> list:
    raise AssertionError("sub-minute periods warm up from trades")


def test_trades_from_years_ago_give_the_last_closes_flat_and_cost_no_memory():
    trades = [(YEARS_AGO + i, 100.0 - i / 10, 0.5) for i in range(30)]  # a burst of 30 trades, then nothing
    tracemalloc.start()
    try:
        candles = latest_closed_candles(1, 50, NOW, ohlc=_no_ohlc, trades=lambda: trades)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"{peak} bytes for 50 candles"
    last = int(NOW) - 1
    assert [c.time for c in candles] == list(range(last - 49, last + 1))
    assert all((c.open, c.high, c.low, c.close, c.volume) == (97.1, 97.1, 97.1, 97.1, 0) for c in candles)


def test_recent_trades_inside_the_window_are_kept_as_they_were():
    recent = [(NOW - 20 + i * 0.1, 100.0 + i, 1.0) for i in range(150)]  # up to 5 s before now
    trades = [(YEARS_AGO, 40.0, 1.0), (YEARS_AGO + 1, 50.0, 1.0), *recent]  # the first period is partial: left out
    candles = latest_closed_candles(1, 30, NOW, ohlc=_no_ohlc, trades=lambda: trades)
    assert [c.time for c in candles] == list(range(int(NOW) - 30, int(NOW)))
    for c in candles:
        inside = [p for t, p, v in recent if c.time <= t < c.time + 1]
        if inside:  # a second with trades: its own open, high, low and close
            assert (c.open, c.high, c.low, c.close, c.volume) == (inside[0], max(inside), min(inside), inside[-1], len(inside))
        elif c.time < recent[0][0]:  # before them: flat at the old trade's price, the last close there was
            assert (c.open, c.close, c.volume) == (50.0, 50.0, 0)
        else:  # after them: flat at the last price
            assert (c.open, c.close, c.volume) == (recent[-1][1], recent[-1][1], 0)
