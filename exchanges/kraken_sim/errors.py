"""Kraken's error strings, as the simulator sends them.

Handlers raise ``KrakenError(code)``; the server turns it into Kraken's
envelope ``{"error": [code]}`` with HTTP 200, as the real API does. Strings
are the exact ones in KRAKEN.md so that the adapter's error table matches them.
"""

from __future__ import annotations

INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
UNKNOWN_METHOD = "EGeneral:Unknown method"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
RATE_LIMITED = "EAPI:Rate limit exceeded"
ORDER_RATE_LIMITED = "EOrder:Rate limit exceeded"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
ORDER_MINIMUM = "EOrder:Order minimum not met"
COST_MINIMUM = "EOrder:Cost minimum not met"
UNKNOWN_ORDER = "EOrder:Unknown order"
INVALID_ORDER = "EOrder:Invalid order"
INVALID_PRICE = "EOrder:Invalid price"
UNAVAILABLE = "EService:Unavailable"
BUSY = "EService:Busy"
INTERNAL_ERROR = "EGeneral:Internal error"


class KrakenError(Exception):
    """A request refused the way Kraken refuses it: one error string, nothing changed."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

