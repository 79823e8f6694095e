"""Every Kraken error string and transport failure becomes the right candlebot error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from candlebot.errors import (
    AuthError,
    FatalExchangeError,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimitError,
    TemporaryExchangeError,
)
from candlebot.exchanges.kraken.errors import (
    KRAKEN_ERRORS,
    MalformedReplyError,
    UnknownOrderError,
    translate_error_list,
    translate_exception,
)

KRAKEN_MD = Path(__file__).resolve().parents[3] / "shared" / "KRAKEN.md"

# (error string, class for a read, class for AddOrder); an EOrder refusal answering a read (QueryOrders'
# "Invalid order" for a real txid) proves nothing about an order: it is a temporary failure of that read.
EXPECTED = [
    ("EGeneral:Invalid arguments", FatalExchangeError, FatalExchangeError),
    ("EGeneral:Invalid arguments:volume", FatalExchangeError, FatalExchangeError),
    ("EQuery:Unknown asset pair", FatalExchangeError, FatalExchangeError),
    ("EGeneral:Permission denied", AuthError, AuthError),
    ("EAPI:Invalid key", AuthError, AuthError),
    ("EAPI:Invalid signature", AuthError, AuthError),
    ("EAPI:Invalid nonce", TemporaryExchangeError, TemporaryExchangeError),
    ("EGeneral:Temporary lockout", TemporaryExchangeError, TemporaryExchangeError),
    ("EAPI:Rate limit exceeded", RateLimitError, RateLimitError),
    ("EOrder:Rate limit exceeded", RateLimitError, RateLimitError),
    ("EService:Throttled", RateLimitError, RateLimitError),
    ("EGeneral:Too many requests", RateLimitError, RateLimitError),
    ("EOrder:Insufficient funds", TemporaryExchangeError, OrderRejected),
    ("EOrder:Order minimum not met", TemporaryExchangeError, OrderRejected),
    ("EOrder:Cost minimum not met", TemporaryExchangeError, OrderRejected),
    ("EOrder:Unknown order", UnknownOrderError, UnknownOrderError),
    ("EService:Unavailable", TemporaryExchangeError, OrderOutcomeUnknown),
    ("EService:Busy", TemporaryExchangeError, OrderOutcomeUnknown),
    ("EGeneral:Internal error", TemporaryExchangeError, OrderOutcomeUnknown),
    ("EService:Market in cancel_only mode", TemporaryExchangeError, OrderOutcomeUnknown),
    ("EOrder:Invalid price", TemporaryExchangeError, OrderRejected),
    ("EAPI:Feature disabled", AuthError, AuthError),
    ("EGeneral:Something new", FatalExchangeError, FatalExchangeError),
    ("EFunding:Unknown", FatalExchangeError, FatalExchangeError),
]


@pytest.mark.parametrize("code, read_class, order_class", EXPECTED)
def test_error_string_maps_to_class(code: str, read_class: type, order_class: type) -> None:
    read = translate_error_list("Balance", [code])
    placing = translate_error_list("AddOrder", [code], placing=True, userref=42)

    assert type(read) is read_class and read.code == code
    assert type(placing) is order_class and placing.code == code
    if isinstance(placing, OrderOutcomeUnknown):
        assert placing.userref == 42


def test_every_error_string_in_kraken_md_is_in_the_table() -> None:
    if not KRAKEN_MD.is_file():
        pytest.skip(f"{KRAKEN_MD} not beside the checkout")
    table = KRAKEN_MD.read_text().split("## Errors and what to do", 1)[1].split("\n## ", 1)[0]
    codes = set(re.findall(r"E(?:General|API|Query|Order|Service):[A-Za-z][A-Za-z ]*[a-z]", table))

    assert len(codes) >= 17
    assert codes <= set(KRAKEN_ERRORS)


def test_lockout_asks_for_a_long_pause() -> None:
    error = translate_error_list("Balance", ["EGeneral:Temporary lockout"])

    assert isinstance(error, TemporaryExchangeError) and (error.retry_after or 0) >= 60


def test_most_serious_error_wins() -> None:
    error = translate_error_list("AddOrder", ["EAPI:Invalid nonce", "EAPI:Invalid key"], placing=True, userref=1)

    assert type(error) is AuthError


def _http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} error", response=response)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 520, 522, 524, 408])
def test_edge_5xx_is_outcome_unknown_for_orders_and_temporary_for_reads(status: int) -> None:
    assert type(translate_exception("Ticker", _http_error(status))) is TemporaryExchangeError
    placing = translate_exception("AddOrder", _http_error(status), placing=True, userref=9)
    assert type(placing) is OrderOutcomeUnknown and placing.userref == 9


def test_http_429_is_a_rate_limit_and_404_is_fatal() -> None:
    assert type(translate_exception("AddOrder", _http_error(429), placing=True, userref=1)) is RateLimitError
    assert type(translate_exception("Ticker", _http_error(404))) is FatalExchangeError


def test_timeouts_and_connection_errors() -> None:
    assert type(translate_exception("AddOrder", requests.exceptions.ConnectTimeout(), placing=True, userref=1)) \
        is TemporaryExchangeError
    assert type(translate_exception("AddOrder", requests.exceptions.ReadTimeout(), placing=True, userref=1)) \
        is OrderOutcomeUnknown
    assert type(translate_exception("Ticker", requests.exceptions.ReadTimeout())) is TemporaryExchangeError
    assert type(translate_exception("AddOrder", requests.ConnectionError("Connection aborted."), placing=True,
                                    userref=1)) is OrderOutcomeUnknown
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    assert type(translate_exception("AddOrder", refused, placing=True, userref=1)) is TemporaryExchangeError


def test_bad_bodies() -> None:
    bad_json = json.JSONDecodeError("Expecting value", "<html>", 0)

    assert type(translate_exception("Ticker", bad_json)) is MalformedReplyError
    assert type(translate_exception("Ticker", KeyError("result"))) is MalformedReplyError
    assert type(translate_exception("AddOrder", bad_json, placing=True, userref=3)) is OrderOutcomeUnknown


def test_krakenex_missing_key_exception_is_auth() -> None:
    error = translate_exception("Balance", Exception("Either key or secret is not set! (Use `load_key()`."))

    assert type(error) is AuthError
