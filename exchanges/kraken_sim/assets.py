"""Kraken's ``Assets`` answer for the assets of the AssetPairs snapshot.

Kraken's own entries for the snapshot's assets (``aclass``, ``altname``,
``decimals``, ``display_decimals``, ``collateral_value``, ``status``), keyed by
asset id (``XXBT`` has altname ``XBT``, ``ZUSD`` ``USD``, as ccxt's parser expects).
An asset missing from the table is described from its id: crypto at 10
decimals, Kraken's legacy Z-prefixed fiat at 4; only Kraken's legacy ids lose
their X/Z prefix in the altname (``XXRP`` is ``XRP``, but ``ZEUS`` and ``XION``
are assets of those names). ``asset`` filters by id,
altname or the common code (``BTC``); an unknown one is ``EQuery:Unknown asset``.
"""

from __future__ import annotations

from typing import Any, Iterable

from candlebot.exchanges.kraken_sim.errors import INVALID_ARGUMENTS, KrakenError

UNKNOWN_ASSET = "EQuery:Unknown asset"
_KNOWN: dict[str, dict[str, Any]] = {
    "XXBT": {"aclass": "currency", "altname": "XBT", "decimals": 10, "display_decimals": 5,
             "collateral_value": 1.0, "status": "enabled"},
    "XETH": {"aclass": "currency", "altname": "ETH", "decimals": 10, "display_decimals": 5,
             "collateral_value": 1.0, "status": "enabled"},
    "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2,
             "collateral_value": 1.0, "status": "enabled"},
    "ZEUR": {"aclass": "currency", "altname": "EUR", "decimals": 4, "display_decimals": 2,
             "collateral_value": 1.0, "status": "enabled"},
    "USDT": {"aclass": "currency", "altname": "USDT", "decimals": 8, "display_decimals": 4,
             "collateral_value": 1.0, "status": "enabled"},
    "USDC": {"aclass": "currency", "altname": "USDC", "decimals": 8, "display_decimals": 4,
             "collateral_value": 1.0, "status": "enabled"},
}
_COMMON = {"XBT": "BTC", "XDG": "DOGE"}
_LEGACY_CRYPTO = frozenset({"XXBT", "XETH", "XLTC", "XXDG", "XETC", "XMLN", "XXMR", "XREP", "XXRP", "XXLM", "XZEC"})
_LEGACY_FIAT = frozenset({"ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZAUD"})


def _entry(asset: str) -> dict[str, Any]:
    known = _KNOWN.get(asset)
    if known is not None:
        return dict(known)
    fiat = asset in _LEGACY_FIAT
    altname = asset[1:] if fiat or asset in _LEGACY_CRYPTO else asset
    return {"aclass": "currency", "altname": altname, "decimals": 4 if fiat else 10,
            "display_decimals": 2 if fiat else 5, "status": "enabled"}


class AssetTable:
    def __init__(self, assets: Iterable[str]) -> None:
        self._entries = {asset: _entry(asset) for asset in assets}
        self._names: dict[str, str] = {}
        for asset, entry in self._entries.items():
            altname = str(entry["altname"])
            for name in (asset, altname, _COMMON.get(altname, altname)):
                self._names[name.upper()] = asset

    def answer(self, names: list[str], aclass: str | None) -> dict[str, Any]:
        """The Assets result for ``names`` (all when empty), keyed by asset id."""
        if aclass not in (None, "currency"):
            raise KrakenError(INVALID_ARGUMENTS)
        ids = []
        for name in names:
            asset = self._names.get(name.strip().upper())
            if asset is None:
                raise KrakenError(UNKNOWN_ASSET)
            ids.append(asset)
        return {asset: dict(self._entries[asset]) for asset in (ids or self._entries)}
