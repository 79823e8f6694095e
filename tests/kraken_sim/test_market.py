"""Public endpoints: shapes, paging and consistency of the generated market and of a replay of recorded candles."""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal
from pathlib import Path
from typing import Callable

import krakenex
import pytest
import requests

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_pairs import snapshot_reply
from candlebot.exchanges.kraken_sim import KrakenSimulator

from .conftest import T0, TIMEOUT, plain_client

pytestmark = pytest.mark.integration

FIVE_MIN = "kraken/xbtusd_5m_2023q1.csv.gz"


def ok(reply: dict) -> dict:
    assert reply["error"] == [], reply
    return reply["result"]


def read_candles(path: Path, count: int) -> list[list[str]]:
    with gzip.open(path, "rt", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time", "open", "high", "low", "close", "volume"]
    return rows[1:count + 1]


def test_time_is_simulator_time(api: krakenex.API, clock: SimClock) -> None:
    clock.sleep(12.7)

    assert ok(api.query_public("Time", timeout=TIMEOUT)) == {"unixtime": int(T0 + 12.7),
                                                            "rfc1123": "Tue, 14 Nov 23 22:13:32 +0000"}


def test_asset_pairs_serves_the_snapshot_by_id_altname_and_wsname(api: krakenex.API) -> None:
    everything = ok(api.query_public("AssetPairs", timeout=TIMEOUT))
    some = ok(api.query_public("AssetPairs", {"pair": "XETHZUSD,XBTUSDT"}, timeout=TIMEOUT))
    fees = ok(api.query_public("AssetPairs", {"pair": "XBT/USD", "info": "fees"}, timeout=TIMEOUT))

    assert set(everything) == set(snapshot_reply()["result"])  # the bundled catalog: every USD/EUR/XBT spot pair
    assert {"XXBTZUSD", "XBTUSDT", "XBTUSDC", "XXBTZEUR", "XETHZUSD", "XETHXXBT", "SOLUSD", "XDGEUR"} <= set(everything)
    assert list(some) == ["XETHZUSD", "XBTUSDT"]
    assert set(fees["XBT/USD"]) == {"fees", "fee_volume_currency"}  # a slash form is answered under the name asked
    assert api.query_public("AssetPairs", {"pair": "DOGEUSD"}, timeout=TIMEOUT) == {"error": ["EQuery:Unknown asset pair"]}


@pytest.mark.parametrize("method", ["Ticker", "OHLC", "Depth", "Trades"])
def test_market_data_exists_for_the_simulated_pair_only(api: krakenex.API, method: str) -> None:
    assert api.query_public(method, {"pair": "XETHZUSD"}, timeout=TIMEOUT) == {"error": ["EQuery:Unknown asset pair"]}
    assert api.query_public(method, {"pair": "NOPE"}, timeout=TIMEOUT) == {"error": ["EQuery:Unknown asset pair"]}
    assert list(ok(api.query_public(method, {"pair": "XXBTZUSD"}, timeout=TIMEOUT)))[0] == "XXBTZUSD"


@pytest.mark.parametrize("params", [
    {"pair": "XBTUSD", "interval": 2}, {"pair": "XBTUSD", "interval": "x"}, {"interval": 1},
])
def test_ohlc_refuses_bad_arguments(api: krakenex.API, params: dict) -> None:
    assert api.query_public("OHLC", params, timeout=TIMEOUT) == {"error": ["EGeneral:Invalid arguments"]}


def test_ohlc_pages_with_since_and_last(api: krakenex.API, clock: SimClock) -> None:
    first = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 1}, timeout=TIMEOUT))
    forming = first["XXBTZUSD"][-1]

    again = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 1, "since": first["last"]}, timeout=TIMEOUT))
    clock.sleep(60)
    later = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 1, "since": first["last"]}, timeout=TIMEOUT))

    assert again == {"XXBTZUSD": [forming], "last": first["last"]}
    closed, new_forming = later["XXBTZUSD"]
    assert closed[0] == forming[0] and later["last"] == forming[0]
    assert closed[1] == forming[1]                                       # same open...
    assert Decimal(closed[2]) >= Decimal(forming[2]) and Decimal(closed[3]) <= Decimal(forming[3])
    assert closed[7] == 60 and forming[7] < 60                           # ...and now complete
    assert new_forming[0] == forming[0] + 60


def test_ohlc_intervals_agree_with_each_other(api: krakenex.API) -> None:
    ones = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 1}, timeout=TIMEOUT))["XXBTZUSD"]
    fives = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 5}, timeout=TIMEOUT))["XXBTZUSD"]

    five = fives[-3]                      # a closed 5-minute candle inside the 1-minute window
    parts = [r for r in ones if five[0] <= r[0] < five[0] + 300]
    assert len(parts) == 5
    assert five[1] == parts[0][1] and five[4] == parts[-1][4]
    assert Decimal(five[2]) == max(Decimal(r[2]) for r in parts)
    assert Decimal(five[3]) == min(Decimal(r[3]) for r in parts)
    assert Decimal(five[6]) == sum(Decimal(r[6]) for r in parts)
    assert len({r[4] for r in ones[-30:]}) > 20          # seconds-long movement: closes differ


