"""One bot, one net P/L: ``candlebot report``, ``candlebot ledger`` and ``candlebot status`` print the same figure
under the same label.

A new user read -13.26 in the report (it counted the open trade's entry fee) and -10.706 in ledger and status (they
did not). The books here (written through the real store, as a paper bot writes them) hold a closed losing trade and
one still open: net P/L = closed gross (299 - 300) - every fee (0.78 + 0.7774 + 0.7826) = -3.34, where the closed
trades alone say -2.5574.
"""

from __future__ import annotations

import html
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from candlebot.identity import BotIdentity
from candlebot.live.store import BotStore
from candlebot.trade import BotTrade
from candlebot.venue import Fill, OrderRequest, Side
from tests.conftest import REPO

pytestmark = pytest.mark.integration

T0 = 1_700_000_040  # a minute's open
LABEL = "net P/L"
MEANING = "closed trades' gross - every fee paid, open trades' entry fees included"
EXPECTED = "-3.34000"


def _fill(ref: int, side: Side, minute: int, price: str, cost: str, fee: str) -> Fill:
    return Fill(f"O{ref:05d}-BBBBB-CCCCCC", ref, "XBTUSD", side, T0 + 60 * minute + 5, D(price), D("0.01"), D(cost), D(fee))


def _books(state_dir: Path) -> None:
    bot = BotIdentity.from_name("holder")
    store = BotStore(state_dir / "bots" / f"{bot.label}.sqlite", now=lambda: float(T0))
    store.claim(name=bot.name, bot_id=bot.bot_id, account="paper")
    store.bind(pair="XBTUSD", start_cash=D("1000"))
    trades = [(1, _fill(1, Side.BUY, 0, "30000.0", "300.00000", "0.78000"), _fill(2, Side.SELL, 2, "29900.0", "299.00000", "0.77740")),
              (2, _fill(3, Side.BUY, 4, "30100.0", "301.00000", "0.78260"), None)]
    cash = D("1000")
    for trade_id, opened, closed in trades:
        order = OrderRequest("XBTUSD", Side.BUY, D("0.01"), opened.userref)
        store.intent(order, trade_id)
        cash -= opened.cost + opened.fee
        store.filled(order, opened, BotTrade(trade_id, opened), cash)
        if closed is not None:
            order = OrderRequest("XBTUSD", Side.SELL, D("0.01"), closed.userref)
            store.intent(order, trade_id)
            cash += closed.cost - closed.fee
            store.filled(order, closed, BotTrade(trade_id, opened, closed), cash)
    closes = [30000.0, 29950.0, 29900.0, 30000.0, 30100.0, 30200.0, 30250.0]
    store.record(candles=[(T0 + 60 * k, c, c + 20, c - 20, c, 1.0, None) for k, c in enumerate(closes)], events=[],
                 status={"mode": "paper", "pair": "XBTUSD", "strategy": "flip", "period": "60", "price": "30250.0",
                         "price_decimals": "1", "volume_decimals": "8", "cost_decimals": "5", "heartbeat": str(T0 + 420)})
    store.close()


def _candlebot(*argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "candlebot", *argv], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_report_ledger_and_status_print_one_net_pnl_under_one_label(tmp_path):
    _books(tmp_path)
    line = f"{LABEL} {EXPECTED} ({MEANING})"

    report = _candlebot("report", "--name", "holder", "--state-dir", str(tmp_path), "-o", str(tmp_path / "r.html"))
    assert line in report.splitlines(), report
    page = (tmp_path / "r.html").read_text()
    assert f"<td>{html.escape(f'{LABEL} ({MEANING})')}</td><td class=num>{EXPECTED}</td>" in page

    ledger = _candlebot("ledger", "--name", "holder", "--state-dir", str(tmp_path))
    assert line in ledger.splitlines(), ledger
    assert f"net_pnl={EXPECTED}" in ledger

    status = _candlebot("status", "--state-dir", str(tmp_path)).splitlines()
    header, row = status[0], status[1]
    end = header.index(LABEL) + len(LABEL)  # numbers are right-aligned under their heading
    assert row.split()[0] == "holder" and row[:end].split()[-1] == EXPECTED, status
    assert status[-1].startswith(f"{LABEL}: {MEANING}")  # the legend under the table
    as_json = _candlebot("status", "--state-dir", str(tmp_path), "--json")
    assert f'"net_pnl": "{EXPECTED}"' in as_json
