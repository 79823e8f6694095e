"""A pair as the collector sees it: the bots' name, Kraken's v2 symbol and the checksum's precisions.

Precisions come from AssetPairs (``pair_decimals`` for prices, ``lot_decimals`` for quantities),
fetched from ``--rest-url`` at start; the bundled snapshot is the fallback when Kraken cannot be
reached. KRAKEN.md: the checksum must be formatted at these precisions, never from the JSON number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

from candlebot.errors import ConfigError
from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs, parse_asset_pair

log = logging.getLogger(__name__)

# v2 names assets as the world does; AssetPairs' wsname keeps Kraken's legacy codes.
_V2_ASSETS = {"XBT": "BTC", "XDG": "DOGE"}


@dataclass(frozen=True, slots=True)
class Instrument:
    pair: str            # the bots' name, e.g. XBTUSD (AssetPairs altname)
    symbol: str          # WebSocket v2 symbol, e.g. BTC/USD
    price_decimals: int
    qty_decimals: int

    def __post_init__(self) -> None:
        if not (0 <= self.price_decimals <= 12 and 0 <= self.qty_decimals <= 12):
            raise ConfigError(f"{self.pair}: precisions out of range ({self.price_decimals}, {self.qty_decimals})")


def v2_symbol(wsname: str) -> str:
    return "/".join(_V2_ASSETS.get(asset, asset) for asset in wsname.split("/"))


def instrument(pair: PairInfo) -> Instrument:
    return Instrument(pair.altname, v2_symbol(pair.wsname), pair.pair_decimals, pair.lot_decimals)


def resolve(names: list[str], asset_pairs: Mapping[str, Any] | None) -> list[Instrument]:
    """Instruments for ``names`` from an AssetPairs ``result`` (None: the bundled snapshot); ConfigError if unknown."""
    if asset_pairs is None:
        pairs = offline_pairs()
    else:
        pairs = {}
        for pair_id, entry in asset_pairs.items():
            try:
                pairs[pair_id] = parse_asset_pair(pair_id, entry)
            except ValueError as exc:  # one odd listing must not stop the pairs asked for
                log.debug("AssetPairs: %s", exc)
    found = [instrument(find_pair(pairs, name)) for name in names]
    seen = [i.pair for i in found]
    if len(set(seen)) != len(seen):
        raise ConfigError(f"--pairs names a pair twice: {','.join(names)}")
    return found


def fetch_asset_pairs(rest_url: str, timeout: float = 10.0) -> Mapping[str, Any] | None:
    """AssetPairs from Kraken (or the simulator); None, logged, when it cannot be had."""
    import krakenex
    import requests

    api = krakenex.API()
    api.uri = rest_url.rstrip("/")
    try:
        reply = api.query_public("AssetPairs", timeout=timeout)
    except (requests.RequestException, ValueError) as exc:
        log.warning("AssetPairs from %s failed (%s): using the bundled snapshot", rest_url, type(exc).__name__)
        return None
    finally:
        api.session.close()
    if reply.get("error") or not isinstance(reply.get("result"), dict):
        log.warning("AssetPairs from %s answered %s: using the bundled snapshot", rest_url, reply.get("error"))
        return None
    return reply["result"]
