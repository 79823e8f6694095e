"""Trades' ``since``/``last`` cursors: integer nanoseconds, never floats.

Kraken documents ``since`` as a nanosecond timestamp and answers ``last`` as
one (a decimal string). Clients also send seconds (ccxt: ``since / 1000``),
and some milliseconds; Kraken serves those from that moment too. The unit is
told by magnitude: up to 11 digits seconds (until the year 5138), up to 14
milliseconds, up to 17 microseconds, else nanoseconds; so a cursor stays
within an unsigned 64-bit integer whatever unit the client picked. A value
that is not a non-negative integer, or above 2**64 - 1, is ``EGeneral:Invalid
arguments``. Times of recorded trades become cursors through ``Decimal``
(``nanoseconds``), never ``float * 1e9``, whose 53-bit mantissa cannot hold a
nanosecond timestamp.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from candlebot.exchanges.kraken_sim.errors import INVALID_ARGUMENTS, KrakenError

MAX_CURSOR = 2**64 - 1
_UNITS = ((10**11, 10**9), (10**14, 10**6), (10**17, 10**3))


def trade_cursor(text: str | None) -> int | None:
    """``since`` as integer nanoseconds (None when absent)."""
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise KrakenError(INVALID_ARGUMENTS)
    value = int(text)
    if value > MAX_CURSOR:
        raise KrakenError(INVALID_ARGUMENTS)
    for limit, scale in _UNITS:
        if value < limit:
            return value * scale
    return value


def nanoseconds(time_text: str) -> int:
    """A decimal unix time (``"1688669448.123456789"``) as exact integer nanoseconds."""
    try:
        return int(Decimal(time_text.strip()).scaleb(9).to_integral_value())
    except InvalidOperation:
        raise ValueError(f"not a time: {time_text!r}") from None
