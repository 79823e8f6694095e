"""``candlebot-ledger`` on books with an open trade: no made-up mark (it used to print the entry as the mark)."""

from __future__ import annotations

import json

import pytest

import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

from candlebot.venue import Fill, OrderRequest, Side
from candlebot.identity import BotIdentity
from candlebot.live.audit import HOLD_KEY
from candlebot.live.store import BotStore
from candlebot.trade import BotTrade
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def _books(state_dir: Path, *, pair: str = "XBTUSD", claimed: bool = False, open_trade: bool = False) -> Path:
    """The state file of bot 'holder': 1000 on paper, claimed by the bot (as a run leaves it) or not, with one open
    trade (0.01 bought at 30000) or none."""
    holder = BotIdentity.from_name("holder")
    store = BotStore(state_dir / "bots" / f"{holder.label}.sqlite", now=lambda: 0.0)
    if claimed:
        store.claim(name=holder.name, bot_id=holder.bot_id, account="paper")
    store.bind(pair=pair, start_cash=D("1000"))
    if open_trade:
        order = OrderRequest("XBTUSD", Side.BUY, D("0.01"), 7)
        fill = Fill("OAAAAA-BBBBB-CCCCCC", 7, "XBTUSD", Side.BUY, 1_700_000_000, D("30000.0"), D("0.01"), D("300.00000"),
                    D("0.78000"))
        store.intent(order, 1)
        store.filled(order, fill, BotTrade(1, fill), D("699.22000"))
    store.close()
    return store.path


def _ledger(state_dir: Path, name: str = "holder", *flags: str) -> list[str]:
    return [sys.executable, "-m", "candlebot.cli.ledger", "--state-dir", str(state_dir), "--name", name, *flags]


@pytest.mark.slow
def test_an_open_trade_in_the_books_is_not_marked_at_its_entry(tmp_path):
    _books(tmp_path, open_trade=True)

    result = subprocess.run(_ledger(tmp_path), capture_output=True, text=True, cwd=REPO, timeout=60, check=True)

    line = result.stdout.splitlines()[0]
    assert "BUY 0.01 @ 30000.0" in line and "OPEN Mark: unknown" in line and "Mark: 30000.0" not in line


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_ledger_quietly(tmp_path):
    """``candlebot-ledger ... | head -1``: the console script runs ledger's own main, not candlebot's, and printed a
    BrokenPipeError traceback once the reader had gone."""
    _books(tmp_path, open_trade=True)
    for output in ([], ["--json"], ["--csv"]):
        process = subprocess.Popen(_ledger(tmp_path, "holder", *output), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, cwd=REPO)
        process.stdout.close()  # the reader is gone before the first line
        stderr = process.stderr.read()
        assert process.wait(60) == 0 and stderr == "", (output, stderr)


@pytest.mark.slow
def test_a_copied_state_file_is_not_shown_as_the_books_of_the_bot_it_was_copied_to(tmp_path):
    """The bot refuses another bot's books (copied or renamed file); the ledger printed them under the new name and
    --write-off/--clear-hold would have changed them."""
    books = _books(tmp_path, claimed=True)
    copy = tmp_path / "bots" / f"{BotIdentity.from_name('other').label}.sqlite"
    copy.write_bytes(books.read_bytes())
    for extra in ([], ["--clear-hold"]):
        result = subprocess.run(_ledger(tmp_path, "other", *extra), capture_output=True, text=True, cwd=REPO, timeout=60)
        assert result.returncode == 2 and result.stdout == "", result
        assert result.stderr.count("\n") == 1 and "holds the books of bot 'holder'" in result.stderr, result.stderr
    ok = subprocess.run(_ledger(tmp_path), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert ok.returncode == 0 and "bot=" in ok.stdout, ok


def test_clear_hold_without_a_hold_says_so_and_with_one_says_what_it_cleared(tmp_path):
    """--clear-hold on books that hold nothing printed nothing: a person could not tell whether it had done anything."""
    path = _books(tmp_path, claimed=True)
    none = subprocess.run(_ledger(tmp_path, "holder", "--clear-hold"), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert none.returncode == 0 and none.stderr.splitlines() == [
        "no hold to clear (the books record none; a running bot also drops a hold on orders declared never placed, "
        "if it has one)"], none.stderr
    store = BotStore(path, now=lambda: 0.0, create=False)
    store.set_meta(HOLD_KEY, "order OABC-1 is on the account, not in the books")
    store.close()
    held = subprocess.run(_ledger(tmp_path, "holder", "--clear-hold"), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert held.returncode == 0 and held.stderr.splitlines() == [
        "audit hold cleared (it said: order OABC-1 is on the account, not in the books)"], held.stderr


@pytest.mark.slow
def test_the_json_ledger_names_the_pair_as_the_text_and_status_do(tmp_path):
    """A bot's books hold Kraken's pair id (XXBTZUSD); the text line and ``status --json`` say XBTUSD, the JSON said
    XXBTZUSD."""
    _books(tmp_path, pair="XXBTZUSD", claimed=True)
    run = _ledger(tmp_path)
    text = subprocess.run(run, capture_output=True, text=True, cwd=REPO, timeout=60, check=True).stdout
    shown = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True, cwd=REPO, timeout=60, check=True).stdout)
    assert "pair=XBTUSD" in text and shown["pair"] == "XBTUSD"
