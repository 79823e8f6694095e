"""Why a sell was sent is stored with its order (state file version 4): stop-loss exits stay stop-loss in every
report read from the file, and a version-3 file is migrated with its sells counted as signal exits."""

from __future__ import annotations

import re
import sqlite3
import time
from decimal import Decimal as D

from candlebot.live.store import SCHEMA, SCHEMA_VERSION, BotStore
from candlebot.output.botstatus import read_status
from candlebot.trade import STOP_LOSS, BotTrade
from candlebot.venue import Fill, OrderRequest, Side


def _trade(store: BotStore, trade_id: int, buy_ref: int, sell_ref: int, reason: str | None) -> None:
    """One round trip written as the trader writes it: intents first, then the fills."""
    buy = OrderRequest("XXBTZUSD", Side.BUY, D("0.01"), buy_ref, D("30000.0"))
    sell = OrderRequest("XXBTZUSD", Side.SELL, D("0.01"), sell_ref, D("29000.0"))
    bought = Fill(f"O{buy_ref}", buy_ref, "XXBTZUSD", Side.BUY, 1.0, D("30000.0"), D("0.01"), D("300.00000"), D("0.78000"))
    sold = Fill(f"O{sell_ref}", sell_ref, "XXBTZUSD", Side.SELL, 2.0, D("29000.0"), D("0.01"), D("290.00000"), D("0.75400"))
    store.intent(buy, None)
    trade = BotTrade(trade_id, bought)
    store.filled(buy, bought, trade, D(1000) - D("300.78") * trade_id + D("289.246") * (trade_id - 1))
    store.intent(sell, trade_id, reason)
    store.filled(sell, sold, trade.closed_by(sold), D(1000) - (D("300.78") - D("289.246")) * trade_id)


def test_stop_loss_sells_are_read_back_as_stop_loss_and_status_counts_them(tmp_path):
    path = tmp_path / "bots" / "abcdef_stopper.sqlite"
    store = BotStore(path, now=time.time)
    store.bind(pair="XXBTZUSD", start_cash=D(1000))
    _trade(store, 1, 11, 12, STOP_LOSS)
    _trade(store, 2, 13, 14, None)

    assert store.load().stop_loss_ids == {1}
    store.close()
    status = read_status(path, time.time())
    assert (status.problem, status.signal_exits, status.stop_loss_exits) == (None, 1, 1)


def test_a_version_3_file_is_migrated_and_its_sells_count_as_signal(tmp_path):
    path = tmp_path / "bots" / "abcdef_old.sqlite"
    path.parent.mkdir()
    v3 = re.sub(r"(limit_price TEXT),([^\n]*)\n\s*reason\s+TEXT[^\n]*", r"\1\2", SCHEMA)
    v3 = re.sub(r",\s*written_off REAL[^\n]*", "", v3)  # version 4 added both columns
    assert "reason" not in v3 and "written_off" not in v3
    db = sqlite3.connect(path)
    db.executescript(v3 + "PRAGMA user_version = 3;")
    db.close()
    store = BotStore(path, now=time.time)
    store.bind(pair="XXBTZUSD", start_cash=D(1000))
    _trade(store, 1, 11, 12, None)

    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert store.load().stop_loss_ids == frozenset() and store.orders()[1]["reason"] is None
    store.close()
