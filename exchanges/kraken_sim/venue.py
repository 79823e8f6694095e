"""The simulated venue: one pair's market, the accounts, and the gatekeepers, behind one lock.

Private calls pass, in Kraken's order: key, signature and nonce (``auth``),
then the key's REST rate counter, or for AddOrder and CancelOrder the key's trading
counter of the pair (``ratelimit``), and only then touch an account.
A call refused at any gate changes nothing but the counters. Every request is
served under one lock, so that orders, balances and nonces stay consistent
whatever the number of client threads.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import replace
from decimal import Decimal
from typing import Any, Mapping

from candlebot.clock import Clock, utc
from candlebot.errors import ConfigError
from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_pairs import catalog_pair, normalise, snapshot_reply
from candlebot.exchanges.kraken_sim.accounts import Accounts, Draw
from candlebot.exchanges.kraken_sim.auth import Authenticator
from candlebot.exchanges.kraken_sim.book import BookMaker
from candlebot.exchanges.kraken_sim.catalog import Catalog
from candlebot.exchanges.kraken_sim.config import SimConfig, secret_bytes
from candlebot.exchanges.kraken_sim.counters import Counters
from candlebot.exchanges.kraken_sim.errors import ORDER_RATE_LIMITED, RATE_LIMITED, KrakenError
from candlebot.exchanges.kraken_sim.market import DAY, HOUR, GeneratedPath, PricePath
from candlebot.exchanges.kraken_sim.orders import IdMaker, order_json
from candlebot.exchanges.kraken_sim.params import parse_form
from candlebot.exchanges.kraken_sim.private import PrivateApi, balance_str
from candlebot.exchanges.kraken_sim.public import MarketData
from candlebot.exchanges.kraken_sim.ratelimit import TRADING_METHODS, RateCounter, TradingCounter, tier_named, trading_tier_named
from candlebot.exchanges.kraken_sim.replay import ReplayPath, load_candles
from candlebot.exchanges.kraken_sim.tape import TapePath, is_trades_file, load_trades
from candlebot.exchanges.kraken_sim.timeline import SimTime
from candlebot.exchanges.kraken_sim.units import Units

DEFAULT_PRICES = {"XBTUSD": "30000", "XBTUSDT": "30000", "XBTUSDC": "30000", "XBTEUR": "27500",
                  "ETHUSD": "1900", "ETHXBT": "0.065"}
_CASH_QUOTES = frozenset({"ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZCHF", "ZAUD", "USDT", "USDC", "DAI"})
TRADE_NOTIONAL = Decimal(300)
"""Mean size of one tape trade, in quote currency (pairs quoted in cash); the book's levels are 50 times that."""

log = logging.getLogger("candlebot.exchanges.kraken_sim")


