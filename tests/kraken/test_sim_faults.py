"""Faults on loopback: lost replies, edge errors, service errors, broken bodies, rate limits.

Every order intent must end as exactly one order at the simulator, whatever
fails; every bad reply must surface as a candlebot error.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest

from candlebot.clock import SimClock
from candlebot.errors import (
    FatalExchangeError,
    OrderOutcomeUnknown,
    TemporaryExchangeError,
)
from candlebot.venue import Fill, OrderRequest, Side
from candlebot.exchanges.kraken.client import RetryPolicy
from candlebot.exchanges.kraken.errors import DuplicateOrderError, MalformedReplyError
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken_sim import DropReply, Fault, Faults, HttpError, Latency, Malformed
from candlebot.assembly.venues import kraken_venue
from tests.kraken.conftest import KEY, SECRET, fast_config
from tests.kraken.test_sim_flow import assert_fill_matches

MakeExchange = Callable[..., KrakenExchange]
INTENTS = 50
ADD = ("AddOrder",)


def settle_intent(exchange: KrakenExchange, order: OrderRequest, attempts: int = 10) -> Fill:
    """What a trader does with a persisted intent: place it; when the outcome is unknown, look it up first."""
    for _ in range(attempts):
        try:
            return exchange.place_market_order(order)
        except OrderOutcomeUnknown:
            try:
                fill = exchange.find_order(order.pair, order.userref)
            except (OrderOutcomeUnknown, TemporaryExchangeError):
                continue
            if fill is not None:
                return fill
        except TemporaryExchangeError:
            continue
    raise AssertionError(f"intent {order.userref} did not settle")


def run_intents(sim: Any, exchange: KrakenExchange, first_ref: int = 1000) -> list[Fill]:
    fills = []
    for i in range(INTENTS):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        order = OrderRequest("XBTUSD", side, Decimal("0.001") + Decimal(i) / 10**6, userref=first_ref + i)
        fills.append(settle_intent(exchange, order))
    for i, fill in enumerate(fills):
        placed = sim.orders(userref=first_ref + i)
        assert len(placed) == 1, f"intent {first_ref + i}: {len(placed)} orders at the exchange"
        assert_fill_matches(fill, placed[0])
    assert len(sim.orders()) == INTENTS
    return fills


ORDER_FAULTS = {
    "drop_502": Faults(drop_reply=DropReply(mode="502", probability=0.4, methods=ADD), seed=11),
    "drop_hang": Faults(drop_reply=DropReply(mode="hang", hang_s=1.0, probability=0.4, methods=ADD), seed=12),
    "http_5xx": Faults(http_error=HttpError(status=503, probability=0.4, methods=ADD), seed=13),
    "http_520": Faults(http_error=HttpError(status=520, probability=0.4, methods=ADD), seed=14),
    "unavailable": Faults(unavailable=Fault(probability=0.4, methods=ADD), seed=15),
    "busy": Faults(busy=Fault(probability=0.4, methods=ADD), seed=16),
    "malformed_html": Faults(malformed=Malformed(mode="html", probability=0.4, methods=ADD), seed=17),
    "malformed_truncated": Faults(malformed=Malformed(mode="truncated", probability=0.4, methods=ADD), seed=18),
    "malformed_missing": Faults(malformed=Malformed(mode="missing_fields", probability=0.4, methods=ADD), seed=19),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", list(ORDER_FAULTS))
@pytest.mark.slow
def test_faulty_addorder_still_gives_exactly_one_order_per_intent(sim: Any, make_exchange: MakeExchange,
                                                                  name: str) -> None:
    exchange = make_exchange(timeout=0.3, lookup_window=0.1, lookup_interval=0.05)
    sim.set_faults(ORDER_FAULTS[name])

    run_intents(sim, exchange)

    fired = sum(v for k, v in sim.counters().items() if k.startswith("fault_"))
    assert fired >= 10, f"the {name} fault should have fired often, fired {fired}"


@pytest.mark.integration
@pytest.mark.slow
def test_chaos_on_every_method(sim: Any, make_exchange: MakeExchange) -> None:
    """Every kind of fault, on every call, at once: still one order per intent."""
    exchange = make_exchange(timeout=0.3, lookup_window=0.1, lookup_interval=0.05,
                             retry=RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.05))
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(
        latency=Latency(ms=2, jitter_ms=5, probability=0.3),
        http_error=HttpError(status=502, probability=0.1),
        unavailable=Fault(probability=0.05),
        busy=Fault(probability=0.05),
        drop_reply=DropReply(mode="hang", hang_s=1.0, probability=0.05),
        malformed=Malformed(mode="truncated", probability=0.1),
        seed=21,
    ))

    run_intents(sim, exchange)

    assert sim.counters()["invalid_nonce"] == 0


@pytest.mark.integration
def test_order_outcome_unknown_when_lookups_fail_too(sim: Any, make_exchange: MakeExchange) -> None:
    """AddOrder's reply is lost and every lookup fails: the adapter must not guess, nor resend. (The faults answer at
    once, 502 and 503: a generous timeout keeps a loaded machine's slow reply from failing the set-up or the last lookup.)"""
    exchange = make_exchange(timeout=10, lookup_window=0.1, lookup_interval=0.05,
                             retry=RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0))
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(drop_reply=DropReply(mode="502", count=1, methods=ADD),
                          http_error=HttpError(status=503, methods=("OpenOrders", "ClosedOrders"))))

    with pytest.raises(OrderOutcomeUnknown) as info:
        exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=4242))

    assert info.value.userref == 4242
    assert len(sim.orders(userref=4242)) == 1
    sim.set_faults(Faults())
    assert exchange.find_order("XBTUSD", 4242) is not None


