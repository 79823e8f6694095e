"""The diary keeps a bot's candles, events and status in its state file, bounded, the forming candle replaced."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import math
from decimal import Decimal

from candlebot.output.botstatus import READ_LOCK_TIMEOUT_S, read_status
from candlebot.candle import Candle
from candlebot.live.diary import Diary
from candlebot.events import BotError, BotStarted, CandleClosed, Heartbeat, OrderSkipped, TickerPolled
from candlebot.venue import Side
from candlebot.live.store import DIARY_SCHEMA, SCHEMA, SCHEMA_VERSION, BotStore


def _closed(t: int, close: float) -> CandleClosed:
    return CandleClosed(t + 60.5, Candle(t, close, close + 1, close - 1, close, 2.0), {"sma": close - 0.5, "warm": math.nan},
                        Decimal(100), Decimal(100), 0)


def test_candles_and_events_stay_bounded_and_status_holds_the_latest(tmp_path):
    store = BotStore(tmp_path / "bot.sqlite", now=lambda: 0.0)
    diary = Diary(BotStore(tmp_path / "bot.sqlite", now=lambda: 0.0, create=False), 60, {"cost_decimals": "5"},
                  keep_candles=3, keep_events=2)
    diary.deliver([BotStarted(1.0, "b", "XBTUSD", "flip", "live")])
    for k in range(10):
        t = 60 * k
        diary.deliver([_closed(t, 100.0 + k), OrderSkipped(t + 61.0, Side.BUY, f"reason {k}"),
                       TickerPolled(t + 61.0, 200.0 + k, Candle(t + 60, 7.0, 7.0, 7.0, 7.0, 0.0)), Heartbeat(t + 61.0, k % 2)])
    diary.deliver([BotError(700.0, "KrakenError", "down")])
    candles = store.candles()
    assert [c[0] for c in candles] == [420, 480, 540, 600]  # keep_candles periods back from the newest (forming) one
    assert candles[-1][1:6] == (7.0, 7.0, 7.0, 7.0, 0.0) and candles[-1][6] is None
    assert json.loads(candles[-2][6]) == {"sma": 108.5}  # NaN (still warming up) is not stored
    assert [e[1:] for e in store.events()] == [("skipped", "buy", None, "reason 9"), ("error", None, None, "KrakenError: down")]
    status = store.status()
    assert (status["price"], status["heartbeat"], status["failures"]) == ("209.0", "601.0", "1")
    assert (status["mode"], status["strategy"], status["period"], status["cost_decimals"]) == ("live", "flip", "60", "5")
    assert status["last_error"] == "KrakenError: down"
    diary.deliver([_closed(600, 1.0)])  # the forming candle closes: its row is replaced
    assert store.candles()[-1][1:6] == (1.0, 2.0, 0.0, 1.0, 2.0)
    diary.close(0.0)
    store.close()


def test_a_version_2_file_is_migrated_with_its_books(tmp_path):
    """Files of bots from before the diary: the new column and tables are added, the books kept."""
    path = tmp_path / "old.sqlite"
    v2 = re.sub(r",\s*limit_price TEXT,[^\n]*\n\s*reason\s+TEXT[^\n]*", "", SCHEMA[: -len(DIARY_SCHEMA)])
    v2 = re.sub(r",\s*written_off REAL[^\n]*", "", v2)
    db = sqlite3.connect(path)
    db.executescript(v2)
    db.executescript("INSERT INTO meta VALUES ('pair', 'XXBTZUSD'), ('start_cash', '50'), ('cash', '50');"
                     "INSERT INTO orders (userref, pair, side, volume, status, created) VALUES (5, 'XXBTZUSD', 'buy', '0.1', 'intent', 1.0);"
                     "PRAGMA user_version = 2;")
    db.close()
    store = BotStore(path, now=lambda: 0.0)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert [p.order.userref for p in store.load().pending] == [5] and store.orders()[0]["limit_price"] is None
    assert store.candles() == [] and store.events() == [] and store.status() == {}
    store.close()


def test_status_reads_a_file_while_its_bot_holds_the_write_lock(tmp_path):
    path = tmp_path / "bots" / "abcdef_busy.sqlite"
    store = BotStore(path, now=lambda: 0.0)
    store.bind(pair="XXBTZUSD", start_cash=Decimal("100"))
    store.record(candles=[], events=[], status={"heartbeat": "90.0", "failures": "3", "mode": "live"})
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the bot in the middle of a write
    writer.execute("INSERT INTO events (time, kind, detail) VALUES (1, 'error', 'uncommitted')")
    started = time.monotonic()
    row = read_status(path, now=100.0)
    assert time.monotonic() - started < READ_LOCK_TIMEOUT_S  # never waited for the lock
    assert (row.name, row.problem, row.mode, row.failures, row.heartbeat_age_s) == ("busy", None, "live", 3, 10.0)
    writer.execute("COMMIT")
    writer.close()
    store.close()


def test_a_failed_order_is_the_last_error_worded_by_what_happened(tmp_path):
    """Refused: "failed". Outcome unknown: it may yet have filled, so never "failed" (an owner must not buy by hand)."""
    from candlebot.events import OrderFailed

    store = BotStore(tmp_path / "bot.sqlite", now=lambda: 0.0)
    diary = Diary(BotStore(tmp_path / "bot.sqlite", now=lambda: 0.0, create=False), 60, {})
    cases = [
        (OrderFailed(1.0, Side.BUY, Decimal("0.5"), 7, "OrderRejected", "EOrder:Insufficient funds"),
         "buy order failed: OrderRejected: EOrder:Insufficient funds (volume 0.5, userref 7)"),
        (OrderFailed(2.0, Side.SELL, Decimal("0.5"), 8, "OrderOutcomeUnknown", "no reply"),
         "sell order outcome unknown, being looked up: no reply (userref 8)"),
    ]
    for event, worded in cases:
        diary.deliver([event])
        assert store.status()["last_error"] == worded
    diary.close(0.0)
    store.close()