class Venue:
    def __init__(self, config: SimConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        pair = catalog_pair(config.pair)
        if config.tick_size is not None:
            pair = replace(pair, tick_size=config.tick_size)
        self.pair = pair
        self.units = Units(pair)
        self.path, origin = self._market(config, clock)
        self.time = SimTime(clock, origin, config.speed)
        trade_lots = self._trade_lots(self.units.price(self.path.ticks_at(origin)))
        self.books = BookMaker(seed=config.seed, mean_lots=50 * trade_lots, min_lots=self.units.lots(pair.ordermin))
        self.catalog = Catalog(_with_tick(snapshot_reply(), pair), pair)
        self.market = MarketData(catalog=self.catalog, path=self.path, books=self.books, units=self.units)
        self.accounts = Accounts(units=self.units, path=self.path, books=self.books, ids=IdMaker(config.seed),
                                 keys=config.api_keys, balances=config.balances,
                                 default_fee_currency=config.default_fee_currency, volume_30d=config.volume_30d)
        self.private_api = PrivateApi(catalog=self.catalog, accounts=self.accounts, units=self.units)
        self.auth = Authenticator({key: secret_bytes(secret, key) for key, secret in config.api_keys.items()})
        self.rate = RateCounter(tier_named(config.tier))
        self.trading_rate = TradingCounter(trading_tier_named(config.tier))
        self.counters = Counters()
        self._lock = threading.Lock()

    def _market(self, config: SimConfig, clock: Clock) -> tuple[PricePath, float]:
        pair = self.pair
        if config.data is not None:
            path: ReplayPath | TapePath
            if is_trades_file(config.data):
                path = TapePath(load_trades(config.data, pair.tick_size, pair.lot_decimals))
            else:
                path = ReplayPath(load_candles(config.data, pair.tick_size, pair.lot_decimals))
            return path, float(_replay_origin(config.start, path.genesis, path.end, config.data.name))
        if config.start is not None:
            raise ConfigError("--from applies to a replay (--data FILE) only")
        price = config.start_price or Decimal(DEFAULT_PRICES.get(normalise(pair.altname), "100"))
        base_ticks = int(price / pair.tick_size)
        if base_ticks < 100:
            raise ConfigError(f"start price {price} is under 100 ticks of {pair.tick_size}")
        origin = clock.now()
        genesis = math.floor(origin / HOUR) * HOUR - config.history_days * DAY
        path = GeneratedPath(seed=config.seed, base_ticks=base_ticks, mean_lots=self._trade_lots(price), genesis=genesis)
        return path, origin

    def _trade_lots(self, price: Decimal) -> float:
        """Mean tape trade, in lots: TRADE_NOTIONAL of a cash quote, else 0.1 of the base."""
        volume = TRADE_NOTIONAL / price if self.pair.quote in _CASH_QUOTES else Decimal("0.1")
        return max(1.0, float(volume.scaleb(self.pair.lot_decimals)))

    # -- requests -----------------------------------------------------------------------------------------------

    def public(self, method: str, params: Mapping[str, str]) -> Any:
        with self._lock:
            self.counters.add("public")
            try:
                return self.market.handle(method, params, self.time.now())
            except KrakenError:
                self.counters.add("errors")
                raise

    def private(self, method: str, key: str | None, signature: str | None, path: str, body: bytes,
                draw: Draw | None = None) -> Any:
        """One private call; ``draw`` gives the order faults for an order that AddOrder books (see ``accounts``)."""
        with self._lock:
            self.counters.add("private")
            self.counters.add(f"private.{method}")  # what a test of a bot's (or a fleet's) private calls counts
            try:
                account = self.auth.verify(key, signature, path, body)
                params = parse_form(body.decode("utf-8", "replace"))
                if method in TRADING_METHODS:
                    if not self._admit_trading(account, method, params):
                        self.counters.add("order_rate_limited")
                        raise KrakenError(ORDER_RATE_LIMITED)
                elif not self.rate.admit(account, method, self.clock.now()):
                    self.counters.add("rate_limited")
                    raise KrakenError(RATE_LIMITED)
                now = round(self.time.now(), 4)  # Kraken's order and trade times carry 4 decimals
                self.accounts.sync(now)
                result = self.private_api.handle(method, account, params, now, draw)
            except KrakenError:
                self.counters.add("errors")
                raise
            if method == "AddOrder":
                self.counters.add("orders_placed" if "txid" in result else "orders_validated")
            return result

    def _admit_trading(self, key: str, method: str, params: Mapping[str, str]) -> bool:
        """The matching engine's per-pair counter: +1 per AddOrder; a cancel costs more the younger its orders."""
        now = self.clock.now()
        if method == "AddOrder":
            return self.trading_rate.admit_add(key, self.pair.name, now)
        account = self.accounts.accounts.get(key)
        txid, cl_ord_id = params.get("txid"), params.get("cl_ord_id")
        orders = [] if account is None else [
            o for o in account.orders.values() if o.is_open and (
                o.txid == txid or (cl_ord_id is not None and o.cl_ord_id == cl_ord_id)
                or (txid is not None and txid.lstrip("-").isdigit() and o.userref == int(txid)))]
        sim_now = self.time.now()
        return self.trading_rate.admit_cancel(key, self.pair.name, (sim_now - o.opentm for o in orders), now)

    # -- inspection (tests, admin endpoint) ---------------------------------------------------------------------

    def now(self) -> float:
        return self.time.now()

    def price(self) -> Decimal:
        with self._lock:
            return self.units.price(self.path.ticks_at(self.time.now()))

    def orders(self, userref: int | None = None, key: str | None = None) -> list[dict[str, Any]]:
        """Every booked order (oldest first) as Kraken's order object plus ``txid``; validate-only orders never exist."""
        with self._lock:
            self.accounts.sync(self.time.now())
            return [{"txid": o.txid, **order_json(o, self.units, with_trades=True)}
                    for o in self.accounts.all_orders()
                    if (userref is None or o.userref == userref) and (key is None or o.key == key)]

    def balances(self, key: str) -> dict[str, Decimal]:
        with self._lock:
            self.accounts.sync(self.time.now())
            if key not in self.accounts.accounts:
                raise KeyError(f"no account for API key {key!r}")
            return dict(self.accounts.account(key).balances)

    def counter_values(self) -> dict[str, int]:
        with self._lock:
            values = {"requests": 0, "public": 0, "private": 0, "errors": 0, "internal_errors": 0, "rate_limited": 0,
                      "order_rate_limited": 0,
                      "orders_placed": 0, "orders_validated": 0, **self.auth.rejections}
            values.update(self.counters.snapshot())
            values["fills"] = sum(len(a.trades) for a in self.accounts.accounts.values())
            return values

    def state(self) -> dict[str, Any]:
        """The admin view: time, market, balances (as strings), orders and counters.

        Complete, whatever the faults: orders not yet listed to the client are
        here too, with ``listed: false`` (every order carries ``listed``).
        """
        with self._lock:
            now = self.time.now()
            self.accounts.sync(now)
            balances = {key: {asset: balance_str(asset, amount) for asset, amount in account.balances.items()}
                        for key, account in self.accounts.accounts.items()}
            orders = [{"txid": o.txid, "key": o.key, **order_json(o, self.units, with_trades=True),
                       "listed": o.listed(now)} for o in self.accounts.all_orders()]
            last = self.units.price(self.path.ticks_at(now))
        replay = isinstance(self.path, (ReplayPath, TapePath))
        return {
            "time": now,
            "pair": self.pair.name,
            "altname": self.pair.altname,
            "price": f"{last}",
            "source": {"kind": "replay", "file": str(self.config.data), "first": self.path.genesis,
                       "end": self.path.end, "finished": now >= self.path.end} if replay
            else {"kind": "generated", "seed": self.config.seed, "genesis": self.path.genesis},
            "speed": self.config.speed,
            "tier": self.config.tier,
            "nonces": {key: self.auth.last_nonce(key) for key in self.auth.keys},
            "balances": balances,
            "orders": orders,
            "counters": self.counter_values(),
        }


def _with_tick(snapshot: dict, pair: PairInfo) -> dict:
    """A copy of the AssetPairs snapshot (shared by the process: never changed) with the simulated pair's tick
    (``SimConfig.tick_size``) in its entry."""
    entry = snapshot["result"].get(pair.name)
    if entry is None or entry.get("tick_size") == f"{pair.tick_size:f}":
        return snapshot
    return {**snapshot, "result": {**snapshot["result"], pair.name: {**entry, "tick_size": f"{pair.tick_size:f}"}}}


def _replay_origin(start: int | None, genesis: int, end: int, name: str) -> int:
    """Where a replay starts (``start`` is ``--from``), as ``candlebot backtest`` does it: a start before the data
    is a warning and the first candle (nothing is made up before it); one past its end is refused (nothing left
    to replay). Both name the flag and say the times in UTC."""
    if start is None:
        return genesis
    if start > end:
        raise ConfigError(f"--from {utc(start)} UTC is after the end of {name} "
                          f"({utc(genesis)} .. {utc(end)} UTC): nothing left to replay")
    if start < genesis:
        log.warning("--from %s UTC is before the first candle of %s (which starts %s UTC): the replay starts there",
                    utc(start), name, utc(genesis))
        return genesis
    return start

