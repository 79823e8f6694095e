"""An order Kraken refused for its pair's trading counter (``EOrder:Rate limit exceeded``) is retried only once the
counter has room for it (each retry takes its own place on the client's model, as bounded for the first send), or
not at all (``RateBudgetDeferred``); the simulator receives it at most once.

Set-up: the simulator's starter-tier trading counter (60, decaying 1/s) is filled by another process on the key
that keeps no model (``--kraken-tier none``, 60 validate-only AddOrders), so the adapter under test, whose own model
is empty, sends its order into a full counter and is refused. Adapter and simulator share one simulated clock: only
the adapter's waits move it.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from candlebot.clock import SimClock
from candlebot.exchanges.kraken.client import KrakenClient, RetryPolicy
from candlebot.exchanges.kraken.errors import RateBudgetDeferred
from candlebot.exchanges.kraken.exchange import KrakenExchange
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken.nonce import NonceSequencer
from candlebot.exchanges.kraken.ratelimit import TIERS, RateLimiter
from candlebot.venue import OrderRequest, Side
from tests.kraken.conftest import KEY, SECRET, adapter_on, start_sim

pytestmark = pytest.mark.integration

TRADING_MAX = 60  # the starter tier's trading counter, decaying 1 unit/s


@pytest.fixture
def clock() -> SimClock:
    return SimClock(time.time())


@pytest.fixture
def sim(clock: SimClock) -> Iterator[Any]:
    simulator = start_sim("starter", clock)
    yield simulator
    simulator.stop()


def fill_trading_counter(sim: Any, clock: SimClock, state_dir: Path, units: int = TRADING_MAX) -> None:
    """Another process on the key, without a model, takes the rest of the trading counter (validate-only orders)."""
    other = adapter_on(sim.url, state_dir, clock, tier="none")
    try:
        order = OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=1)
        for _ in range(units):
            other.validate_market_order(order)
    finally:
        other.close()
    assert sim.counters()["orders_validated"] == units and sim.counters()["order_rate_limited"] == 0


def buy(exchange: KrakenExchange, userref: int) -> OrderRequest:
    ask = exchange.order_book("XBTUSD", 1).asks[0].price
    return OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=userref, limit=ask * Decimal("1.01"))


@pytest.mark.parametrize("order_wait_max", [5.0, None], ids=["bounded", "unbounded"])
def test_a_refused_order_is_retried_once_the_trading_counter_has_room(
        sim: Any, clock: SimClock, tmp_path: Path, order_wait_max: float | None) -> None:
    exchange = adapter_on(sim.url, tmp_path, clock, tier="starter", order_wait_max=order_wait_max)
    order = buy(exchange, userref=7)
    fill_trading_counter(sim, clock, tmp_path)
    refused_at = clock.now()

    fill = exchange.place_market_order(order)

    counters = sim.counters()
    assert counters["order_rate_limited"] == 1, "the retry reached the simulator only once the counter had room"
    assert counters["private.AddOrder"] == TRADING_MAX + 2  # the refused send and its one accepted retry
    (placed,) = sim.orders(userref=7)
    assert fill.order_id == placed["txid"] and fill.volume == Decimal("0.01")
    # the model took the refusal as a full counter (60; 59 usable): one unit decays in 1 s, two are needed
    assert clock.now() - refused_at >= 1.9
    exchange.close()


def test_a_refused_order_whose_retry_would_wait_too_long_is_deferred_and_not_resent(
        sim: Any, clock: SimClock, tmp_path: Path) -> None:
    exchange = adapter_on(sim.url, tmp_path, clock, tier="starter", order_wait_max=1.0, max_sends=1)  # a bot's bound
    order = buy(exchange, userref=8)
    fill_trading_counter(sim, clock, tmp_path)
    refused_at = clock.now()

    with pytest.raises(RateBudgetDeferred) as deferred:
        exchange.place_market_order(order)

    assert deferred.value.retry_after is not None and deferred.value.retry_after > 1.0
    counters = sim.counters()
    assert counters["private.AddOrder"] == TRADING_MAX + 1 and counters["order_rate_limited"] == 1  # sent once
    assert sim.orders(userref=8) == [] and counters["orders_placed"] == 0
    assert clock.now() - refused_at < 1.0  # no wait beyond the retry's jitter
    trading = exchange.client.trading
    assert trading is not None and trading.level("XBTUSD") >= TRADING_MAX - 1  # the deferral counted nothing
    exchange.close()


def resting_order_then_full_counter(sim: Any, clock: SimClock, tmp_path: Path, exchange: KrakenExchange) -> str:
    """A GTC buy far below the market (its cancel, under 5 s old, costs 8), then the rest of the counter taken."""
    resting = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01", "timeinforce": "GTC",
               "price": f"{exchange.order_book('XBTUSD', 1).bids[0].price / 2:.1f}"}
    (txid,) = exchange.client.add_order(resting, userref=11)["txid"]
    fill_trading_counter(sim, clock, tmp_path, TRADING_MAX - 1)  # the order took the first unit
    return str(txid)


def test_a_refused_cancel_is_retried_once_the_trading_counter_has_room(
        sim: Any, clock: SimClock, tmp_path: Path) -> None:
    """CancelOrder is on the same counter: its retry waits for its own place too."""
    exchange = adapter_on(sim.url, tmp_path, clock, tier="starter", order_wait_max=30.0)
    txid = resting_order_then_full_counter(sim, clock, tmp_path, exchange)
    refused_at = clock.now()

    assert exchange.cancel_order(txid) is True

    assert sim.counters()["private.CancelOrder"] == 2 and sim.counters()["order_rate_limited"] == 1
    assert clock.now() - refused_at >= 8.9  # the model, marked full (59 usable), needs 9 s of decay for 8
    (order,) = sim.orders(userref=11)
    assert order["status"] == "canceled"
    exchange.close()


def test_a_refused_cancel_whose_retry_would_wait_too_long_is_deferred(
        sim: Any, clock: SimClock, tmp_path: Path) -> None:
    """Within the same bound as orders: a running bot's poll loop never waits 9 s for a cancel either."""
    exchange = adapter_on(sim.url, tmp_path, clock, tier="starter", order_wait_max=1.0)
    txid = resting_order_then_full_counter(sim, clock, tmp_path, exchange)
    refused_at = clock.now()

    with pytest.raises(RateBudgetDeferred):
        exchange.cancel_order(txid)

    assert sim.counters()["private.CancelOrder"] == 1 and clock.now() - refused_at < 1.0
    (order,) = sim.orders(userref=11)
    assert order["status"] == "open"
    exchange.close()


