"""The live Kraken adapter: ``KrakenExchange`` over krakenex, with its parts one concept per module.

    keys       KrakenCredentials: key file (chmod 600) or environment; never shows the secret
    nonce      NonceSequencer: per-key nonces and rate counter in a locked file, shared by processes
    ratelimit  RateLimiter: the client-side model of Kraken's per-key REST counter
    errors     Kraken error strings and requests exceptions -> candlebot.errors, once
    client     KrakenClient: krakenex with base URL, timeouts, signed-data hygiene, retries
    replies    result objects -> candlebot types (Ticker, OhlcPage, OrderBook, Fill, KrakenOrder)
    orders     KrakenOrders: idempotent market orders by userref, lookups, reconciliation
    config     KrakenConfig and the CLI flags (--key-file, --kraken-url, --kraken-tier, --kraken-timeout)
    exchange   KrakenExchange: candlebot.venue.Exchange on Kraken

``candlebot.assembly`` builds ``KrakenExchange(config, credentials=load_credentials(...))``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from candlebot.exchanges.kraken.config import KrakenConfig

if TYPE_CHECKING:
    from candlebot.exchanges.kraken.exchange import KrakenExchange
    from candlebot.exchanges.kraken.keys import KrakenCredentials, load_credentials

_LAZY = {"KrakenExchange": "candlebot.exchanges.kraken.exchange", "KrakenCredentials": "candlebot.exchanges.kraken.keys",
         "load_credentials": "candlebot.exchanges.kraken.keys"}


def __getattr__(name: str) -> Any:
    """krakenex and requests load only when an exchange is built: backtests never pay for them."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = ["KrakenConfig", "KrakenCredentials", "KrakenExchange", "load_credentials"]
