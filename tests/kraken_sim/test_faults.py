"""Faults switched through the admin endpoint, seen by a plain krakenex client; the starter-tier rate counter."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Callable

import krakenex
import pytest
import requests

from candlebot.clock import SimClock
from candlebot.exchanges.kraken_sim import DropReply, Fault, Faults, KrakenSimulator, SimConfig

from .conftest import KEY, TIMEOUT, plain_client

BUY = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.001"}


def set_faults(sim: KrakenSimulator, spec: dict) -> dict:
    reply = requests.post(f"{sim.url}/admin/faults", json=spec, timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text
    return reply.json()["faults"]


def state(sim: KrakenSimulator) -> dict:
    return requests.get(f"{sim.url}/admin/state", timeout=TIMEOUT).json()


@pytest.mark.integration
def test_http_5xx_with_an_html_body_then_recovery(sim: KrakenSimulator, api: krakenex.API) -> None:
    set_faults(sim, {"http_error": {"status": 502, "count": 1, "methods": ["Ticker"]}})

    with pytest.raises(requests.HTTPError) as failed:
        api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT)
    recovered = api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT)

    assert failed.value.response.status_code == 502
    assert "cloudflare" in failed.value.response.text and "<html>" in failed.value.response.text
    assert recovered["error"] == []
    assert sim.counters()["fault_http_error"] == 1


@pytest.mark.integration
def test_unavailable_and_busy_place_nothing(sim: KrakenSimulator, api: krakenex.API) -> None:
    set_faults(sim, {"unavailable": {"count": 1, "methods": ["AddOrder"]}, "busy": {"count": 1}})

    first = api.query_private("AddOrder", {**BUY, "userref": 1}, timeout=TIMEOUT)
    second = api.query_private("Balance", timeout=TIMEOUT)
    third = api.query_private("AddOrder", {**BUY, "userref": 2}, timeout=TIMEOUT)

    assert first == {"error": ["EService:Unavailable"]}
    assert second == {"error": ["EService:Busy"]}
    assert third["error"] == []
    assert [o["userref"] for o in sim.orders()] == [2]


@pytest.mark.integration
def test_drop_reply_502_books_the_order(sim: KrakenSimulator, api: krakenex.API) -> None:
    set_faults(sim, {"drop_reply": {"mode": "502", "count": 1, "methods": ["AddOrder"]}})

    with pytest.raises(requests.HTTPError):
        api.query_private("AddOrder", {**BUY, "userref": 31}, timeout=TIMEOUT)
    found = api.query_private("ClosedOrders", {"userref": 31}, timeout=TIMEOUT)["result"]

    assert found["count"] == 1 and sim.orders(userref=31)[0]["status"] == "closed"
    assert sim.balances(KEY)["XXBT"] == Decimal("0.001")


@pytest.mark.integration
@pytest.mark.slow
def test_drop_reply_hang_outlives_the_client_timeout_and_books_the_order(sim: KrakenSimulator,
                                                                         api: krakenex.API) -> None:
    sim.set_faults(Faults(drop_reply=DropReply(mode="hang", hang_s=3.0, count=1, methods=("AddOrder",))))
    started = time.monotonic()

    # the client's read timed out, so the hang outlived it (a hang that ended first closes the connection instead:
    # ConnectionError); no upper bound on the time, which a loaded machine can stretch
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.query_private("AddOrder", {**BUY, "userref": 32}, timeout=0.5)

    assert 0.5 <= time.monotonic() - started
    assert api.query_private("OpenOrders", timeout=TIMEOUT) == {"error": [], "result": {"open": {}}}
    assert len(api.query_private("ClosedOrders", {"userref": 32}, timeout=TIMEOUT)["result"]["closed"]) == 1


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["html", "truncated"])
def test_malformed_replies_fail_to_decode_but_the_order_exists(sim: KrakenSimulator, api: krakenex.API,
                                                               mode: str) -> None:
    set_faults(sim, {"malformed": {"mode": mode, "count": 1, "methods": ["AddOrder"]}})

    with pytest.raises(ValueError):
        api.query_private("AddOrder", {**BUY, "userref": 33}, timeout=TIMEOUT)

    assert api.response.status_code == 200
    assert len(sim.orders(userref=33)) == 1


@pytest.mark.integration
def test_missing_fields_reply_lacks_what_a_client_needs(sim: KrakenSimulator, api: krakenex.API) -> None:
    set_faults(sim, {"malformed": {"mode": "missing_fields", "count": 2, "methods": ["AddOrder", "Ticker"]}})

    order = api.query_private("AddOrder", {**BUY, "userref": 34}, timeout=TIMEOUT)
    ticker = api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT)

    assert order["error"] == [] and "txid" not in order["result"] and "descr" in order["result"]
    assert list(ticker["result"]["XXBTZUSD"]) == ["a"]
    assert len(sim.orders(userref=34)) == 1


@pytest.mark.integration
@pytest.mark.slow
def test_latency_delays_the_reply(sim: KrakenSimulator, api: krakenex.API) -> None:
    set_faults(sim, {"latency": {"ms": 300, "jitter_ms": 50, "methods": ["Time"]}})
    started = time.monotonic()

    api.query_public("Time", timeout=TIMEOUT)

    assert 0.3 <= time.monotonic() - started < 1.0


@pytest.mark.integration
def test_probabilistic_faults_are_reproducible(sim: KrakenSimulator, api: krakenex.API) -> None:
    def pattern() -> list[bool]:
        set_faults(sim, {"seed": 3, "unavailable": {"probability": 0.5, "methods": ["Time"]}})
        return [api.query_public("Time", timeout=TIMEOUT)["error"] == ["EService:Unavailable"] for _ in range(30)]

    first, second = pattern(), pattern()

    assert first == second and 5 < sum(first) < 25


@pytest.mark.integration
def test_admin_endpoints_show_state_and_refuse_bad_faults(sim: KrakenSimulator, api: krakenex.API) -> None:
    api.query_private("AddOrder", {**BUY, "userref": 35}, timeout=TIMEOUT)
    set_faults(sim, {"busy": {"count": 2, "methods": ["Depth"]}})

    shown = state(sim)
    bad_kind = requests.post(f"{sim.url}/admin/faults", json={"gremlins": {}}, timeout=TIMEOUT)
    bad_method = requests.post(f"{sim.url}/admin/faults", json={"busy": {"methods": ["Tickr"]}}, timeout=TIMEOUT)
    bad_json = requests.post(f"{sim.url}/admin/faults", data=b"{", timeout=TIMEOUT)
    cleared = set_faults(sim, {})

    assert [o["userref"] for o in shown["orders"]] == [35] and shown["orders"][0]["key"] == KEY
    assert Decimal(shown["balances"][KEY]["XXBT"]) == Decimal("0.001")
    assert shown["counters"]["orders_placed"] == 1 and shown["counters"]["invalid_nonce"] == 0
    assert shown["faults"]["busy"] == {"probability": 1.0, "count": 2, "methods": ["Depth"], "processed": False,
                                       "remaining": 2, "fired": 0}
    assert shown["pair"] == "XXBTZUSD" and shown["source"]["kind"] == "generated"
    assert [r.status_code for r in (bad_kind, bad_method, bad_json)] == [400, 400, 400]
    assert "gremlins" in bad_kind.json()["error"] and cleared == {}


@pytest.mark.integration
def test_faults_given_at_construction_apply_from_the_start(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(faults=Faults(busy=Fault(count=1)))

    assert plain_client(sim.url).query_public("Time", timeout=TIMEOUT) == {"error": ["EService:Busy"]}
    assert sim.faults()["busy"]["remaining"] == 0


@pytest.mark.integration
def test_starter_rate_counter_trips_and_recovers(make_sim: Callable[..., KrakenSimulator], clock: SimClock) -> None:
    sim = make_sim(tier="starter")
    api = plain_client(sim.url)

    replies = [api.query_private("Balance", timeout=TIMEOUT) for _ in range(16)]
    clock.sleep(2.0)                       # decays 0.66: not yet room for one more call
    still = api.query_private("Balance", timeout=TIMEOUT)
    clock.sleep(1.1)                       # 3.1 s in all: 1.02 decayed
    recovered = api.query_private("Balance", timeout=TIMEOUT)
    heavy = api.query_private("TradesHistory", timeout=TIMEOUT)     # costs 2: no room
    clock.sleep(7)
    heavy_later = api.query_private("TradesHistory", timeout=TIMEOUT)

    assert all(r["error"] == [] for r in replies[:15])
    assert replies[15] == still == heavy == {"error": ["EAPI:Rate limit exceeded"]}
    assert recovered["error"] == [] and heavy_later["error"] == []
    assert sim.counters()["rate_limited"] == 3
    assert plain_client(sim.url).query_public("Ticker", {"pair": "XBTUSD"}, timeout=TIMEOUT)["error"] == []


@pytest.mark.integration
def test_tier_none_never_limits(sim: KrakenSimulator, api: krakenex.API) -> None:
    assert all(api.query_private("Balance", timeout=TIMEOUT)["error"] == [] for _ in range(40))


def test_config_refuses_an_unknown_tier() -> None:
    from candlebot.errors import ConfigError

    with pytest.raises(ConfigError, match="tier"):
        SimConfig(tier="platinum")
