"""Warm-up history (the adapter's ``History``) from Kraken's OHLC (resampled when -p is not a Kraken interval) and, below a minute, from trades."""

from __future__ import annotations

import time

import pytest

from candlebot.exchanges.kraken import KrakenConfig
from candlebot.assembly.venues import kraken_venue
from tests.support.bots import start_simulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kraken(tmp_path_factory):
    sim = start_simulator()
    exchange = kraken_venue(KrakenConfig(url=sim.url, tier="none", timeout=5), state_dir=tmp_path_factory.mktemp("state"))
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


def test_a_warm_up_from_trades_has_a_flat_candle_for_every_second_without_one(shared_data, tmp_path):
    """Kraken's recorded XBT/USDT trades leave many 3-second periods without a trade: the bot charts them flat."""
    from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig

    end = 1762820036  # just after the file's last trade
    config = SimConfig(data=shared_data / "kraken/xbtusdt_trades_2025-11-10.csv", pair="XBTUSDT", start=end,
                       tier="none")
    with KrakenSimulator(config).start() as sim:
        exchange = kraken_venue(KrakenConfig(url=sim.url, tier="none", timeout=5), state_dir=tmp_path)
        try:
            candles = exchange.latest_candles("XBTUSDT", 3, 200, end)
        finally:
            exchange.close()

    assert len(candles) == 200 and all(b.time - a.time == 3 for a, b in zip(candles, candles[1:]))
    flat = [b for a, b in zip(candles, candles[1:]) if b.volume == 0]
    assert flat and all(c.open == c.high == c.low == c.close for c in flat)
    assert all(b.open == a.close for a, b in zip(candles, candles[1:]) if b.volume == 0)
