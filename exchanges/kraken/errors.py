"""Kraken's error strings and transport failures, translated into candlebot's error tree.

This is the one place where vendor errors become candlebot errors. Every
translation says what the caller must do, and whether the call may have had
an effect. That last point matters only for AddOrder: an ``Outcome.UNKNOWN``
failure of a read is a temporary error (retry), of an order it is
``OrderOutcomeUnknown`` (look the order up, never resend blindly).

    Kraken reply / exception                          read                     AddOrder
    EGeneral:Invalid arguments, EQuery:Unknown ...    FatalExchangeError       FatalExchangeError
    EAPI:Invalid key/signature, Permission denied     AuthError                AuthError
    EAPI:Invalid nonce                                TemporaryExchangeError   TemporaryExchangeError (safe)
    EAPI/EOrder:Rate limit exceeded, EService:Thr.    RateLimitError           RateLimitError (safe)
    EGeneral:Temporary lockout                        TemporaryExchangeError (retry_after: minutes)
    EOrder:Insufficient funds, minimums, EOrder:*     OrderRejected            OrderRejected
    EOrder:Unknown order                              UnknownOrderError        UnknownOrderError
    EService:Unavailable/Busy, EGeneral:Internal      TemporaryExchangeError   OrderOutcomeUnknown
    HTTP 5xx/52x/408, read timeout, reset, bad body   TemporaryExchangeError   OrderOutcomeUnknown
    HTTP 429                                          RateLimitError           RateLimitError (safe)
    connect timeout / refused (never sent)            TemporaryExchangeError   TemporaryExchangeError (safe)
    other HTTP 4xx (wrong URL)                        FatalExchangeError       FatalExchangeError
    krakenex "key or secret is not set"               AuthError                AuthError

Unknown strings fall back on their category prefix (``EService:*`` is
outcome-unknown, ``EOrder:*`` a rejection, ``EAPI:*`` auth, ``EGeneral:*``,
``EQuery:*`` and anything else fatal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import requests
import urllib3.exceptions

from candlebot.errors import (
    AuthError,
    ExchangeError,
    FatalExchangeError,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimitError,
    TemporaryExchangeError,
)

LOCKOUT_PAUSE = 300.0
"""Seconds to pause after ``EGeneral:Temporary lockout`` (Kraken says: minutes)."""


class UnknownOrderError(FatalExchangeError):
    """``EOrder:Unknown order``: the order referenced does not exist (treat a cancel as done)."""


class DuplicateOrderError(FatalExchangeError):
    """More than one executed order carries one userref: the books cannot tell which is ours; a human must look."""


class RateBudgetDeferred(RateLimitError):
    """A deferrable call was not sent: the key is busy or its rate budget is kept for orders. Try later."""


class MalformedReplyError(TemporaryExchangeError):
    """A reply that is not Kraken's envelope or lacks a field we need (HTML page, bad JSON, missing key)."""


class Outcome(Enum):
    """What a failed call tells us about its effect and what to do."""

    FATAL = "fatal"              # our bug or config: stop
    AUTH = "auth"                # credentials refused: stop, alert
    REJECTED_SAFE = "safe"       # refused before processing: retry (even AddOrder)
    RATE_LIMITED = "rate"        # refused for a rate counter: back off, retry
    LOCKOUT = "lockout"          # too many auth failures: wait minutes
    ORDER_REJECTED = "rejected"  # the order itself is refused: no retry
    UNKNOWN_ORDER = "gone"       # query/cancel miss
    UNKNOWN = "unknown"          # may or may not have been processed


@dataclass(frozen=True, slots=True)
class _Rule:
    outcome: Outcome
    note: str


