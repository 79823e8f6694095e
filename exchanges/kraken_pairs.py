"""Kraken's AssetPairs entries as ``PairInfo``, and the pair names users type.

One parser for the live reply and for the bundled snapshot
(``data/kraken_asset_pairs.json``, Kraken's own reply format), so backtests
offline use the same decimals and minimums a live bot gets from the API; the
Kraken simulator serves that snapshot as its AssetPairs.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Mapping

from candlebot.errors import ConfigError
from candlebot.pair import PairInfo


def normalise(name: str) -> str:
    """Comparison key for a typed pair name: case, '/', '-', '_' and BTC vs XBT do not matter
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
    """Look a user-typed pair name up by id, altname or wsname; ConfigError lists what exists."""
    wanted = normalise(name)
    for pair in pairs.values():
        if wanted in (normalise(pair.name), normalise(pair.altname), normalise(pair.wsname)):
            return pair
    known = ", ".join(sorted(p.altname for p in pairs.values()))
    raise ConfigError(f"unknown pair {name!r} (known: {known})")


@cache
def snapshot_reply() -> dict[str, Any]:
    """The bundled AssetPairs reply, exactly as Kraken shapes it."""
    text = resources.files("candlebot.exchanges").joinpath("data/kraken_asset_pairs.json").read_text()
    return json.loads(text)


def offline_pairs() -> dict[str, PairInfo]:
    """Pairs known without the network, keyed by pair id."""
    return {pair_id: parse_asset_pair(pair_id, entry) for pair_id, entry in snapshot_reply()["result"].items()}
