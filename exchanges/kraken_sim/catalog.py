"""The pairs the simulator knows: Kraken's AssetPairs snapshot, and the one pair it makes a market in.

Every snapshot pair answers AssetPairs (by id, altname or wsname). Market data
and orders exist only for the configured pair: asking Ticker, OHLC, Depth,
Trades or AddOrder about another snapshot pair gives ``EQuery:Unknown asset
pair``, as Kraken answers for a pair it does not list.
"""

from __future__ import annotations

from typing import Any, Mapping

from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_sim.errors import INVALID_ARGUMENTS, UNKNOWN_PAIR, KrakenError

_INFO_FIELDS = {
    "leverage": ("leverage_buy", "leverage_sell"),
    "fees": ("fees", "fee_volume_currency"),
    "margin": ("margin_call", "margin_stop", "margin_level"),
}


class Catalog:
    def __init__(self, snapshot: Mapping[str, Any], market: PairInfo) -> None:
        self._entries: dict[str, dict[str, Any]] = dict(snapshot["result"])
        self.market = market
        self._names: dict[str, str] = {}
        for pair_id, entry in self._entries.items():
            for name in (pair_id, entry.get("altname"), entry.get("wsname")):
                if name:
                    self._names[str(name).upper()] = pair_id

    def pair_id(self, name: str) -> str:
        """The snapshot id of ``name``; ``EQuery:Unknown asset pair`` when Kraken would not know it."""
        pair_id = self._names.get(name.strip().upper())
        if pair_id is None:
            raise KrakenError(UNKNOWN_PAIR)
        return pair_id

    def market_pair(self, name: str) -> PairInfo:
        """The simulated pair, if ``name`` is it; other pairs have no market here."""
        if self.pair_id(name) != self.market.name:
            raise KrakenError(UNKNOWN_PAIR)
        return self.market

    def asset_pairs(self, names: list[str], info: str | None) -> dict[str, Any]:
        """The AssetPairs result for ``names`` (all pairs when empty), trimmed to ``info``."""
        ids = [self.pair_id(n) for n in names] if names else list(self._entries)
        if info not in (None, "info") and info not in _INFO_FIELDS:
            raise KrakenError(INVALID_ARGUMENTS)
        out = {}
        for pair_id in ids:
            entry = self._entries[pair_id]
            if info in _INFO_FIELDS:
                entry = {k: entry[k] for k in _INFO_FIELDS[info] if k in entry}
            out[pair_id] = entry
        return out
