"""Kraken's request signature and per-key nonce, checked the way the exchange does.

``API-Sign = base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body)))``,
computed over the raw form body exactly as received. Checks run in Kraken's
order (key, signature, nonce) and before anything else: a refused call changes
nothing but the rejection counters. The nonce is checked after the signature
so that a forged request cannot burn a key's nonces.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Mapping
from urllib.parse import parse_qs

from candlebot.exchanges.kraken_sim.errors import INVALID_KEY, INVALID_NONCE, INVALID_SIGNATURE, KrakenError

_MAX_NONCE = 2**64 - 1


def sign(secret: bytes, path: str, nonce: str, body: bytes) -> str:
    """The API-Sign value for a request (``secret`` already base64-decoded)."""
    digest = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(secret, path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def nonce_of(body: bytes) -> str | None:
    """The ``nonce`` field of a form body, or None when absent or repeated."""
    values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get("nonce")
    return values[0] if values and len(values) == 1 else None


class Authenticator:
    """Holds the secrets and the last accepted nonce of each key. The venue calls it under its lock.

    ``rejections`` counts refusals by kind (``invalid_key``, ``invalid_signature``,
    ``invalid_nonce``) so that tests can assert that a client never sent a bad nonce.
    """

    def __init__(self, secrets: Mapping[str, bytes]) -> None:
        self._secrets = dict(secrets)
        self._last_nonce: dict[str, int] = {}
        self.rejections = {"invalid_key": 0, "invalid_signature": 0, "invalid_nonce": 0}

    def __repr__(self) -> str:
        return f"Authenticator(keys={len(self._secrets)})"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def last_nonce(self, key: str) -> int | None:
        return self._last_nonce.get(key)

    def verify(self, key: str | None, signature: str | None, path: str, body: bytes) -> str:
        """The key of an authentic request with a fresh nonce; KrakenError otherwise."""
        secret = self._secrets.get(key or "")
        if key is None or secret is None:
            return self._refuse("invalid_key", INVALID_KEY)
        nonce = nonce_of(body) or ""
        if not signature or not self._signature_ok(secret, signature, path, nonce, body):
            return self._refuse("invalid_signature", INVALID_SIGNATURE)
        if not nonce.isdigit() or not 0 < int(nonce) <= _MAX_NONCE or int(nonce) <= self._last_nonce.get(key, 0):
            return self._refuse("invalid_nonce", INVALID_NONCE)
        self._last_nonce[key] = int(nonce)
        return key

    @staticmethod
    def _signature_ok(secret: bytes, signature: str, path: str, nonce: str, body: bytes) -> bool:
        try:
            given = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        expected = base64.b64decode(sign(secret, path, nonce, body))
        return hmac.compare_digest(given, expected)

    def _refuse(self, counter: str, code: str) -> str:
        self.rejections[counter] += 1
        raise KrakenError(code)
