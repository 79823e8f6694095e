"""``candlebot report`` and ``candlebot status`` on real bot processes that traded against the simulator:
one stopped cleanly, one killed with SIGKILL, one left with an order whose outcome is unknown, and a corrupt file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from decimal import Decimal

import pytest

from candlebot.identity import BotIdentity
from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim.faults import DropReply, Fault
from tests.report.browser import CHROMIUM, chromium_page
from tests.support.bots import FLIP, ONE_SECOND, REPO, BotRun, start_simulator, write_key_file
from tests.support.supervisord import fleet_header, flip_bot, supervised
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]
LOOKUPS = ("OpenOrders", "ClosedOrders", "TradesHistory", "QueryOrders")


def _read(bot: BotRun, what: str):
    """One reading of the bot's file (``orders``, ``candles``, ``events``, ``status``), closed at once."""
    store = bot.store()
    try:
        return getattr(store, what)()
    finally:
        store.close()


def _orders(bot: BotRun) -> list[dict]:
    return _read(bot, "orders")


def _candlebot(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", *argv], cwd=REPO, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three bots in one state directory (and a corrupt file beside them)."""
    folder = tmp_path_factory.mktemp("fleet")
    sim = start_simulator()
    live = ("--live", "--key-file", str(write_key_file(folder)), "--cash", "1000", "-p", ONE_SECOND, "-t", "0.2",
            "--strategy", FLIP, "--reconcile-window", "2", "--no-statsd", "--quiet")
    steady, crashed, pending = (BotRun(folder, sim.url, name) for name in ("steady", "crashed", "pending"))
    processes = []
    try:
        processes = [steady.start(*live, "--stop-after", "6"), crashed.start(*live)]
        wait_until(lambda: crashed.store_path.exists() and sum(o["status"] == "filled" for o in _orders(crashed)) >= 3,
                   "the crashed bot's third fill")
        # the diary records the candle a fill happened in within its 0.1 s tick; a kill inside it loses that candle
        last_fill = max(o["fill_time"] for o in _orders(crashed) if o["status"] == "filled")
        wait_until(lambda: _read(crashed, "candles")[-1][0] + 1 > last_fill, "the candle of the last fill")
        processes[1].kill()
        processes[1].wait(timeout=10)
        assert processes[0].wait(timeout=30) == 0, processes[0].stderr.read()

        # every AddOrder is executed but its reply lost, and no lookup answers: the outcome stays unknown
        sim.set_faults(Faults(drop_reply=DropReply(mode="502", methods=("AddOrder",)), unavailable=Fault(methods=LOOKUPS)))
        processes.append(pending.start(*live))
        wait_until(lambda: pending.store_path.exists() and any(o["status"] == "intent" for o in _orders(pending)),
                   "an order with an unknown outcome")
        wait_until(lambda: any(e[1] == "skipped" for e in _read(pending, "events")), "the next decision, not sent")
        processes[2].send_signal(signal.SIGTERM)
        assert processes[2].wait(timeout=15) == 0, processes[2].stderr.read()
        (folder / "state" / "bots" / f"{BotIdentity.from_name('broken').label}.sqlite").write_bytes(b"this is not a database" * 100)
        yield folder, sim, {"steady": steady, "crashed": crashed, "pending": pending}
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        sim.stop()


def test_status_json_matches_each_bot_store(fleet):
    folder, sim, bots = fleet
    result = _candlebot("status", "--state-dir", str(folder / "state"), "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"steady", "crashed", "pending", "broken"}
    assert "not a readable SQLite database" in rows["broken"]["problem"]
    for name, bot in bots.items():
        row, store = rows[name], bot.store()
        try:
            books = store.load()
            status = store.status()
        finally:
            store.close()
        open_trades = [t for t in books.trades if t.is_open]
        assert row["problem"] is None
        assert (row["mode"], row["pair"], row["strategy"]) == ("live", "XBTUSD", "flip")
        assert Decimal(row["position"]) == sum((t.volume for t in open_trades), Decimal(0))
        # net P/L as report and ledger show it: closed trades' gross less every fee paid (an open trade's entry fee too)
        assert Decimal(row["net_pnl"]) == (sum((t.close_fill.cost - t.open_fill.cost for t in books.trades if not t.is_open), Decimal(0))
                                           - sum((t.open_fill.fee + (t.close_fill.fee if t.close_fill else 0) for t in books.trades), Decimal(0)))
        assert Decimal(row["fees"]) == sum((t.fees for t in books.trades), Decimal(0))
        assert (Decimal(row["fees"]) > 0) == (name != "pending")  # its only order's outcome is unknown
        assert row["pending"] == len(books.pending)
        assert row["heartbeat"] == float(status["heartbeat"]) and 0 <= row["heartbeat_age_s"] < 120
        mark = Decimal(status["price"])
        assert Decimal(row["mark"]) == mark
        assert Decimal(row["unrealized"]) == pytest.approx(sum((t.volume * mark - t.open_fill.cost for t in open_trades), Decimal(0)), abs=Decimal("0.01"))
    assert rows["steady"]["stopped"] == "on request" and rows["pending"]["stopped"] == "on request"
    assert rows["crashed"]["stopped"] is None  # killed: it never said goodbye
    assert rows["pending"]["pending"] == 1 and rows["steady"]["pending"] == rows["crashed"]["pending"] == 0

    table = _candlebot("status", "--state-dir", str(folder / "state"))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["bot", "mode", "pair", "strategy"] and len(lines) == 6
    assert lines[-1].startswith("net P/L: closed trades' gross - every fee paid")  # the legend under the table
    assert any(line.startswith("broken") and "PROBLEM: state file" in line for line in lines)
    assert "Traceback" not in table.stderr + table.stdout


def test_report_of_a_killed_bot_draws_every_fill_and_every_order(fleet):
    folder, _, bots = fleet
    html = folder / "crashed.html"
    result = _candlebot("report", "--name", "crashed", "--state-dir", str(folder / "state"), "-o", str(html))
    assert result.returncode == 0, result.stderr
    orders = _orders(bots["crashed"])
    fills = [o for o in orders if o["status"] == "filled"]
    assert len(fills) >= 3 and all(o["limit_price"] for o in orders)  # every order went out with its protection price
    if not CHROMIUM.exists():
        pytest.fail("chromium not installed (.ci/run installs the Debian package)")
    errors = []
    with chromium_page() as page:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.as_uri())
        page.wait_for_function("window.__report && window.__report.ready", timeout=20_000)
        drawn = page.evaluate("({markers: __report.drawnMarkers, fills: __report.fills, candles: __report.drawnCandles})")
        assert drawn["fills"] == drawn["markers"] == len(fills)
        assert drawn["candles"] >= 3
        rows = page.locator("#cb-decisions tr.cb-order")
        assert rows.count() == len(orders)
        text = page.locator("#cb-decisions").inner_text()
        for order in fills:  # what was sent (volume within the protection price) and what happened
            bound = "less" if order["side"] == "buy" else "more"  # a buy pays at most its limit, a sell gets at least its
            assert f"{order['side']} {order['volume']} at {order['limit_price']} or {bound}" in text
            assert f"filled {order['fill_volume']} @ {order['price']}" in text
        page.screenshot(path=str(folder / "crashed-report.png"), full_page=True)
    assert not errors, errors


def test_report_shows_the_pending_order_and_why(fleet):
    folder, _, bots = fleet
    html = folder / "pending.html"
    result = _candlebot("report", "--name", "pending", "--state-dir", str(folder / "state"), "-o", str(html))
    assert result.returncode == 0, result.stderr
    pending = [o for o in _orders(bots["pending"]) if o["status"] == "intent"]
    assert len(pending) == 1
    page = html.read_text()
    assert "pending: outcome unknown" in page and f"<td class=num>{pending[0]['userref']}</td>" in page
    assert "OrderOutcomeUnknown" in page  # the failed event the trader reported when the reply was lost
    assert "skipped" in page  # the strategy asked again while waiting: not sent, and why


def test_report_and_status_mistakes_are_one_line(fleet, tmp_path):
    folder, _, _ = fleet
    missing = _candlebot("report", "--name", "nobody", "--state-dir", str(folder / "state"), "-o", str(tmp_path / "x.html"))
    broken = _candlebot("report", "--name", "broken", "--state-dir", str(folder / "state"), "-o", str(tmp_path / "x.html"))
    no_dir = _candlebot("status", "--state-dir", str(tmp_path / "nowhere"))
    for result, message in ((missing, "no bot named nobody"), (no_dir, "is not a folder")):
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert broken.returncode == 2 and "Traceback" not in broken.stderr


def test_status_shows_the_supervisor_state_of_a_bot_under_supervisord(tmp_path):
    sim = start_simulator()
    fleet = fleet_header("reportfleet", tmp_path / "bots", tmp_path / "state") + flip_bot("supbot", sim.url, "--no-statsd")
    bot = BotRun(tmp_path, sim.url, "supbot")
    try:
        with supervised(tmp_path, fleet) as run:
            wait_until(lambda: bot.store_path.exists() and "heartbeat" in _read(bot, "status"), "the supervised bot's heartbeat")
            wait_until(lambda: "RUNNING" in run.ctl("status"), "supervisor to call it running (startsecs)")
            result = _candlebot("status", "--state-dir", str(tmp_path / "state"), "--json", "--supervisor-config", str(run.conf))
            assert result.returncode == 0, result.stderr
            [row] = json.loads(result.stdout)
            assert (row["name"], row["mode"], row["supervisor"]) == ("supbot", "paper", "RUNNING")
            table = _candlebot("status", "--state-dir", str(tmp_path / "state"), "--supervisor-url",
                               f"unix://{run.run_dir / 'nothing.sock'}")
            assert table.returncode == 0 and table.stdout.splitlines()[0].split()[-1] == "supervisor"
            assert "unreachable" in table.stdout.splitlines()[1]
    finally:
        sim.stop()