@pytest.mark.integration
def test_absent_order_is_sent_again_with_the_same_userref(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange(lookup_window=0.1, lookup_interval=0.05)
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(unavailable=Fault(count=2, methods=ADD)))

    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=99))

    (order,) = sim.orders(userref=99)
    assert_fill_matches(fill, order)
    assert sim.counters()["fault_unavailable"] == 2


@pytest.mark.integration
def test_never_resent_past_max_sends(sim: Any, make_exchange: MakeExchange) -> None:
    exchange = make_exchange(lookup_window=0.05, lookup_interval=0.05, max_sends=3)
    exchange.pair_info("XBTUSD")
    sim.set_faults(Faults(busy=Fault(methods=ADD)))

    with pytest.raises(OrderOutcomeUnknown, match="absent after 3 sends") as raised:  # the caller keeps looking
        exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=98))
    assert raised.value.userref == 98

    assert sim.counters()["fault_busy"] == 3 and sim.orders() == []


@pytest.mark.integration
@pytest.mark.slow
def test_invalid_nonce_on_addorder_is_retried(sim: Any, tmp_path: Path, make_exchange: MakeExchange) -> None:
    """Another tool on the key took a higher nonce: AddOrder is refused unprocessed, so it is simply sent again."""
    # the retries must outlast the other tool's lead (0.5 s), which must outlast a loaded machine's pause
    exchange = make_exchange(retry=RetryPolicy(attempts=12, base_delay=0.05, max_delay=0.3))
    exchange.pair_info("XBTUSD")
    ahead = kraken_venue(fast_config(sim.url), credentials=KrakenCredentials(KEY, SECRET),
                           clock=SimClock(time.time() + 0.5), state_dir=tmp_path / "elsewhere")
    ahead.balances()

    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=77))

    assert sim.counters()["invalid_nonce"] >= 1
    assert [o["txid"] for o in sim.orders(userref=77)] == [fill.order_id]


@pytest.mark.integration
@pytest.mark.parametrize("faults", [
    Faults(malformed=Malformed(mode="html", methods=("Ticker",))),
    Faults(malformed=Malformed(mode="truncated", methods=("Ticker",))),
    Faults(http_error=HttpError(status=500, methods=("Ticker",))),
    Faults(unavailable=Fault(methods=("Ticker",))),
    Faults(drop_reply=DropReply(mode="hang", hang_s=1.0, methods=("Ticker",))),
], ids=["html", "truncated", "http500", "unavailable", "hang"])
@pytest.mark.slow
def test_persistent_bad_replies_to_reads_are_temporary_errors(sim: Any, make_exchange: MakeExchange,
                                                              faults: Faults) -> None:
    exchange = make_exchange(timeout=0.3)
    exchange.pair_info("XBTUSD")
    sim.set_faults(faults)

    with pytest.raises(TemporaryExchangeError) as info:
        exchange.ticker("XBTUSD")

    assert not isinstance(info.value, OrderOutcomeUnknown)
    assert sim.counters()["requests"] >= 4, "reads are retried"


