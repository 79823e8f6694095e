"""Kraken's AssetPairs entries as ``PairInfo``, and the pair names users type.

One parser for the live reply and for the bundled snapshot
(``data/kraken_asset_pairs.json``: Kraken's AssetPairs facts for every spot
pair quoted in USD, EUR, XBT, USDT or USDC, with its source and date), so
backtests offline use the same decimals and minimums a live bot gets from the
API; the Kraken simulator serves that snapshot as its AssetPairs. The file is
compact (shared fields and fee/leverage lists stored once) and read on first
use only; ``snapshot_reply`` rebuilds Kraken's own reply shape from it.
"""

from __future__ import annotations

import difflib
import json
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Mapping

from candlebot.errors import ConfigError
from candlebot.pair import PairInfo


def normalise(name: str) -> str:
    """Comparison key for a typed pair name: case, '/', '-', '_', and BTC vs XBT do not matter
    ('btc/usd' and 'XBTUSD' give 'XBTUSD'; Kraken's X/Z-prefixed ids are matched against the id itself)."""
    key = name.strip().upper().replace("/", "").replace("-", "").replace("_", "")
    return key.replace("BTC", "XBT")


def _tiers(rows: Any, field: str, pair_id: str) -> tuple[tuple[Decimal, Decimal], ...]:
    if not rows:
        return ()
    try:
        return tuple((Decimal(str(volume)), Decimal(str(percent)) / 100) for volume, percent in rows)
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError(f"AssetPairs {pair_id}: malformed {field} tiers {rows!r}") from exc


def parse_asset_pair(pair_id: str, entry: Mapping[str, Any]) -> PairInfo:
    """One AssetPairs result entry to PairInfo; ValueError names the missing or malformed field."""
    try:
        taker = _tiers(entry.get("fees"), "fees", pair_id)
        maker = _tiers(entry.get("fees_maker"), "fees_maker", pair_id)
        altname = str(entry["altname"])
        return PairInfo(
            name=pair_id,
            altname=altname,
            wsname=str(entry.get("wsname", altname)),
            base=str(entry["base"]),
            quote=str(entry["quote"]),
            pair_decimals=int(entry["pair_decimals"]),
            lot_decimals=int(entry["lot_decimals"]),
            cost_decimals=int(entry.get("cost_decimals", entry["pair_decimals"])),
            ordermin=Decimal(str(entry.get("ordermin", "0"))),
            costmin=Decimal(str(entry.get("costmin", "0"))),
            tick_size=Decimal(str(entry.get("tick_size") or Decimal(1).scaleb(-int(entry["pair_decimals"])))),
            taker_fee=taker[0][1] if taker else Decimal("0.0026"),
            maker_fee=maker[0][1] if maker else Decimal("0.0016"),
            taker_tiers=taker,
            maker_tiers=maker,
        )
    except KeyError as exc:
        raise ValueError(f"AssetPairs {pair_id}: missing field {exc.args[0]!r}") from exc
    except (TypeError, InvalidOperation, ConfigError) as exc:  # ConfigError: PairInfo refused the values
        raise ValueError(f"AssetPairs {pair_id}: malformed entry ({exc})") from exc


def find_pair(pairs: Mapping[str, PairInfo], name: str) -> PairInfo:
    """Look a user-typed pair name up by id, altname or wsname; ConfigError names the closest known pairs."""
    wanted = normalise(name)
    for pair in pairs.values():
        if wanted in (normalise(pair.name), normalise(pair.altname), normalise(pair.wsname)):
            return pair
    raise ConfigError(unknown_pair_message(name, [(pair.altname, pair.wsname) for pair in pairs.values()]))


def unknown_pair_message(name: str, names: list[tuple[str, str]]) -> str:
    """One line for a pair the catalog lacks, given its (altname, wsname) pairs: the whole list while it is short,
    else the closest names (also by the asset codes Kraken's website shows: DOGEUSD suggests XDGUSD)."""
    known = sorted(altname for altname, _ in names)
    if len(known) <= 12:
        return f"unknown pair {name!r} (known: {', '.join(known)})"
    spellings = {altname: altname for altname in known}
    for altname, wsname in names:
        spellings.setdefault(_shown_name(wsname), altname)
    close = dict.fromkeys(spellings[s] for s in difflib.get_close_matches(normalise(name), list(spellings), n=3, cutoff=0.6))
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown pair {name!r} (not among the {len(known)} Kraken pairs candlebot knows{hint})"


def _shown_name(wsname: str) -> str:
    """``XDG/USD`` as Kraken's website and WebSocket v2 spell it, without the slash: ``DOGEUSD``."""
    return "".join({"XDG": "DOGE"}.get(asset, asset) for asset in wsname.split("/"))


@cache
def _catalog() -> dict[str, Any]:
    return json.loads(resources.files("candlebot.exchanges").joinpath("data/kraken_asset_pairs.json").read_text())


def _entry(catalog: Mapping[str, Any], row: list[Any]) -> dict[str, Any]:
    """One catalog row as Kraken's AssetPairs entry (Kraken's field order)."""
    entry = {**catalog["common"], **dict(zip(catalog["columns"][1:], row[1:]))}
    for field in ("leverage_buy", "leverage_sell", "fees", "fees_maker"):
        entry[field] = catalog["lists"][entry[field]]
    return {field: entry[field] for field in _KRAKEN_ORDER}


@cache
def snapshot_reply() -> dict[str, Any]:
    """The bundled AssetPairs reply, rebuilt in Kraken's own shape (entries keyed by pair id)."""
    catalog = _catalog()
    return {"error": [], "result": {row[0]: _entry(catalog, row) for row in catalog["pairs"]}}


def catalog_pair(name: str) -> PairInfo:
    """The bundled catalog's pair for a user-typed name, parsing that entry alone (a bot needs one pair, not
    all ~1,300: ``offline_pairs`` parses every entry); ConfigError as ``find_pair``."""
    catalog = _catalog()
    wanted = normalise(name)
    altname_at, wsname_at = catalog["columns"].index("altname"), catalog["columns"].index("wsname")
    for row in catalog["pairs"]:
        if wanted in (normalise(row[0]), normalise(row[altname_at]), normalise(row[wsname_at])):
            return parse_asset_pair(row[0], _entry(catalog, row))
    raise ConfigError(unknown_pair_message(name, [(row[altname_at], row[wsname_at]) for row in catalog["pairs"]]))


_KRAKEN_ORDER = ("altname", "wsname", "aclass_base", "base", "aclass_quote", "quote", "lot", "cost_decimals",
                 "pair_decimals", "lot_decimals", "lot_multiplier", "leverage_buy", "leverage_sell", "fees",
                 "fees_maker", "fee_volume_currency", "margin_call", "margin_stop", "ordermin", "costmin",
                 "tick_size", "status")


@cache
def offline_pairs() -> dict[str, PairInfo]:
    """Pairs known without the network, keyed by pair id (parsed once per process)."""
    return {pair_id: parse_asset_pair(pair_id, entry) for pair_id, entry in snapshot_reply()["result"].items()}
