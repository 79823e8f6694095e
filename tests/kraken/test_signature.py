"""What we send is what we sign: the golden vector through krakenex's own signing."""

from __future__ import annotations

import urllib.parse
from decimal import Decimal

import krakenex
import requests

from candlebot.exchanges.kraken.client import clean_params

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="


def test_golden_vector_through_krakenex_sign() -> None:
    api = krakenex.API(key="any", secret=SECRET)
    data = {"nonce": 1616492376594, "ordertype": "limit", "pair": "XBTUSD", "price": 37500,
            "type": "buy", "volume": 1.25}

    assert urllib.parse.urlencode(data) == "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    assert api._sign(data, "/0/private/AddOrder") == SIGN


def test_golden_vector_with_cleaned_params() -> None:
    api = krakenex.API(key="any", secret=SECRET)
    data = {"nonce": 1616492376594, **clean_params({"ordertype": "limit", "pair": "XBTUSD", "price": Decimal("37500"),
                                                    "type": "buy", "volume": Decimal("1.25"), "oflags": None})}

    assert api._sign(data, "/0/private/AddOrder") == SIGN


def test_cleaned_params_encode_as_signed() -> None:
    raw = {"txid": ["OA-1", "OB-2"], "userref": 7, "validate": True, "start": None, "volume": Decimal("1E-8")}

    data = clean_params(raw)
    sent = requests.Request("POST", "http://127.0.0.1/", data=data).prepare().body

    assert data == {"txid": "OA-1,OB-2", "userref": "7", "validate": "true", "volume": "0.00000001"}
    assert sent == urllib.parse.urlencode(data)


def test_uncleaned_lists_would_sign_differently() -> None:
    """Why clean_params exists: krakenex signs urlencode(data) but requests sends lists as repeated fields."""
    raw = {"txid": ["OA-1", "OB-2"]}

    sent = requests.Request("POST", "http://127.0.0.1/", data=raw).prepare().body

    assert sent != urllib.parse.urlencode(raw)