@pytest.mark.integration
@pytest.mark.parametrize("method, call", [
    ("Ticker", lambda ex, txid: ex.ticker("XBTUSD")),
    ("OHLC", lambda ex, txid: ex.ohlc("XBTUSD", 5)),
    ("Depth", lambda ex, txid: ex.order_book("XBTUSD", 10)),
    ("Trades", lambda ex, txid: ex.recent_trades("XBTUSD")),
    ("QueryOrders", lambda ex, txid: ex.query_orders([txid])),
])
def test_missing_fields_are_malformed_reply_errors(sim: Any, make_exchange: MakeExchange, method: str,
                                                   call: Callable[[KrakenExchange, str], Any]) -> None:
    exchange = make_exchange()
    fill = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=1))
    sim.set_faults(Faults(malformed=Malformed(mode="missing_fields", methods=(method,))))

    with pytest.raises(MalformedReplyError):
        call(exchange, fill.order_id)


@pytest.mark.integration
def test_unreadable_asset_pairs_is_a_malformed_reply(sim: Any, make_exchange: MakeExchange) -> None:
    sim.set_faults(Faults(malformed=Malformed(mode="truncated", methods=("AssetPairs",))))

    with pytest.raises(MalformedReplyError):
        make_exchange().pair_info("XBTUSD")


@pytest.mark.integration
def test_asset_pairs_reply_missing_pairs_makes_them_unknown(sim: Any, make_exchange: MakeExchange) -> None:
    sim.set_faults(Faults(malformed=Malformed(mode="missing_fields", count=1, methods=("AssetPairs",))))
    exchange = make_exchange()

    assert exchange.pair_info("XBTUSD").name == "XXBTZUSD"  # the one pair the stripped reply kept
    with pytest.raises(FatalExchangeError):
        exchange.pair_info("ETHUSD")


def test_nothing_listening_is_a_temporary_error(tmp_path: Path) -> None:
    exchange = kraken_venue(fast_config("http://127.0.0.1:9", retry=RetryPolicy(attempts=2, base_delay=0.0,
                                                                                  max_delay=0.0)),
                              credentials=KrakenCredentials(KEY, SECRET), state_dir=tmp_path)

    with pytest.raises(TemporaryExchangeError):
        exchange.ticker("XBTUSD")
    with pytest.raises(TemporaryExchangeError) as info:
        exchange.client.add_order({"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "1"},
                                  userref=5)
    assert not isinstance(info.value, OrderOutcomeUnknown), "a refused connection means nothing was sent"


@pytest.mark.integration
def test_wrong_url_path_is_fatal(sim: Any, tmp_path: Path) -> None:
    exchange = kraken_venue(fast_config(sim.url + "/nothing-here"), state_dir=tmp_path)

    with pytest.raises(FatalExchangeError):
        exchange.ticker("XBTUSD")


@pytest.mark.integration
def test_private_call_without_credentials_is_an_auth_error(sim: Any, tmp_path: Path) -> None:
    from candlebot.errors import AuthError

    exchange = kraken_venue(fast_config(sim.url), state_dir=tmp_path)

    with pytest.raises(AuthError):
        exchange.balances()


@pytest.mark.integration
def test_wrong_secret_is_an_auth_error(sim: Any, tmp_path: Path) -> None:
    from candlebot.errors import AuthError

    exchange = kraken_venue(fast_config(sim.url), credentials=KrakenCredentials(KEY, "c2VjcmV0"),
                              state_dir=tmp_path)

    with pytest.raises(AuthError) as info:
        exchange.balances()

    assert info.value.code == "EAPI:Invalid signature"


@pytest.mark.integration
def test_two_executed_orders_with_one_userref_stop_the_bot(sim: Any, make_exchange: MakeExchange) -> None:
    """Another tool reused our userref (or something sent twice): never pick one of the two silently."""
    exchange = make_exchange()
    exchange.pair_info("XBTUSD")
    first = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=4242))
    second = exchange.place_market_order(OrderRequest("XBTUSD", Side.BUY, Decimal("0.02"), userref=4242))
    assert first.order_id != second.order_id

    with pytest.raises(DuplicateOrderError, match="2 executed orders carry userref=4242"):
        exchange.find_order("XBTUSD", 4242)
