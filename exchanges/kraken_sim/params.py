"""Reading Kraken request parameters: every malformed value is ``EGeneral:Invalid arguments``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Mapping
from urllib.parse import parse_qs

from candlebot.exchanges.kraken_sim.errors import INVALID_ARGUMENTS, KrakenError

Params = Mapping[str, str]


def parse_form(text: str) -> dict[str, str]:
    """A query string or form body as single values (the first of repeated fields)."""
    return {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}


def text(params: Params, name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise KrakenError(INVALID_ARGUMENTS)
        return None
    return value


def integer(params: Params, name: str, *, default: int | None = None, low: int | None = None,
            high: int | None = None) -> int | None:
    value = text(params, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise KrakenError(INVALID_ARGUMENTS) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise KrakenError(INVALID_ARGUMENTS)
    return number


def decimal(params: Params, name: str) -> Decimal | None:
    """A positive finite decimal, or None when absent."""
    value = text(params, name)
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise KrakenError(INVALID_ARGUMENTS) from None
    if not number.is_finite() or number <= 0:
        raise KrakenError(INVALID_ARGUMENTS)
    return number


def timestamp(params: Params, name: str) -> float | None:
    value = text(params, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise KrakenError(INVALID_ARGUMENTS) from None


def boolean(params: Params, name: str) -> bool:
    value = text(params, name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise KrakenError(INVALID_ARGUMENTS)


def names(params: Params, name: str) -> list[str]:
    """A comma-separated list (empty when absent)."""
    value = text(params, name)
    return [] if value is None else [part.strip() for part in value.split(",") if part.strip()]
