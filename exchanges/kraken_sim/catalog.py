"""The pairs the simulator knows: Kraken's AssetPairs snapshot, and the one pair it makes a market in.

Every snapshot pair answers AssetPairs by every name Kraken accepts: the pair
id (``XXBTZUSD``), the altname (``XBTUSD``), the wsname (``XBT/USD``) and the
WebSocket v2 symbol (``BTC/USD``), case-insensitively. Answers are keyed the
way Kraken keys them: by the pair id when asked by id or altname, and by the
name as asked when asked in a slash form (a v2 client asking ``BTC/USD``
finds ``result["BTC/USD"]``; see docs/kraken-simulator.md). Market data and
orders exist only for the configured pair: asking Ticker, OHLC, Depth, Trades
or AddOrder about another snapshot pair gives ``EQuery:Unknown asset pair``,
as Kraken answers for a pair it does not list.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_sim.errors import INVALID_ARGUMENTS, UNKNOWN_PAIR, KrakenError

_INFO_FIELDS = {
    "leverage": ("leverage_buy", "leverage_sell"),
    "fees": ("fees", "fee_volume_currency"),
    "margin": ("margin_call", "margin_stop", "margin_level"),
}
_V2_ASSETS = {"XBT": "BTC", "XDG": "DOGE"}


def v2_symbol(wsname: str) -> str:
    """The WebSocket v2 symbol of a wsname: ``XBT/USD`` -> ``BTC/USD``."""
    return "/".join(_V2_ASSETS.get(asset, asset) for asset in wsname.split("/"))


def result_key(name: str, pair_id: str) -> str:
    """The key Kraken files an answer under: the name as asked for slash forms, else the pair id."""
    return name.strip() if "/" in name else pair_id


class WholeCatalog(dict):  # type: ignore[type-arg]
    """AssetPairs without arguments: every pair (~1,300, ~1 MB of JSON), the same on every call, so the server sends
    the envelope encoded once (encoding it per call took ~50 ms, past a 1 s client timeout on a loaded machine)."""

    _encoded: bytes | None = None

    def envelope_bytes(self) -> bytes:
        if self._encoded is None:
            self._encoded = json.dumps({"error": [], "result": self}, separators=(",", ":")).encode()
        return self._encoded


class Catalog:
    def __init__(self, snapshot: Mapping[str, Any], market: PairInfo) -> None:
        self._entries: dict[str, dict[str, Any]] = dict(snapshot["result"])
        self._whole = WholeCatalog(self._entries)
        self.market = market
        self._names: dict[str, str] = {}
        for pair_id, entry in self._entries.items():
            wsname = entry.get("wsname")
            for name in (pair_id, entry.get("altname"), wsname, wsname and v2_symbol(str(wsname))):
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

    def market_key(self, name: str) -> str:
        """The key of a market-data answer about the simulated pair asked as ``name``."""
        return result_key(name, self.market_pair(name).name)

    def asset_pairs(self, names: list[str], info: str | None) -> dict[str, Any]:
        """The AssetPairs result for ``names`` (all pairs when empty), trimmed to ``info``."""
        if not names and info in (None, "info"):
            return self._whole
        keyed = [(result_key(n, self.pair_id(n)), self.pair_id(n)) for n in names] if names \
            else [(pair_id, pair_id) for pair_id in self._entries]
        if info not in (None, "info") and info not in _INFO_FIELDS:
            raise KrakenError(INVALID_ARGUMENTS)
        out = {}
        for key, pair_id in keyed:
            entry = self._entries[pair_id]
            if info in _INFO_FIELDS:
                entry = {k: entry[k] for k in _INFO_FIELDS[info] if k in entry}
            out[key] = entry
        return out

    def assets(self) -> list[str]:
        """Every asset id the snapshot's pairs trade, in first-seen order."""
        seen: dict[str, None] = {}
        for entry in self._entries.values():
            seen.setdefault(str(entry["base"]))
            seen.setdefault(str(entry["quote"]))
        return list(seen)
