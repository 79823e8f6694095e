"""Decimal arithmetic for booked amounts.

Prices come from candles as float64 (TA-Lib needs them so); everything the
ledger books goes through here first, so a float never reaches a balance.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

ZERO = Decimal(0)

_STEPS = tuple(Decimal(1).scaleb(-places) for places in range(19))


def step(places: int) -> Decimal:
    """The smallest increment with ``places`` decimals (``step(2) == Decimal('0.01')``)."""
    return _STEPS[places]


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """Exact Decimal of a price or amount; floats go through their shortest repr ('0.1', not 0.1000000000000000055)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not a finite amount: {value!r}")
        return Decimal(float.__repr__(value))  # numpy 2 floats repr as np.float64(...)
    return Decimal(value)


def floor_to(value: Decimal, places: int) -> Decimal:
    """Round toward -inf: volumes are floored so that an order never exceeds what was committed."""
    return value.quantize(_STEPS[places], rounding=ROUND_FLOOR)


def ceil_to(value: Decimal, places: int) -> Decimal:
    """Round toward +inf: fees are rounded up so that the ledger never under-books what the exchange takes."""
    return value.quantize(_STEPS[places], rounding=ROUND_CEILING)


def round_to(value: Decimal, places: int) -> Decimal:
    """Banker's rounding, for notional cost (neither side favoured)."""
    return value.quantize(_STEPS[places], rounding=ROUND_HALF_EVEN)