def test_depth_is_a_book_around_the_last_price(api: krakenex.API) -> None:
    book = ok(api.query_public("Depth", {"pair": "XBTUSD", "count": 500}, timeout=TIMEOUT))["XXBTZUSD"]
    last = Decimal(ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))["XXBTZUSD"]["c"][0])
    asks = [Decimal(p) for p, _, _ in book["asks"]]
    bids = [Decimal(p) for p, _, _ in book["bids"]]

    assert len(asks) == len(bids) == 500
    assert bids[0] < last <= asks[0]
    assert asks == sorted(asks) and len(set(asks)) == 500 and bids == sorted(bids, reverse=True)
    assert all(p % Decimal("0.1") == 0 for p in asks + bids)             # on the pair's tick
    assert all(Decimal(v) >= Decimal("0.0001") for _, v, _ in book["asks"] + book["bids"])
    assert api.query_public("Depth", {"pair": "XBTUSD", "count": 501}, timeout=TIMEOUT)["error"] == ["EGeneral:Invalid arguments"]


def test_trades_page_with_since_and_last(api: krakenex.API, clock: SimClock) -> None:
    recent = ok(api.query_public("Trades", {"pair": "XBTUSD"}, timeout=TIMEOUT))
    clock.sleep(5)
    newer = ok(api.query_public("Trades", {"pair": "XBTUSD", "since": recent["last"]}, timeout=TIMEOUT))

    rows = recent["XXBTZUSD"]
    assert len(rows) == 1000
    price, volume, when, side, kind, misc, trade_id = rows[-1]
    assert isinstance(price, str) and isinstance(volume, str) and isinstance(trade_id, int)
    assert side in ("b", "s") and kind in ("m", "l") and misc == ""
    assert recent["last"] == str(int(when) * 10**9)
    assert [r[6] for r in newer["XXBTZUSD"]] == [trade_id + n for n in range(1, 6)]
    last_trade = newer["XXBTZUSD"][-1]
    ticker = ok(api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT))["XXBTZUSD"]
    assert ticker["c"] == [last_trade[0], last_trade[1]]


def test_generated_market_is_reproducible(make_sim: Callable[..., KrakenSimulator]) -> None:
    one, two, other = make_sim(seed=5), make_sim(seed=5), make_sim(seed=6)

    def candles(sim: KrakenSimulator) -> list:
        return ok(plain_client(sim.url).query_public("OHLC", {"pair": "XBTUSD", "interval": 5}, timeout=TIMEOUT))

    assert candles(one) == candles(two) != candles(other)
    assert 20000 < float(one.price()) < 40000


@pytest.mark.slow
def test_replay_serves_the_recorded_candles(make_sim: Callable[..., KrakenSimulator], shared_data: Path,
                                            clock: SimClock) -> None:
    data = shared_data / FIVE_MIN
    rows = read_candles(data, 40)
    sim = make_sim(data=data, start=int(rows[30][0]))          # 30 candles of history before "now"
    api = plain_client(sim.url)

    reply = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 5}, timeout=TIMEOUT))
    clock.sleep(300 * 5)
    later = ok(api.query_public("OHLC", {"pair": "XBTUSD", "interval": 5, "since": reply["last"]}, timeout=TIMEOUT))

    assert [[r[0], *r[1:5]] for r in reply["XXBTZUSD"][:-1]] == [
        [int(t), f"{Decimal(o):.1f}", f"{Decimal(h):.1f}", f"{Decimal(l):.1f}", f"{Decimal(c):.1f}"]
        for t, o, h, l, c, _ in rows[:30]]
    assert [r[6] for r in reply["XXBTZUSD"][:-1]] == [f"{Decimal(v):.8f}" for *_, v in rows[:30]]
    assert reply["XXBTZUSD"][-1][0] == int(rows[30][0]) and reply["XXBTZUSD"][-1][1] == f"{Decimal(rows[30][1]):.1f}"
    assert [r[0] for r in later["XXBTZUSD"]] == [int(rows[i][0]) for i in range(30, 36)]
    assert [r[4] for r in later["XXBTZUSD"][:-1]] == [f"{Decimal(rows[i][4]):.1f}" for i in range(30, 35)]
    assert ok(api.query_public("Time", timeout=TIMEOUT))["unixtime"] == int(rows[35][0])


def test_replay_walks_each_candle_through_its_high_and_low(make_sim: Callable[..., KrakenSimulator],
                                                           shared_data: Path, clock: SimClock) -> None:
    rows = read_candles(shared_data / FIVE_MIN, 1)
    sim = make_sim(data=shared_data / FIVE_MIN)
    seen = []
    for _ in range(60):
        seen.append(sim.price())
        clock.sleep(5)

    t, o, h, l, c, _ = rows[0]
    assert seen[0] == Decimal(o) and seen[-1] == Decimal(c)
    assert max(seen) == Decimal(h) and min(seen) == Decimal(l)


def test_replay_fills_missing_candles_flat_with_zero_volume(make_sim: Callable[..., KrakenSimulator],
                                                            shared_data: Path) -> None:
    # 2023-02-22 00:15-01:25: Kraken maintenance, no candles in the file
    sim = make_sim(data=shared_data / FIVE_MIN, start=1677029400)
    rows = ok(plain_client(sim.url).query_public("OHLC", {"pair": "XBTUSD", "interval": 5}, timeout=TIMEOUT))["XXBTZUSD"]

    gap = [r for r in rows if 1677024900 <= r[0] < 1677029100]
    before = next(r for r in rows if r[0] == 1677024600)
    assert len(gap) == 14
    assert all(r[1] == r[2] == r[3] == r[4] == before[4] and r[6] == "0.00000000" and r[7] == 0 for r in gap)


def test_unknown_paths_are_404(sim: KrakenSimulator) -> None:
    assert requests.get(f"{sim.url}/0/public/Nope", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{sim.url}/favicon.ico", timeout=TIMEOUT).status_code == 404