KRAKEN_ERRORS: dict[str, _Rule] = {
    "EGeneral:Invalid arguments": _Rule(Outcome.FATAL, "invalid arguments (our bug or config)"),
    "EQuery:Unknown asset pair": _Rule(Outcome.FATAL, "unknown asset pair"),
    "EGeneral:Permission denied": _Rule(Outcome.AUTH, "the API key lacks a permission this call needs"),
    "EAPI:Invalid key": _Rule(Outcome.AUTH, "Kraken refused the API key"),
    "EAPI:Invalid signature": _Rule(Outcome.AUTH, "Kraken refused the request signature (wrong secret?)"),
    "EAPI:Invalid nonce": _Rule(Outcome.REJECTED_SAFE, "nonce not above the last one accepted for this key"),
    "EGeneral:Temporary lockout": _Rule(Outcome.LOCKOUT, "temporary lockout after repeated auth failures"),
    "EAPI:Rate limit exceeded": _Rule(Outcome.RATE_LIMITED, "REST rate counter full"),
    "EOrder:Rate limit exceeded": _Rule(Outcome.RATE_LIMITED, "matching-engine rate counter full"),
    "EService:Throttled": _Rule(Outcome.RATE_LIMITED, "throttled by Kraken"),
    "EGeneral:Too many requests": _Rule(Outcome.RATE_LIMITED, "too many requests (public endpoints)"),
    "EOrder:Insufficient funds": _Rule(Outcome.ORDER_REJECTED, "insufficient funds"),
    "EOrder:Order minimum not met": _Rule(Outcome.ORDER_REJECTED, "volume below the pair's ordermin"),
    "EOrder:Cost minimum not met": _Rule(Outcome.ORDER_REJECTED, "cost below the pair's costmin"),
    "EOrder:Unknown order": _Rule(Outcome.UNKNOWN_ORDER, "no such order"),
    "EService:Unavailable": _Rule(Outcome.UNKNOWN, "Kraken service unavailable"),
    "EService:Busy": _Rule(Outcome.UNKNOWN, "Kraken service busy"),
    "EGeneral:Internal error": _Rule(Outcome.UNKNOWN, "Kraken internal error"),
}

_CATEGORY_RULES: tuple[tuple[str, _Rule], ...] = (
    ("EService:", _Rule(Outcome.UNKNOWN, "Kraken service error")),
    ("EOrder:", _Rule(Outcome.ORDER_REJECTED, "order refused")),
    ("EAPI:", _Rule(Outcome.AUTH, "API request refused")),
    ("EGeneral:", _Rule(Outcome.FATAL, "request refused")),
    ("EQuery:", _Rule(Outcome.FATAL, "query refused")),
)
_FALLBACK = _Rule(Outcome.FATAL, "unrecognised Kraken error")


def classify(code: str) -> _Rule:
    """The rule for one Kraken error string: exact, then a known string plus detail, then its category."""
    rule = KRAKEN_ERRORS.get(code)
    if rule is not None:
        return rule
    for known in sorted(KRAKEN_ERRORS, key=len, reverse=True):
        if code.startswith(known + ":") or code.startswith(known + " "):
            return KRAKEN_ERRORS[known]
    for prefix, rule in _CATEGORY_RULES:
        if code.startswith(prefix):
            return rule
    return _FALLBACK


_PRECEDENCE = (
    Outcome.AUTH, Outcome.FATAL, Outcome.ORDER_REJECTED, Outcome.UNKNOWN_ORDER,
    Outcome.UNKNOWN, Outcome.LOCKOUT, Outcome.RATE_LIMITED, Outcome.REJECTED_SAFE,
)


def _build(outcome: Outcome, message: str, code: str | None, *, placing: bool, userref: int | None) -> ExchangeError:
    if outcome is Outcome.UNKNOWN:
        if placing:
            assert userref is not None, "an order is always sent with a userref"
            return OrderOutcomeUnknown(message, userref=userref, code=code)
        return TemporaryExchangeError(message, code=code)
    if outcome is Outcome.AUTH:
        return AuthError(message, code=code)
    if outcome is Outcome.FATAL:
        return FatalExchangeError(message, code=code)
    if outcome is Outcome.ORDER_REJECTED:
        return OrderRejected(message, code=code)
    if outcome is Outcome.UNKNOWN_ORDER:
        return UnknownOrderError(message, code=code)
    if outcome is Outcome.RATE_LIMITED:
        return RateLimitError(message, code=code)
    if outcome is Outcome.LOCKOUT:
        return TemporaryExchangeError(message, code=code, retry_after=LOCKOUT_PAUSE)
    return TemporaryExchangeError(message, code=code)


