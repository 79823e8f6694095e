"""``candlebot ledger --csv`` and ``--json`` say why each trade ended, as ``backtest --trades-csv`` and ``status`` do:
the CSV left ``exit_reason`` empty for closed trades and the JSON had no exit reason at all (a new user's report)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D
from pathlib import Path

from candlebot.cli.ledger import main as ledger
from candlebot.identity import BotIdentity
from candlebot.live.store import BotStore
from candlebot.trade import BotTrade
from candlebot.venue import Fill, OrderRequest, Side


def _books(state_dir: Path) -> None:
    """Bot 'holder': trade 1 closed by the strategy's signal, trade 2 by the stop loss, trade 3 still open."""
    store = BotStore(state_dir / "bots" / f"{BotIdentity.from_name('holder').label}.sqlite", now=lambda: 0.0)
    store.bind(pair="XBTUSD", start_cash=D("1000"))
    cash = D("1000")
    userref = 10
    for trade_id, reason in ((1, None), (2, "stop_loss"), (3, "open")):
        userref += 1
        buy = OrderRequest("XBTUSD", Side.BUY, D("0.01"), userref)
        bought = Fill(f"OB{trade_id}", userref, "XBTUSD", Side.BUY, 1_700_000_000 + trade_id * 100, D("30000.0"), D("0.01"),
                      D("300.00000"), D("0.78000"))
        store.intent(buy, trade_id)
        cash -= D("300.78000")
        trade = BotTrade(trade_id, bought)
        store.filled(buy, bought, trade, cash)
        if reason == "open":
            continue
        userref += 1
        sell = OrderRequest("XBTUSD", Side.SELL, D("0.01"), userref)
        sold = Fill(f"OS{trade_id}", userref, "XBTUSD", Side.SELL, 1_700_000_050 + trade_id * 100, D("29000.0"), D("0.01"),
                    D("290.00000"), D("0.75400"))
        store.intent(sell, trade_id, reason)
        cash += D("289.24600")
        store.filled(sell, sold, trade.closed_by(sold), cash)
    store.close()


def test_the_ledger_csv_and_json_name_each_trades_exit_reason(tmp_path, capsys):
    _books(tmp_path)
    expected = {1: "signal", 2: "stop_loss", 3: "open"}  # the names backtest --trades-csv writes; a bot's open trade: open

    assert ledger(["--state-dir", str(tmp_path), "--name", "holder", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(int(r["open_time"]) - 1_700_000_000) // 100: r["exit_reason"] for r in rows} == expected  # no trade_id column

    assert ledger(["--state-dir", str(tmp_path), "--name", "holder", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["trade_list"]
    assert {t["trade_id"]: t["exit_reason"] for t in listed} == expected
