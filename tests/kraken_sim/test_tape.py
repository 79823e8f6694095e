"""Replay of a recorded trades file: Trades pages it back exactly by its nanosecond cursor, OHLC keeps Kraken's window."""

from __future__ import annotations

from decimal import Decimal

import pytest

from candlebot.data.candlefile import load_trades
from tests.kraken_sim.conftest import plain_client

pytestmark = pytest.mark.integration

TRADES_2025 = "kraken/xbtusdt_trades_2025-11-10.csv"  # 1,000 trades, 414 sharing a timestamp with the one before
END_2025 = 1762820036


@pytest.fixture
def tape(make_sim, shared_data):
    return make_sim(data=shared_data / TRADES_2025, pair="XBTUSDT", start=END_2025)


@pytest.mark.parametrize("page", [7, 1000])
def test_paging_with_since_last_returns_every_trade_once_even_inside_a_shared_timestamp(tape, shared_data, page):
    api = plain_client(tape.url)
    original = load_trades(shared_data / TRADES_2025)
    since, seen, lasts = "0", [], []
    while True:
        reply = api.query_public("Trades", {"pair": "XBTUSDT", "since": since, "count": page})
        assert reply["error"] == []
        rows = reply["result"]["XBTUSDT"]
        if not rows:
            break
        seen += rows
        lasts.append(int(reply["result"]["last"]))
        since = reply["result"]["last"]
    assert len(seen) == len(original) == 1000
    assert [row[2] for row in seen] == original.times.tolist()
    assert [Decimal(row[0]) for row in seen] == [Decimal(repr(p)) for p in original.prices.tolist()]
    assert [row[6] for row in seen] == list(range(1, 1001))
    assert lasts == sorted(set(lasts))  # the cursor only moves forward


def test_ohlc_is_built_from_the_trades_and_starts_with_the_first(tape, shared_data):
    api = plain_client(tape.url)
    rows = api.query_public("OHLC", {"pair": "XBTUSDT", "interval": 1})["result"]["XBTUSDT"]
    original = load_trades(shared_data / TRADES_2025)
    first_minute = int(original.times[0]) // 60 * 60
    assert [row[0] for row in rows] == list(range(first_minute, END_2025 // 60 * 60 + 60, 60))  # 411 <= 720
    assert len(api.query_public("OHLC", {"pair": "XBTUSDT", "interval": 1, "since": rows[-3][0]})["result"]["XBTUSDT"]) == 2
    minute = rows[-200]
    inside = (original.times >= minute[0]) & (original.times < minute[0] + 60)
    if inside.any():
        assert float(minute[4]) == original.prices[inside][-1] and minute[7] == int(inside.sum())
    else:
        assert minute[6] == "0.00000000" and minute[7] == 0
