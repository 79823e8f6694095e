"""Kraken result objects as candlebot types.

Every parser takes a call's ``result`` and raises ``MalformedReplyError`` (a
temporary error) when a field is missing or malformed, never a KeyError.
Results are keyed by the pair id even when asked by altname, so
``pair_entry`` finds the entry by id, then altname, then as the only one.
Amounts stay as Kraken wrote them (``Decimal(str)``); candle prices become
float64 for TA-Lib.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, Mapping

from candlebot.candle import Candle
from candlebot.errors import ConfigError
from candlebot.venue import BookLevel, Fill, OhlcPage, OrderBook, Side, Ticker
from candlebot.pair import PairInfo
from candlebot.exchanges.kraken.errors import MalformedReplyError
from candlebot.exchanges.kraken_pairs import normalise, parse_asset_pair

log = logging.getLogger(__name__)

SETTLED = frozenset({"closed", "canceled", "expired"})


class _Reading:
    """Context for one parse: turns KeyError/ValueError/TypeError into MalformedReplyError."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is not None and isinstance(exc, (KeyError, IndexError, ValueError, TypeError,
                                                InvalidOperation, AttributeError)):
            raise MalformedReplyError(f"Kraken {self.what}: unexpected reply ({type(exc).__name__}: {exc})") from exc
        return False


def dec(value: Any) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    result = Decimal(str(value))
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def pair_entry(result: Mapping[str, Any], pair: PairInfo, what: str) -> Any:
    with _Reading(what):
        for key in (pair.name, pair.altname):
            if key in result:
                return result[key]
        wanted = normalise(pair.altname)
        candidates = [k for k in result if k != "last"]
        for key in candidates:
            if normalise(key) in (wanted, normalise(pair.name)):
                return result[key]
        if len(candidates) == 1:
            return result[candidates[0]]
        raise KeyError(pair.name)


def asset_pairs(result: Mapping[str, Any]) -> dict[str, PairInfo]:
    """All usable pairs; an entry that does not parse is skipped (logged), so one odd pair breaks nothing."""
    with _Reading("AssetPairs"):
        pairs: dict[str, PairInfo] = {}
        for pair_id, entry in _items(result):
            try:
                pairs[str(pair_id)] = parse_asset_pair(str(pair_id), entry)
            except (ValueError, ConfigError, AttributeError, TypeError) as exc:
                log.warning("skipping Kraken pair %s: %s", pair_id, exc)
        if not pairs:
            raise ValueError("no usable pairs in the reply")
        return pairs


def ticker(result: Mapping[str, Any], pair: PairInfo, now: float) -> Ticker:
    entry = pair_entry(result, pair, "Ticker")
    with _Reading("Ticker"):
        return Ticker(pair=pair.name, time=now, last=dec(entry["c"][0]), bid=dec(entry["b"][0]),
                      ask=dec(entry["a"][0]), volume_24h=dec(entry["v"][1]), volume_today=dec(entry["v"][0]))


def _candle(row: Any) -> Candle:
    return Candle(time=int(row[0]), open=float(row[1]), high=float(row[2]), low=float(row[3]),
                  close=float(row[4]), volume=float(row[6]))


def ohlc(result: Mapping[str, Any], pair: PairInfo) -> OhlcPage:
    """Kraken's last row is the still-forming candle: it goes to ``forming``."""
    rows = pair_entry(result, pair, "OHLC")
    with _Reading("OHLC"):
        candles = [_candle(row) for row in rows]
        return OhlcPage(candles=tuple(candles[:-1]), forming=candles[-1] if candles else None,
                        last=int(result["last"]))


def _levels(rows: Any) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(price=dec(row[0]), volume=dec(row[1])) for row in rows)


def order_book(result: Mapping[str, Any], pair: PairInfo, now: float) -> OrderBook:
    entry = pair_entry(result, pair, "Depth")
    with _Reading("Depth"):
        bids = tuple(sorted(_levels(entry["bids"]), key=lambda level: level.price, reverse=True))
        asks = tuple(sorted(_levels(entry["asks"]), key=lambda level: level.price))
        return OrderBook(pair=pair.name, time=now, bids=bids, asks=asks)


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One public trade (Kraken ``Trades`` row); ``side`` is the taker's."""

    price: Decimal
    volume: Decimal
    time: float
    side: Side
    ordertype: str
    trade_id: int | None


@dataclass(frozen=True, slots=True)
class TradesPage:
    trades: tuple[PublicTrade, ...]
    last: str