def test_an_order_refused_without_a_trading_model_backs_off_without_touching_the_rest_counter(
        sim: Any, clock: SimClock, tmp_path: Path) -> None:
    """A client with a REST model but no trading model (built by hand): a refused AddOrder marks nothing on the
    REST counter (orders are not on it) and backs off on the clock instead of retrying at once."""
    fill_trading_counter(sim, clock, tmp_path)
    retry = RetryPolicy(attempts=3, base_delay=0.01, max_delay=30.0, rate_limit_delay=1.5)
    sequencer = NonceSequencer(KrakenCredentials(KEY, SECRET).key_id, state_dir=tmp_path, clock=clock,
                               limiter=RateLimiter(TIERS["starter"]))
    client = KrakenClient(url=sim.url, credentials=KrakenCredentials(KEY, SECRET), sequencer=sequencer,
                          retry=retry, clock=clock, timeout=(1.0, 5.0))
    refused_at = clock.now()
    params = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.01", "oflags": "fciq"}

    result = client.add_order(params, userref=9)

    assert result["txid"] and len(sim.orders(userref=9)) == 1
    assert sim.counters()["order_rate_limited"] >= 1
    assert clock.now() - refused_at >= 0.75  # the rate-limit back-off, not the 0-0.01 s jitter
    assert sequencer.peek()[1].level < TIERS["starter"].maximum  # the REST counter was not marked full
    client.close()
    sequencer.close()


def test_a_resend_deferred_after_a_lost_first_send_leaves_the_outcome_unknown(
        sim: Any, clock: SimClock, tmp_path: Path) -> None:
    """Send 1's reply is lost and the lookup finds no order, so a second send is due; the counter has no room for it
    within the bound. Order lists lag: send 1 may exist yet, so this is no "never placed" (which frees the trader to
    order again) but an unknown outcome to keep looking for (found in review; bots send once, library users may not)."""
    from candlebot.errors import OrderOutcomeUnknown
    from candlebot.exchanges.kraken_sim import Fault, Faults

    exchange = adapter_on(sim.url, tmp_path, clock, tier="starter", order_wait_max=0.5, max_sends=2,
                          lookup_window=0.1, lookup_interval=0.05)
    order = buy(exchange, userref=9)
    checked = OrderRequest("XBTUSD", Side.BUY, Decimal("0.01"), userref=1)
    for _ in range(TRADING_MAX - 2):  # the adapter's own model: one place left for send 1, none for send 2
        exchange.validate_market_order(checked)
    sim.set_faults(Faults(unavailable=Fault(count=1, methods=("AddOrder",))))

    with pytest.raises(OrderOutcomeUnknown) as unknown:
        exchange.place_market_order(order)

    assert unknown.value.userref == 9
    counters = sim.counters()
    assert counters["orders_validated"] == TRADING_MAX - 2 and counters["fault_unavailable"] == 1
    assert counters["orders_placed"] == 0  # send 2 (past the one-shot fault) would have been placed: it never went
    assert sim.orders(userref=9) == []
    exchange.close()
