"""``candlebot replay``: a paper bot's own record backtested, decision by decision (issue 20 item 4)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from candlebot.errors import OrderRejected
from candlebot.live.store import BotStore
from candlebot.trade import BotTrade
from candlebot.venue import Fill, OrderRequest, Side
from tests.support.bots import FLIP, ONE_SECOND, REPO, BotRun, start_simulator

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def flipped(tmp_path_factory):
    """A paper bot that traded every one-second candle against the simulator, then stopped."""
    sim = start_simulator()
    try:
        bot = BotRun(tmp_path_factory.mktemp("replay"), sim.url)
        result = bot.run("--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP, "--stop-after", "6")
        assert result.returncode == 0, result.stderr
    finally:
        sim.stop()
    return bot


def replay(bot: BotRun, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", "replay", "--name", bot.name, "--state-dir",
                           str(bot.state_dir), *extra], capture_output=True, text=True, cwd=REPO, timeout=60)


def test_the_backtest_of_a_paper_bots_candles_makes_its_decisions(flipped):
    store = flipped.store()
    filled = [o for o in store.orders() if o["status"] == "filled"]
    store.close()

    result = replay(flipped)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.endswith("agrees")]
    later = sum(int(line.split()[0]) for line in lines if "in the candle still forming" in line)
    assert len(filled) >= 3 and len(rows) + later == len(filled) and later <= 1  # every order, side by side
    for order, row in zip(sorted(filled, key=lambda o: o["created"]), rows):
        assert row.split()[2] == order["side"] and row.split()[3] == order["price"]  # the bot's own price
    assert f"{len(rows)} of {len(rows)} decisions agree" in lines
    assert any(line.startswith("the bot's fills paid") and "--spread" in line for line in lines)


def test_a_what_if_strategy_diverges_with_its_cause_and_exit_1(flipped):
    result = replay(flipped, "--strategy", "tests.support.strategies:Accumulate")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIVERGES: different candle" in result.stdout


def test_an_unknown_bot_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "candlebot", "replay", "--name", "ghost", "--state-dir",
                             str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "no bot named ghost" in line


def test_the_report_draws_the_backtest_beside_the_bot(flipped, tmp_path):
    html = tmp_path / "replay.html"

    result = replay(flipped, "--report", str(html))

    assert result.returncode == 0, result.stdout + result.stderr
    page = html.read_text()
    assert "backtest entry price" in page and "replay: bot" in page and page.count("agrees") >= 3


def _rows(stdout: str) -> list[list[str]]:
    """Each compared decision: date, time, side, bot price, backtest price, price diff, volume diff, verdict..."""
    return [line.split() for line in stdout.splitlines() if line[:2] == "20" and (" agrees" in line or " DIVERGES" in line)]


def test_price_and_volume_differences_are_apart(flipped):
    """The new user read a "cost diff" of -0.02319 for a buy dearer than the backtest's (its volume was smaller) and
    +0.05490 for one at the backtest's own price: the price difference per unit and the volume difference are apart."""
    store = flipped.store()
    volumes = {(o["side"], o["price"]): Decimal(o["fill_volume"]) for o in store.orders() if o["status"] == "filled"}
    store.close()

    result = replay(flipped)

    assert result.returncode == 0, result.stdout + result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("candle (UTC)"))
    assert header.split()[3:8] == ["bot", "backtest", "price", "diff", "volume"] and "cost diff" not in header
    rows = _rows(result.stdout)
    assert len(rows) >= 3
    for _, _, side, bot, backtest, price_diff, volume_diff, *_ in rows:
        worse = Decimal(bot) - Decimal(backtest) if side == "buy" else Decimal(backtest) - Decimal(bot)
        assert Decimal(price_diff) == worse  # per unit, whatever the volumes: 0 when both filled at one price
        assert abs(Decimal(volume_diff)) < volumes[(side, bot)]  # a volume, not money
    assert "price diff: per unit" in result.stdout