def trades(result: Mapping[str, Any], pair: PairInfo) -> TradesPage:
    rows = pair_entry(result, pair, "Trades")
    with _Reading("Trades"):
        parsed = tuple(
            PublicTrade(price=dec(row[0]), volume=dec(row[1]), time=float(row[2]),
                        side=Side.BUY if row[3] == "b" else Side.SELL,
                        ordertype="market" if row[4] == "m" else "limit",
                        trade_id=int(row[6]) if len(row) > 6 else None)
            for row in rows
        )
        return TradesPage(trades=parsed, last=str(result["last"]))


@dataclass(frozen=True, slots=True)
class AccountFees:
    """The account's fee tier on one pair (TradeVolume): fractions, 0.0024 = 0.24%; ``volume`` its 30-day volume."""

    taker: Decimal
    maker: Decimal
    volume: Decimal


def trade_volume(result: Mapping[str, Any], pair: PairInfo) -> AccountFees:
    """TradeVolume asked with ``pair``: the taker tier in ``fees``, the maker tier in ``fees_maker``
    (pairs without a maker/taker schedule have ``fees`` only: both sides pay it)."""
    with _Reading("TradeVolume"):
        taker = dec(pair_entry(result["fees"], pair, "TradeVolume fees")["fee"]) / 100
        maker_table = result.get("fees_maker") or {}
        maker = dec(pair_entry(maker_table, pair, "TradeVolume fees_maker")["fee"]) / 100 if maker_table else taker
        if not (0 <= taker < 1 and 0 <= maker < 1):
            raise ValueError(f"fee outside [0, 100%): taker {taker}, maker {maker}")
        return AccountFees(taker, maker, dec(result.get("volume", "0")))


def balances(result: Mapping[str, Any]) -> dict[str, Decimal]:
    with _Reading("Balance"):
        return {str(asset): dec(amount) for asset, amount in result.items()}


@dataclass(frozen=True, slots=True)
class KrakenOrder:
    """An order object from QueryOrders/OpenOrders/ClosedOrders, amounts as Kraken's Decimal strings."""

    txid: str
    userref: int | None
    status: str
    pair: str
    side: Side
    ordertype: str
    volume: Decimal
    volume_executed: Decimal
    cost: Decimal
    fee: Decimal
    price: Decimal
    opened: float
    closed: float | None

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    def fill(self, pair_name: str) -> Fill:
        """What this settled order executed (average price, executed volume, cost, fee)."""
        return Fill(order_id=self.txid, userref=self.userref if self.userref is not None else 0,
                    pair=pair_name, side=self.side, time=self.closed if self.closed is not None else self.opened,
                    price=self.price, volume=self.volume_executed, cost=self.cost, fee=self.fee)


def order(txid: str, entry: Mapping[str, Any]) -> KrakenOrder:
    with _Reading("order"):
        descr = entry["descr"]
        userref = entry.get("userref")
        closetm = entry.get("closetm")
        return KrakenOrder(
            txid=str(txid),
            userref=int(userref) if userref not in (None, "") else None,
            status=str(entry["status"]),
            pair=str(descr["pair"]),
            side=Side(descr["type"]),
            ordertype=str(descr.get("ordertype", "")),
            volume=dec(entry["vol"]),
            volume_executed=dec(entry["vol_exec"]),
            cost=dec(entry["cost"]),
            fee=dec(entry["fee"]),
            price=dec(entry.get("price") or entry.get("avg_price") or "0"),
            opened=float(entry.get("opentm") or 0),
            closed=float(closetm) if closetm not in (None, "", 0) else None,
        )


def orders(result: Mapping[str, Any], field: str | None = None) -> list[KrakenOrder]:
    """Orders from ``{txid: order}`` or, with ``field``, from ``{field: {txid: order}}``."""
    with _Reading(field or "QueryOrders"):
        table = result[field] if field else result
        return [order(txid, entry) for txid, entry in _items(table)]


def _items(table: Any) -> Iterator[tuple[str, Any]]:
    if not isinstance(table, Mapping):
        raise TypeError(f"expected an object of orders, got {type(table).__name__}")
    return iter(table.items())


def added_txids(result: Mapping[str, Any]) -> list[str]:
    with _Reading("AddOrder"):
        txids = result["txid"]
        if isinstance(txids, str):
            txids = [txids]
        if not txids:
            raise ValueError("no txid")
        return [str(t) for t in txids]


@dataclass(frozen=True, slots=True)
class OwnTrade:
    """One of our trades from TradesHistory."""

    trade_id: str
    order_txid: str
    pair: str
    time: float


def own_trades(result: Mapping[str, Any]) -> list[OwnTrade]:
    with _Reading("TradesHistory"):
        return [OwnTrade(str(tid), str(t["ordertxid"]), str(t.get("pair", "")), float(t.get("time", 0)))
                for tid, t in _items(result["trades"])]
