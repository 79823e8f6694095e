"""The unfriendly failures, through plain krakenex: errors after processing, late listing, partial and slow
market fills; and which currency pays the fee (fciq, fcib, neither)."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Callable

import krakenex
import pytest
import requests

from candlebot.clock import SimClock
from candlebot.errors import ConfigError
from candlebot.exchanges.kraken_sim import Faults, KrakenSimulator, LateListing, ServiceError, SimConfig, SlowFill, ThinBook
from candlebot.cli.kraken_sim import build_parser, config_from_args
from candlebot.exchanges.kraken_sim.faults import HttpError, make_fault

from .conftest import KEY, TIMEOUT, plain_client

BUY = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.01"}
SELL = {**BUY, "type": "sell"}
TAKER = Decimal("0.0026")
MAKER = Decimal("0.0016")
START = {"ZUSD": Decimal("10000")}


def ok(reply: dict) -> dict:
    assert reply["error"] == [], reply
    return reply["result"]


def add(api: krakenex.API, fields: dict, **overrides: object) -> dict:
    return api.query_private("AddOrder", {k: str(v) for k, v in {**fields, **overrides}.items()}, timeout=TIMEOUT)


def set_faults(sim: KrakenSimulator, spec: dict) -> dict:
    reply = requests.post(f"{sim.url}/admin/faults", json=spec, timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text
    return reply.json()["faults"]


def fee_of(cost: Decimal, rate: Decimal = TAKER) -> Decimal:
    return (cost * rate).quantize(Decimal("0.00001"), rounding=ROUND_CEILING)


def base_fee(fee: Decimal, price: Decimal) -> Decimal:
    return (fee / price).quantize(Decimal("0.00000001"), rounding=ROUND_CEILING)


def query(api: krakenex.API, txid: str, **extra: object) -> dict:
    return ok(api.query_private("QueryOrders", {"txid": txid, **extra}, timeout=TIMEOUT))[txid]


def lookups(api: krakenex.API, txid: str, userref: int) -> dict:
    """What each private lookup tells about one order: present or not."""
    queried = api.query_private("QueryOrders", {"txid": txid}, timeout=TIMEOUT)
    opened = ok(api.query_private("OpenOrders", timeout=TIMEOUT))["open"]
    closed = ok(api.query_private("ClosedOrders", {"userref": userref}, timeout=TIMEOUT))
    trades = ok(api.query_private("TradesHistory", timeout=TIMEOUT))
    return {
        "QueryOrders": txid in queried.get("result", {}),
        "OpenOrders": txid in opened,
        "ClosedOrders": txid in closed["closed"] and closed["count"] == 1,
        "TradesHistory": any(t["ordertxid"] == txid for t in trades["trades"].values()) and trades["count"] >= 1,
        "unknown": queried.get("error") == ["EOrder:Unknown order"],
    }


# -- processed, then answered with an error ---------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("spec, seen", [
    ({"busy": {"processed": True, "count": 1, "methods": ["AddOrder"]}}, {"error": ["EService:Busy"]}),
    ({"unavailable": {"processed": True, "count": 1, "methods": ["AddOrder"]}}, {"error": ["EService:Unavailable"]}),
    ({"http_error": {"processed": True, "status": 504, "count": 1, "methods": ["AddOrder"]}}, 504),
])
def test_an_order_is_booked_although_the_client_saw_an_error(sim: KrakenSimulator, api: krakenex.API,
                                                            spec: dict, seen: object) -> None:
    shown = set_faults(sim, spec)

    if isinstance(seen, int):
        with pytest.raises(requests.HTTPError) as failed:
            add(api, BUY, userref=41)
        assert failed.value.response.status_code == seen and "cloudflare" in failed.value.response.text
    else:
        assert add(api, BUY, userref=41) == seen

    (kind,) = spec
    assert shown[kind]["processed"] is True and sim.counters()[f"fault_{kind}"] == 1
    (order,) = sim.orders(userref=41)
    assert order["status"] == "closed" and sim.balances(KEY)["XXBT"] == Decimal("0.01")
    closed = ok(api.query_private("ClosedOrders", {"userref": 41}, timeout=TIMEOUT))
    assert list(closed["closed"]) == [order["txid"]]


@pytest.mark.integration
def test_a_processed_busy_cancel_did_cancel(sim: KrakenSimulator, api: krakenex.API) -> None:
    (txid,) = ok(add(api, BUY, ordertype="limit", price="20000", userref=42))["txid"]
    sim.set_faults(Faults(busy=ServiceError(processed=True, count=1, methods=("CancelOrder",))))

    assert api.query_private("CancelOrder", {"txid": txid}, timeout=TIMEOUT) == {"error": ["EService:Busy"]}
    assert query(api, txid)["status"] == "canceled"
    assert api.query_private("CancelOrder", {"txid": txid}, timeout=TIMEOUT) == {"error": ["EOrder:Unknown order"]}


@pytest.mark.integration
def test_unprocessed_stays_the_default(sim: KrakenSimulator, api: krakenex.API) -> None:
    sim.set_faults(Faults(http_error=HttpError(status=502, count=1, methods=("AddOrder",)),
                          busy=ServiceError(count=1, methods=("AddOrder",))))

    with pytest.raises(requests.HTTPError):
        add(api, BUY, userref=43)
    assert add(api, BUY, userref=44) == {"error": ["EService:Busy"]}

    assert sim.orders() == [] and sim.balances(KEY) == START
    assert sim.faults()["http_error"]["processed"] is False


# -- listed late --------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_a_late_listed_order_is_absent_from_every_lookup_until_the_delay(sim: KrakenSimulator, api: krakenex.API,
                                                                        clock: SimClock) -> None:
    set_faults(sim, {"late_listing": {"delay_s": 30, "count": 1, "methods": ["AddOrder"]}})

    (txid,) = ok(add(api, BUY, userref=51))["txid"]
    hidden = lookups(api, txid, 51)
    state = requests.get(f"{sim.url}/admin/state", timeout=TIMEOUT).json()
    balance = ok(api.query_private("Balance", timeout=TIMEOUT))
    clock.sleep(29.9)
    still = lookups(api, txid, 51)
    clock.sleep(0.1)
    listed = lookups(api, txid, 51)

    absent = {"QueryOrders": False, "OpenOrders": False, "ClosedOrders": False, "TradesHistory": False, "unknown": True}
    assert hidden == still == absent
    assert listed == {"QueryOrders": True, "OpenOrders": False, "ClosedOrders": True, "TradesHistory": True,
                      "unknown": False}
    # the ground truth knows it all along, and the money moved at once
    (entry,) = state["orders"]
    assert entry["txid"] == txid and entry["listed"] is False and entry["status"] == "closed"
    assert Decimal(balance["XXBT"]) == Decimal("0.01")
    assert query(api, txid)["opentm"] == pytest.approx(clock.now() - 30)
    # the count was 1: the next order is listed at once
    (second,) = ok(add(api, BUY, userref=52))["txid"]
    assert lookups(api, second, 52)["QueryOrders"] is True


@pytest.mark.integration
def test_a_late_listed_resting_order_shows_in_open_orders_only_after_the_delay(
        sim: KrakenSimulator, api: krakenex.API, clock: SimClock) -> None:
    sim.set_faults(Faults(late_listing=LateListing(delay_s=5, count=1)))

    (txid,) = ok(add(api, BUY, ordertype="limit", price="20000", userref=53))["txid"]
    before = ok(api.query_private("OpenOrders", timeout=TIMEOUT))["open"]
    held = ok(api.query_private("BalanceEx", timeout=TIMEOUT))["ZUSD"]["hold_trade"]
    clock.sleep(5)
    after = ok(api.query_private("OpenOrders", timeout=TIMEOUT))["open"]

    assert before == {} and list(after) == [txid]
    assert Decimal(held) == Decimal("200") + fee_of(Decimal("200"), MAKER)


def test_late_listing_only_names_add_order() -> None:
    with pytest.raises(ConfigError, match="AddOrder"):
        make_fault("late_listing", {"methods": "QueryOrders"})


# -- partial market fills -------------------------------------------------------------------------------------


@pytest.mark.integration
def test_a_thin_book_fills_part_of_a_market_order_then_cancels_the_rest(sim: KrakenSimulator,
                                                                        api: krakenex.API) -> None:
    set_faults(sim, {"thin_book": {"fill_ratio": 0.5, "count": 1}})

    (txid,) = ok(add(api, BUY, volume="0.00123457", userref=61))["txid"]
    order = query(api, txid, trades=True)
    (trade,) = ok(api.query_private("TradesHistory", timeout=TIMEOUT))["trades"].values()

    executed = Decimal("0.00061728")                      # 123457 lots * 0.5, floored to whole lots
    price = Decimal(order["price"])
    cost = (price * executed).quantize(Decimal("0.00001"))
    assert order["status"] == "canceled" and order["misc"] == "partial" and order["reason"]
    assert (order["vol"], order["vol_exec"]) == ("0.00123457", "0.00061728")
    assert (Decimal(order["cost"]), Decimal(order["fee"])) == (cost, fee_of(cost))
    assert order["trades"] == [next(iter(ok(api.query_private("TradesHistory", timeout=TIMEOUT))["trades"]))]
    assert (Decimal(trade["vol"]), Decimal(trade["cost"]), Decimal(trade["fee"])) == (executed, cost, fee_of(cost))
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000") - cost - fee_of(cost), "XXBT": executed}
    assert ok(api.query_private("OpenOrders", timeout=TIMEOUT))["open"] == {}
    assert ok(api.query_private("BalanceEx", timeout=TIMEOUT))["ZUSD"]["hold_trade"] == "0.0000"


@pytest.mark.integration
def test_a_thin_book_leaves_limit_orders_alone(sim: KrakenSimulator, api: krakenex.API) -> None:
    sim.set_faults(Faults(thin_book=ThinBook(fill_ratio=0.01)))
    above = sim.price() + Decimal("500")

    (limit,) = ok(add(api, BUY, ordertype="limit", price=above, userref=62))["txid"]      # crosses: a taker
    (market,) = ok(add(api, BUY, volume="0.0001", userref=63))["txid"]     # 10000 lots * 0.01 = 100 lots

    assert query(api, limit)["status"] == "closed" and query(api, limit)["vol_exec"] == "0.01000000"
    assert query(api, market)["vol_exec"] == "0.00000100" and query(api, market)["status"] == "canceled"
    assert sim.faults()["thin_book"]["fired"] == 1


@pytest.mark.integration
def test_a_thin_book_that_fills_nothing_cancels_with_no_trade(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(faults=Faults(thin_book=ThinBook(fill_ratio=0.00001)))
    api = plain_client(sim.url)

    (txid,) = ok(add(api, BUY, volume="0.0001"))["txid"]             # 10000 lots * 0.00001 = 0.1: floored to 0

    order = query(api, txid)
    assert order["status"] == "canceled" and order["vol_exec"] == "0.00000000" and order["misc"] == ""
    assert order["cost"] == order["fee"] == "0.00000"
    assert ok(api.query_private("TradesHistory", timeout=TIMEOUT))["count"] == 0
    assert sim.balances(KEY) == START


@pytest.mark.integration
def test_order_faults_count_only_booked_orders(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"ZUSD": Decimal("100")}, faults=Faults(thin_book=ThinBook(fill_ratio=0.5, count=1)))
    api = plain_client(sim.url)

    validated = ok(add(api, BUY, volume="0.001", validate="true"))
    refused = add(api, BUY, volume="0.01")                             # about 300 USD: insufficient funds
    (txid,) = ok(add(api, BUY, volume="0.001"))["txid"]
    (later,) = ok(add(api, BUY, volume="0.001"))["txid"]

    assert "txid" not in validated and refused == {"error": ["EOrder:Insufficient funds"]}
    assert query(api, txid)["vol_exec"] == "0.00050000" and query(api, later)["vol_exec"] == "0.00100000"


@pytest.mark.integration
def test_probabilistic_late_listing_is_reproducible(sim: KrakenSimulator, api: krakenex.API) -> None:
    def pattern() -> list[bool]:
        set_faults(sim, {"seed": 5, "late_listing": {"probability": 0.5, "delay_s": 60}})
        placed = [ok(add(api, BUY, volume="0.0001"))["txid"][0] for _ in range(24)]
        listed = {o["txid"]: o["listed"] for o in requests.get(f"{sim.url}/admin/state", timeout=TIMEOUT).json()["orders"]}
        return [listed[t] for t in placed]

    first, second = pattern(), pattern()

    assert first == second and 4 < sum(first) < 20


def test_thin_book_fill_ratio_is_checked() -> None:
    for bad in ("0", "1.5", "-0.1", "x"):
        with pytest.raises(ConfigError):
            make_fault("thin_book", {"fill_ratio": bad})
    assert make_fault("thin_book", {"fill_ratio": "1"}) == ThinBook(fill_ratio=1.0)


# -- slow market fills ----------------------------------------------------------------------------------------


@pytest.mark.integration
def test_a_slow_fill_shows_open_then_closed(sim: KrakenSimulator, api: krakenex.API, clock: SimClock) -> None:
    set_faults(sim, {"slow_fill": {"delay_s": 3, "count": 1}})

    (txid,) = ok(add(api, BUY, userref=71))["txid"]
    pending = query(api, txid)
    opened = ok(api.query_private("OpenOrders", timeout=TIMEOUT))["open"]
    held = ok(api.query_private("BalanceEx", timeout=TIMEOUT))["ZUSD"]
    no_trades = ok(api.query_private("TradesHistory", timeout=TIMEOUT))["count"]
    clock.sleep(2.9)
    still = query(api, txid)
    clock.sleep(0.1)
    done = query(api, txid)

    assert pending["status"] == still["status"] == "open" and pending["vol_exec"] == "0.00000000"
    assert "closetm" not in pending and list(opened) == [txid] and no_trades == 0
    assert Decimal(held["balance"]) == Decimal("10000") and Decimal(held["hold_trade"]) > Decimal("0")
    assert done["status"] == "closed" and done["vol_exec"] == "0.01000000"
    assert done["closetm"] == pytest.approx(done["opentm"] + 3)
    cost = Decimal(done["cost"])
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000") - cost - fee_of(cost), "XXBT": Decimal("0.01")}
    (trade,) = ok(api.query_private("TradesHistory", timeout=TIMEOUT))["trades"].values()
    assert trade["time"] == done["closetm"]


@pytest.mark.integration
def test_a_slow_thin_fill_is_partial_when_it_comes(sim: KrakenSimulator, api: krakenex.API, clock: SimClock) -> None:
    sim.set_faults(Faults(slow_fill=SlowFill(delay_s=1, count=1), thin_book=ThinBook(fill_ratio=0.25, count=1)))

    (txid,) = ok(add(api, BUY, userref=72))["txid"]
    first = query(api, txid)
    clock.sleep(1)
    then = query(api, txid)

    assert first["status"] == "open" and first["vol_exec"] == "0.00000000"
    assert then["status"] == "canceled" and then["vol_exec"] == "0.00250000" and then["misc"] == "partial"
    assert sim.balances(KEY)["XXBT"] == Decimal("0.0025")


@pytest.mark.integration
def test_a_slow_fill_can_be_canceled_before_it_fills(sim: KrakenSimulator, api: krakenex.API,
                                                     clock: SimClock) -> None:
    sim.set_faults(Faults(slow_fill=SlowFill(delay_s=10)))

    (txid,) = ok(add(api, BUY, userref=73))["txid"]
    assert ok(api.query_private("CancelOrder", {"txid": txid}, timeout=TIMEOUT)) == {"count": 1}
    clock.sleep(20)

    assert query(api, txid)["status"] == "canceled" and query(api, txid)["vol_exec"] == "0.00000000"
    assert sim.balances(KEY) == START


# -- fee currency ---------------------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("side, oflags, default, fee_in, shown", [
    ("buy", "fciq", "by_side", "quote", "fciq"),
    ("buy", "fcib", "by_side", "base", "fcib"),
    ("buy", None, "by_side", "quote", "fciq"),
    ("sell", "fciq", "by_side", "quote", "fciq"),
    ("sell", "fcib", "by_side", "base", "fcib"),
    ("sell", None, "by_side", "base", "fcib"),          # Kraken's AddOrder docs: fcib is the default when selling
    ("sell", None, "quote", "quote", "fciq"),           # the alternative reading, behind SimConfig
    ("buy", None, "quote", "quote", "fciq"),
])
def test_fee_currency(make_sim: Callable[..., KrakenSimulator], side: str, oflags: str | None, default: str,
                      fee_in: str, shown: str) -> None:
    start = {"ZUSD": Decimal("10000"), "XXBT": Decimal("1")}
    sim = make_sim(balances=start, default_fee_currency=default)
    api = plain_client(sim.url)

    fields = {**BUY, "type": side, **({"oflags": oflags} if oflags else {})}
    (txid,) = ok(add(api, fields))["txid"]
    order = query(api, txid)

    price, cost, fee = Decimal(order["price"]), Decimal(order["cost"]), Decimal(order["fee"])
    volume = Decimal("0.01")
    assert cost == (price * volume).quantize(Decimal("0.00001")) and fee == fee_of(cost)    # fee reported in quote
    assert order["oflags"] == shown
    paid_quote, paid_base = (fee, Decimal(0)) if fee_in == "quote" else (Decimal(0), base_fee(fee, price))
    if side == "buy":
        expected = {"ZUSD": start["ZUSD"] - cost - paid_quote, "XXBT": start["XXBT"] + volume - paid_base}
    else:
        expected = {"ZUSD": start["ZUSD"] + cost - paid_quote, "XXBT": start["XXBT"] - volume - paid_base}
    assert sim.balances(KEY) == expected


@pytest.mark.integration
def test_a_sell_that_cannot_pay_the_fee_in_base_pays_it_in_quote(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"XXBT": Decimal("0.01")})
    api = plain_client(sim.url)

    (txid,) = ok(add(api, SELL, oflags="fcib"))["txid"]

    order = query(api, txid)
    cost, fee = Decimal(order["cost"]), Decimal(order["fee"])
    assert sim.balances(KEY) == {"XXBT": Decimal(0), "ZUSD": cost - fee}


@pytest.mark.integration
def test_a_resting_sell_paying_in_base_holds_the_fee_too(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"XXBT": Decimal("1")})
    api = plain_client(sim.url)
    above = (sim.price() + Decimal("1000")).quantize(Decimal("0.1"))

    ok(add(api, SELL, ordertype="limit", price=above))
    held = Decimal(ok(api.query_private("BalanceEx", timeout=TIMEOUT))["XXBT"]["hold_trade"])

    cost = (above * Decimal("0.01")).quantize(Decimal("0.00001"))
    assert held == Decimal("0.01") + base_fee(fee_of(cost, MAKER), above)


@pytest.mark.integration
def test_a_buy_paying_in_base_needs_no_quote_for_the_fee(make_sim: Callable[..., KrakenSimulator]) -> None:
    sim = make_sim(balances={"ZUSD": Decimal("200")})          # exactly the cost of 0.01 at 20000
    api = plain_client(sim.url)
    resting = {**BUY, "ordertype": "limit", "price": "20000"}

    refused = add(api, resting, oflags="fciq")
    (txid,) = ok(add(api, resting, oflags="fcib"))["txid"]

    assert refused == {"error": ["EOrder:Insufficient funds"]}
    assert Decimal(ok(api.query_private("BalanceEx", timeout=TIMEOUT))["ZUSD"]["hold_trade"]) == Decimal("200")
    assert query(api, txid)["oflags"] == "fcib"


def test_config_and_cli_spell_the_new_settings() -> None:
    args = build_parser().parse_args([
        "--fault", "busy:processed=true:count=1:methods=AddOrder", "--fault", "http_error:status=503:processed=1",
        "--fault", "late_listing:delay_s=12.5", "--fault", "thin_book:fill_ratio=0.4",
        "--fault", "slow_fill:delay_s=2:probability=0.5", "--default-fee-currency", "quote"])
    config = config_from_args(args)

    assert config.default_fee_currency == "quote"
    assert config.faults.busy == ServiceError(processed=True, count=1, methods=("AddOrder",))
    assert config.faults.http_error == HttpError(status=503, processed=True)
    assert config.faults.late_listing == LateListing(delay_s=12.5)
    assert config.faults.thin_book == ThinBook(fill_ratio=0.4)
    assert config.faults.slow_fill == SlowFill(delay_s=2.0, probability=0.5)
    assert Faults.from_json(config.faults.to_json()) == config.faults
    with pytest.raises(ConfigError, match="default_fee_currency"):
        SimConfig(default_fee_currency="base")
