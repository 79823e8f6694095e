"""Warm-up history (the adapter's ``History``) from Kraken's OHLC (resampled when -p is not a Kraken interval) and, below a minute, from trades."""

from __future__ import annotations

import time

import pytest

from candlebot.exchanges.kraken import KrakenConfig, KrakenExchange
from tests.support.bots import start_simulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kraken(tmp_path_factory):
    sim = start_simulator()
    exchange = KrakenExchange(KrakenConfig(url=sim.url, tier="none", timeout=5), state_dir=tmp_path_factory.mktemp("state"))
    yield exchange
    exchange.close()
    sim.stop()


@pytest.mark.parametrize("period, source_minutes", [(60, 1), (300, 5), (120, 1), (600, 5), (3, None)])
def test_warm_up_candles_are_closed_aligned_and_match_krakens_own(kraken, period, source_minutes):
    now = time.time()
    candles = kraken.latest_candles("XBTUSD", period, 40, now)

    assert len(candles) == 40
    assert all(c.time % period == 0 for c in candles)
    assert candles[-1].time + period <= now + 1  # the forming period is left out
    assert [b.time - a.time for a, b in zip(candles, candles[1:])] == [period] * 39  # the generated market trades every second
    if source_minutes is not None:  # each candle aggregates Kraken's own candles of its span exactly
        per = period // (source_minutes * 60)
        raw = {c.time: c for c in kraken.closed_candles("XBTUSD", source_minutes, 40 * per + per)}
        for candle in candles:
            parts = [raw[candle.time + k * source_minutes * 60] for k in range(per)]
            assert (candle.open, candle.high, candle.low, candle.close) == (
                parts[0].open, max(p.high for p in parts), min(p.low for p in parts), parts[-1].close)
            assert candle.volume == pytest.approx(sum(p.volume for p in parts), rel=1e-12)
