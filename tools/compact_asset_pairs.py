"""Build candlebot's bundled pair catalog from a recorded Kraken AssetPairs reply.

    python tools/compact_asset_pairs.py RECORDED.json SOURCE-NOTE > /tmp/pairs.json &&
        mv /tmp/pairs.json exchanges/data/kraken_asset_pairs.json

(Not ``> exchanges/data/...`` directly: the shell would empty the catalog this script reads its kept pairs from.)

Keeps the spot pairs quoted in USD, EUR, XBT, USDT and USDC. The pairs already in the catalog keep their entries
(the suite's expected fees and minimums rest on them); every other pair is taken from the recording. Fields
every entry shares are stored once, and the list fields (fee tiers, leverage) once per distinct list, so ~1,300
pairs fit in ~150 KB; ``candlebot.exchanges.kraken_pairs.snapshot_reply`` rebuilds Kraken's reply from it.
"""

from __future__ import annotations

import json
import sys

from candlebot.exchanges.kraken_pairs import snapshot_reply

QUOTES = ("ZUSD", "ZEUR", "XXBT", "USDT", "USDC")
COMMON = {"aclass_base": "currency", "aclass_quote": "currency", "lot_multiplier": 1,
          "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40}
COLUMNS = ["altname", "wsname", "base", "quote", "lot", "cost_decimals", "pair_decimals", "lot_decimals",
           "leverage_buy", "leverage_sell", "fees", "fees_maker", "ordermin", "costmin", "tick_size", "status"]
LISTS = ("leverage_buy", "leverage_sell", "fees", "fees_maker")
PINNED = ("XXBTZUSD", "XBTUSDT", "XBTUSDC", "XXBTZEUR", "XETHZUSD", "XETHXXBT")


def main(recorded_path: str, source: str) -> None:
    recorded = json.load(open(recorded_path))["result"]
    kept = {pair_id: snapshot_reply()["result"][pair_id] for pair_id in PINNED}
    entries = dict(kept)
    entries.update({pair_id: entry for pair_id, entry in sorted(recorded.items())
                    if entry["quote"] in QUOTES and pair_id not in kept and "." not in pair_id})
    lists: list[list] = []
    rows = []
    for pair_id, entry in entries.items():
        for field, value in COMMON.items():
            assert entry[field] == value, (pair_id, field)
        row: list = [pair_id]
        for field in COLUMNS:
            value = entry[field]
            if field in LISTS:
                if value not in lists:
                    lists.append(value)
                value = lists.index(value)
            row.append(value)
        rows.append(row)
    out = sys.stdout
    out.write('{"source": %s,\n "common": %s,\n "columns": %s,\n "lists": [\n' % (
        json.dumps(source), json.dumps(COMMON), json.dumps(["id", *COLUMNS])))
    out.write(",\n".join("  " + json.dumps(item, separators=(",", ":")) for item in lists))
    out.write('],\n "pairs": [\n')
    out.write(",\n".join("  " + json.dumps(row, separators=(",", ":")) for row in rows))
    out.write("]}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
