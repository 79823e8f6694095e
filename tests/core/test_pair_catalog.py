"""The bundled pair catalog holds Kraken's real AssetPairs facts for every USD/EUR/XBT-quoted spot pair (the
new-user review: `candlebot fleet` refused SOLUSD, and bots and backtests on any pair beyond six could not start).
The simulator serves the same entries the adapter reads."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from candlebot.errors import ConfigError
from candlebot.exchanges.kraken_pairs import catalog_pair, find_pair, offline_pairs, parse_asset_pair, snapshot_reply
from candlebot.exchanges.kraken_sim.assets import AssetTable
from candlebot.exchanges.kraken_sim.catalog import Catalog


def test_every_usd_eur_and_xbt_quoted_spot_pair_is_in_the_catalog():
    pairs = offline_pairs()
    quotes = {pair.quote for pair in pairs.values()}
    assert quotes == {"ZUSD", "ZEUR", "XXBT", "USDT", "USDC"}
    assert sum(pair.quote == "ZUSD" for pair in pairs.values()) > 500
    assert sum(pair.quote == "ZEUR" for pair in pairs.values()) > 500
    assert sum(pair.quote == "XXBT" for pair in pairs.values()) > 20
    for name in ("SOLUSD", "SOLEUR", "ADAUSD", "LINKXBT", "XRPUSD", "DOTEUR", "AVAXUSD", "XBTUSD", "ETHXBT"):
        assert catalog_pair(name) == find_pair(pairs, name)


def test_a_pair_carries_krakens_recorded_facts():
    sol = catalog_pair("SOLUSD")  # AssetPairs 2026-01-12
    assert (sol.name, sol.altname, sol.wsname, sol.base, sol.quote) == ("SOLUSD", "SOLUSD", "SOL/USD", "SOL", "ZUSD")
    assert (sol.pair_decimals, sol.lot_decimals, sol.cost_decimals) == (2, 8, 5)
    assert (sol.ordermin, sol.costmin, sol.tick_size) == (Decimal("0.02"), Decimal("0.5"), Decimal("0.01"))
    assert (sol.taker_fee, sol.maker_fee) == (Decimal("0.004"), Decimal("0.0025"))
    assert sol.taker_tiers[-1] == (Decimal("500000000"), Decimal("0.0005"))
    xrp = catalog_pair("XRPUSD")
    assert (xrp.name, xrp.base, xrp.quote, xrp.pair_decimals) == ("XXRPZUSD", "XXRP", "ZUSD", 5)
    shib = catalog_pair("SHIB/EUR")
    assert shib.pair_decimals > 6 and shib.ordermin >= 1


@pytest.mark.parametrize("typed, pair_id", [("XDG/USD", "XDGUSD"), ("xdgusd", "XDGUSD"), ("BTC/EUR", "XXBTZEUR"),
                                            ("sol-usd", "SOLUSD"), ("XETHZUSD", "XETHZUSD"), ("LINK/XBT", "LINKXBT")])
def test_pairs_are_found_by_every_name_a_user_types(typed, pair_id):
    assert catalog_pair(typed).name == pair_id


@pytest.mark.parametrize("typed, closest", [("SOLUDS", "SOLUSD"), ("DOGEUSD", "XDGUSD")])
def test_an_unknown_pair_is_one_short_line_with_the_closest_names(typed, closest):
    with pytest.raises(ConfigError) as refused:
        catalog_pair(typed)
    message = str(refused.value)
    assert message.startswith(f"unknown pair {typed!r} (not among the ") and f"did you mean {closest}" in message
    assert len(message) < 160 and "\n" not in message
    assert str(pytest.raises(ConfigError, find_pair, offline_pairs(), typed).value) == message


def test_the_reply_is_krakens_shape_and_parses_for_every_pair():
    result = snapshot_reply()["result"]
    for pair_id, entry in result.items():
        assert {"altname", "wsname", "base", "quote", "pair_decimals", "lot_decimals", "cost_decimals", "ordermin",
                "costmin", "tick_size", "fees", "fees_maker", "status"} <= set(entry)
        assert parse_asset_pair(pair_id, entry) == offline_pairs()[pair_id]


def test_the_simulator_serves_the_entries_the_adapter_reads():
    sol = catalog_pair("SOLUSD")
    catalog = Catalog(snapshot_reply(), sol)
    served = catalog.asset_pairs(["SOL/USD", "SOLUSD", "XDGEUR"], None)
    assert parse_asset_pair("SOLUSD", served["SOLUSD"]) == sol
    assert served["SOL/USD"] == served["SOLUSD"] == snapshot_reply()["result"]["SOLUSD"]
    assert parse_asset_pair("XDGEUR", served["XDGEUR"]) == catalog_pair("XDG/EUR")
    assets = AssetTable(catalog.assets()).answer(["ZEUS", "XION", "XRP", "EUR"], None)
    assert {asset: entry["altname"] for asset, entry in assets.items()} == {
        "ZEUS": "ZEUS", "XION": "XION", "XXRP": "XRP", "ZEUR": "EUR"}


@pytest.mark.integration
def test_candlebot_fleet_accepts_a_real_pair_beyond_the_first_six(tmp_path):
    fleet = tmp_path / "fleet.toml"
    fleet.write_text('[fleet]\nroot = "bots"\n[[bot]]\nname = "sol"\npair = "SOLUSD"\nstrategy = "sma_cross"\n'
                     '[[collector]]\nname = "books"\npairs = ["ADAEUR", "XDG/USD"]\n')
    result = subprocess.run([sys.executable, "-m", "candlebot", "fleet", str(fleet)], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[program:sol]" in result.stdout and "SOLUSD" in result.stdout


@pytest.mark.integration
def test_a_backtest_runs_on_a_real_pair_beyond_the_first_six(tmp_path):
    result = subprocess.run([sys.executable, "-m", "candlebot", "backtest", "--data", "demo", "-c", "SOLUSD",
                             "--strategy", "sma_cross", "--cash", "1000"], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SOLUSD" in result.stdout + result.stderr