def _refused_last_sell(bot: BotRun, state: Path, reason: str) -> None:
    """The paper bot's record written again through the real store into ``state``, the same in every order, candle,
    event and status up to its last sell, except that the exchange refused that sell (booked and recorded as a bot
    books a refusal: the order failed with the exchange's words, a ``failed`` event, the trade still open)."""
    source = bot.store()
    try:
        orders, events, status, candles = source.orders(), source.events(), source.status(), source.candles()
        trade_of = {t.open_fill.userref: t.trade_id for t in source.load().trades}  # buy userref -> its trade
        meta = {key: source.meta(key) for key in ("bot_name", "bot_id", "account", "pair", "start_cash")}
    finally:
        source.close()
    period = int(status["period"])
    seen = max(float(status.get(key) or 0) for key in ("price_time", "heartbeat", "stopped"))
    closed = [o for o in orders if o["status"] == "filled" and o["side"] == "sell"
              and int(float(o["created"])) // period * period + period <= seen]  # not in the candle still forming
    last_sell = max(closed, key=lambda o: o["created"])
    # the record ends in the candle of that sell (a flip bot would not buy again with its trade still open)
    candle = int(float(last_sell["created"])) // period * period
    orders = [o for o in orders if o["created"] <= last_sell["created"]]
    candles = [c for c in candles if c[0] <= candle]
    events = [e for e in events if e[0] < candle + period]
    clock = [0.0]
    store = BotStore(state / "bots" / bot.store_path.name, now=lambda: clock[0])
    try:
        store.claim(name=meta["bot_name"], bot_id=meta["bot_id"], account=meta["account"])
        store.bind(pair=meta["pair"], start_cash=Decimal(meta["start_cash"]))
        cash = Decimal(meta["start_cash"])
        trades: dict[int, BotTrade] = {}
        for o in sorted(orders, key=lambda o: (o["created"], o["userref"])):
            assert o["status"] == "filled", o  # the flip bot's orders all filled
            clock[0] = float(o["created"])
            side = Side(o["side"])
            limit = None if o["limit_price"] is None else Decimal(o["limit_price"])
            order = OrderRequest(o["pair"], side, Decimal(o["volume"]), o["userref"], limit)
            store.intent(order, o["trade_id"], o["reason"])
            if o is last_sell:
                store.failed(order, OrderRejected(reason))
                continue
            fill = Fill(o["order_id"], o["userref"], o["pair"], side, float(o["fill_time"]), Decimal(o["price"]),
                        Decimal(o["fill_volume"]), Decimal(o["cost"]), Decimal(o["fee"]))
            if side is Side.BUY:
                trade = trades[trade_of[o["userref"]]] = BotTrade(trade_of[o["userref"]], fill)
                cash -= fill.cost + fill.fee
            else:
                trade = BotTrade(o["trade_id"], trades[o["trade_id"]].open_fill, fill)
                cash += fill.cost - fill.fee
            store.filled(order, fill, trade, cash)
        refusal = (float(last_sell["created"]), "failed", "sell", last_sell["userref"],
                   f"volume {last_sell['volume']}: OrderRejected: {reason}")
        store.record(candles=candles, events=sorted([*events, refusal]), status=status)
    finally:
        store.close()


def test_a_sell_the_exchange_refused_is_named_refused_with_its_reason(flipped, tmp_path):
    """Replay called a sell the exchange refused "DIVERGES: unfilled"; unfilled means nothing met its price."""
    _refused_last_sell(flipped, tmp_path / "state", "EOrder:Insufficient funds")

    result = subprocess.run([sys.executable, "-m", "candlebot", "replay", "--name", flipped.name, "--state-dir",
                             str(tmp_path / "state")], capture_output=True, text=True, cwd=REPO, timeout=60)

    assert result.returncode == 1, result.stdout + result.stderr
    [refused] = [line for line in result.stdout.splitlines() if "DIVERGES" in line]
    assert refused.endswith("DIVERGES: refused: OrderRejected: EOrder:Insufficient funds"), refused
    assert " sell " in refused and "unfilled" not in result.stdout
