"""A reproducible synthetic BTC/USD-like price path, for demos and runs without data files or network.

Generated, not recorded: a random walk with switching volatility and drift
regimes (so trend and mean-reversion strategies both have something to do),
1-minute candles, seeded so every machine gets the same candles.
"""

from __future__ import annotations

import numpy as np

from candlebot.data.candlefile import CandleColumns

DEMO_START = 1_704_067_200  # 2024-01-01 00:00 UTC


def demo_candles(days: int = 30, seed: int = 7, start: int = DEMO_START, price: float = 42_000.0) -> CandleColumns:
    """``days`` of 1-minute candles; each candle's path is 12 five-second steps."""
    rng = np.random.default_rng(seed)
    minutes = days * 24 * 60
    steps = minutes * 12
    regime_len = 6 * 60 * 12  # regimes last about six hours
    regimes = -(-steps // regime_len)
    vol = rng.choice([0.00012, 0.00023, 0.00045], size=regimes)  # ~1.5%..6% a day
    drift = rng.normal(0.0, 0.000002, size=regimes)  # ~±1% a regime
    per_step_vol = np.repeat(vol, regime_len)[:steps]
    per_step_drift = np.repeat(drift, regime_len)[:steps]
    log_returns = per_step_drift + per_step_vol * rng.standard_normal(steps)
    path = price * np.exp(np.cumsum(log_returns))
    path = np.round(path, 1).reshape(minutes, 12)
    opens = np.r_[price, path[:-1, -1]]
    closes = path[:, -1]
    highs = np.maximum(path.max(axis=1), opens)
    lows = np.minimum(path.min(axis=1), opens)
    volumes = np.round(rng.gamma(2.0, 1.5, size=minutes) * (vol.repeat(regime_len)[:steps:12] / 0.00023), 8)
    times = start + 60 * np.arange(minutes, dtype=np.int64)
    return CandleColumns(times, opens, highs, lows, closes, volumes)