def translate_error_list(
    method: str, errors: Sequence[str], *, placing: bool = False, userref: int | None = None
) -> ExchangeError:
    """Kraken's ``error`` list (non-empty) as one candlebot error; the most serious string decides."""
    codes = [str(e) for e in errors] or ["EGeneral:Unknown"]
    rules = {code: classify(code) for code in codes}
    code = min(codes, key=lambda c: _PRECEDENCE.index(rules[c].outcome))
    rule = rules[code]
    outcome = rule.outcome
    if outcome is Outcome.ORDER_REJECTED and method not in _ORDER_METHODS:
        outcome = Outcome.UNKNOWN  # an EOrder answer to a read (QueryOrders' "Invalid order"): read again, conclude nothing
    return _build(outcome, f"Kraken {method}: {code} ({rule.note})", code, placing=placing, userref=userref)


_ORDER_METHODS = frozenset({"AddOrder", "AddOrderBatch", "EditOrder", "CancelOrder"})


def _never_sent(exc: BaseException) -> bool:
    """True when the request provably never left: no connection was made."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (requests.exceptions.ConnectTimeout, urllib3.exceptions.NewConnectionError,
                             urllib3.exceptions.ConnectTimeoutError, ConnectionRefusedError)):
            return True
        reason = getattr(item, "reason", None)
        stack.extend([*item.args, reason, item.__cause__, item.__context__])
    return False


def translate_exception(
    method: str, exc: BaseException, *, placing: bool = False, userref: int | None = None
) -> ExchangeError:
    """A requests/krakenex/JSON exception as a candlebot error (call it inside ``except``; raise ``from exc``)."""
    kind = type(exc).__name__
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return FatalExchangeError(f"Kraken {method}: bad base URL ({kind}); check --kraken-url")
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        if status == 429:
            return RateLimitError(f"Kraken {method}: HTTP 429 Too Many Requests", code="HTTP 429")
        if status >= 500 or status == 408 or status == 0:
            return _build(Outcome.UNKNOWN, f"Kraken {method}: HTTP {status} from the edge", f"HTTP {status}",
                          placing=placing, userref=userref)
        return FatalExchangeError(f"Kraken {method}: HTTP {status} (wrong --kraken-url?)", code=f"HTTP {status}")
    if isinstance(exc, requests.exceptions.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and _never_sent(exc)
    ):
        return TemporaryExchangeError(f"Kraken {method}: cannot connect ({kind}); nothing was sent")
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return _build(Outcome.UNKNOWN, f"Kraken {method}: no reply ({kind})", None, placing=placing, userref=userref)
    if isinstance(exc, (json.JSONDecodeError, requests.exceptions.JSONDecodeError, ValueError, KeyError, TypeError)):
        if placing:
            return _build(Outcome.UNKNOWN, f"Kraken {method}: unreadable reply ({kind})", None,
                          placing=True, userref=userref)
        return MalformedReplyError(f"Kraken {method}: unreadable reply ({kind})")
    if isinstance(exc, requests.RequestException):
        return _build(Outcome.UNKNOWN, f"Kraken {method}: request failed ({kind})", None,
                      placing=placing, userref=userref)
    if type(exc) is Exception and "key or secret" in str(exc):
        return AuthError(f"Kraken {method}: no API key/secret configured (use --key-file or KRAKEN_API_KEY/SECRET)")
    return _build(Outcome.UNKNOWN, f"Kraken {method}: unexpected failure ({kind})", None,
                  placing=placing, userref=userref)
