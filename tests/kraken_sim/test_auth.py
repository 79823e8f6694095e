"""Request signing and nonces: the golden vector, and refusals through real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests

from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig
from candlebot.exchanges.kraken_sim.auth import Authenticator, sign
from candlebot.exchanges.kraken_sim.errors import KrakenError

from .conftest import KEY, SECRET, TIMEOUT, plain_client

# KRAKEN.md's golden vector
G_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
G_NONCE = "1616492376594"
G_PATH = "/0/private/AddOrder"
G_BODY = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
G_SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="


def _independent_sign(secret: str, path: str, nonce: str, body: str) -> str:
    """Kraken's scheme written out again here, so that HTTP tests do not sign with the code under test."""
    message = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret), message, hashlib.sha512).digest()).decode()


def _post(sim: KrakenSimulator, method: str, body: str, signature: str, key: str = KEY) -> dict:
    reply = requests.post(f"{sim.url}/0/private/{method}", data=body, timeout=TIMEOUT,
                          headers={"API-Key": key, "API-Sign": signature,
                                   "Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status_code == 200
    return reply.json()


def test_golden_vector_is_signed_as_kraken_documents() -> None:
    assert sign(base64.b64decode(G_SECRET), G_PATH, G_NONCE, G_BODY) == G_SIGN


def test_verifier_accepts_the_golden_request_once() -> None:
    auth = Authenticator({"K": base64.b64decode(G_SECRET)})

    assert auth.verify("K", G_SIGN, G_PATH, G_BODY) == "K"
    with pytest.raises(KrakenError) as replay:
        auth.verify("K", G_SIGN, G_PATH, G_BODY)

    assert replay.value.code == "EAPI:Invalid nonce"
    assert auth.rejections == {"invalid_key": 0, "invalid_signature": 0, "invalid_nonce": 1}


@pytest.mark.parametrize("path, body", [
    (G_PATH, G_BODY.replace(b"volume=1.25", b"volume=12.5")),      # tampered body
    ("/0/private/CancelOrder", G_BODY),                              # signed for another path
])
def test_verifier_refuses_a_signature_of_something_else(path: str, body: bytes) -> None:
    auth = Authenticator({"K": base64.b64decode(G_SECRET)})

    with pytest.raises(KrakenError) as refused:
        auth.verify("K", G_SIGN, path, body)

    assert refused.value.code == "EAPI:Invalid signature"


@pytest.mark.integration
def test_wrong_secret_is_refused_over_http(sim: KrakenSimulator) -> None:
    other_secret = base64.b64encode(b"x" * 64).decode()

    reply = plain_client(sim.url, secret=other_secret).query_private("Balance", timeout=TIMEOUT)

    assert reply == {"error": ["EAPI:Invalid signature"]}
    assert sim.counters()["invalid_signature"] == 1


@pytest.mark.integration
def test_unknown_key_is_refused_over_http(sim: KrakenSimulator) -> None:
    reply = plain_client(sim.url, key="nobody").query_private("Balance", timeout=TIMEOUT)

    assert reply == {"error": ["EAPI:Invalid key"]}
    assert sim.counters()["invalid_key"] == 1


@pytest.mark.integration
def test_tampered_body_is_refused_and_books_nothing(sim: KrakenSimulator) -> None:
    body = urlencode({"nonce": 5, "pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.001"})
    signature = _independent_sign(SECRET, "/0/private/AddOrder", "5", body)

    reply = _post(sim, "AddOrder", body.replace("0.001", "0.002"), signature)

    assert reply == {"error": ["EAPI:Invalid signature"]}
    assert sim.orders() == []
    assert sim.balances(KEY) == {"ZUSD": Decimal("10000")}


@pytest.mark.integration
def test_replayed_and_lower_nonces_are_refused_before_processing(sim: KrakenSimulator) -> None:
    body = urlencode({"nonce": 100, "pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.001"})
    signature = _independent_sign(SECRET, "/0/private/AddOrder", "100", body)
    lower = urlencode({"nonce": 99})

    first = _post(sim, "AddOrder", body, signature)
    replayed = _post(sim, "AddOrder", body, signature)
    older = _post(sim, "Balance", lower, _independent_sign(SECRET, "/0/private/Balance", "99", lower))

    assert first["error"] == [] and len(first["result"]["txid"]) == 1
    assert replayed == {"error": ["EAPI:Invalid nonce"]}
    assert older == {"error": ["EAPI:Invalid nonce"]}
    assert len(sim.orders()) == 1
    assert sim.counters()["invalid_nonce"] == 2


@pytest.mark.integration
def test_missing_nonce_is_an_invalid_nonce(sim: KrakenSimulator) -> None:
    body = "asset=ZUSD"

    reply = _post(sim, "Balance", body, _independent_sign(SECRET, "/0/private/Balance", "", body))

    assert reply == {"error": ["EAPI:Invalid nonce"]}


@pytest.mark.integration
def test_secrets_never_show_in_reprs_or_state(sim: KrakenSimulator) -> None:
    config = SimConfig(api_keys={KEY: SECRET})

    shown = repr(config) + repr(sim) + json.dumps(sim.state())

    assert SECRET not in shown and KEY in shown


def test_a_malformed_secret_is_refused_without_echoing_it() -> None:
    from candlebot.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        SimConfig(api_keys={KEY: "not base64 !!! s3cr3t"})

    assert "s3cr3t" not in str(refused.value) and KEY in str(refused.value)
