"""A running bot against a misbehaving exchange and against user mistakes."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import pytest

from candlebot.exchanges.kraken_sim import Faults
from candlebot.exchanges.kraken_sim import LateListing, ServiceError, SlowFill, ThinBook
from candlebot.exchanges.kraken_sim.faults import DropReply, Fault, HttpError, Latency, Malformed
from tests.support.bots import FLIP, KEY, ONE_SECOND, SECRET, BotRun, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_faults_during_a_run_are_reported_and_the_books_stay_consistent(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    # An AddOrder refused before processing (EService:Unavailable) leaves an order that is never listed: by design
    # the bot sends nothing until --reconcile-window proves it absent. 5 s (> the 1 s late listings below) keeps
    # this 30 s run trading; the default 120 s would hold it for the rest of the run.
    process = bot.start("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "-p", ONE_SECOND, "-t", "0.2",
                        "--strategy", FLIP, "--reconcile-window", "5")

    def survive(condition, what: str) -> None:
        """Wait for ``condition``; a bot that exits meanwhile fails at once (it must survive every fault)."""
        wait_until(lambda: process.poll() is not None or condition(), what, timeout=60)
        assert process.poll() is None, f"the bot must survive every fault; it exited waiting for {what}"

    try:
        for faults in (
            Faults(http_error=HttpError(status=503, probability=0.5), seed=1),
            Faults(unavailable=Fault(probability=0.5), seed=2),
            Faults(latency=Latency(ms=300, jitter_ms=200), seed=3),
            Faults(malformed=Malformed(mode="html", probability=0.4), seed=4),
            Faults(malformed=Malformed(mode="truncated", probability=0.4), seed=5),
            Faults(drop_reply=DropReply(mode="502", probability=0.5, methods=("AddOrder",)), seed=6),
            Faults(busy=ServiceError(processed=True, probability=0.5, methods=("AddOrder",)), seed=8),
            Faults(busy=ServiceError(processed=True, probability=0.5, methods=("AddOrder",)),
                   late_listing=LateListing(delay_s=1.0, probability=0.5), seed=9),
            Faults(thin_book=ThinBook(fill_ratio=0.5, probability=0.5), seed=10),
            Faults(slow_fill=SlowFill(delay_s=0.5, probability=0.5), seed=11),
            Faults(),
        ):
            sim.set_faults(faults)
            time.sleep(2.0)  # the scenario: the bot runs for a while under each fault set...
            survive(lambda: all(kind["fired"] for kind in sim.faults().values() if isinstance(kind, dict)),
                    f"{faults} to fire")  # ...and until it has met it, however slow the machine
        failed, recovered = bot.logs().count("ticker poll failed"), bot.logs().count("exchange reachable again")
        sim.set_faults(Faults(http_error=HttpError(status=502), seed=7))  # an outage longer than the adapter's retries
        survive(lambda: bot.logs().count("ticker poll failed") > failed, "the outage to fail a ticker poll")
        placed = len(sim.orders())
        sim.set_faults(Faults())
        survive(lambda: bot.logs().count("exchange reachable again") > recovered, "the bot to reach the exchange again")
        survive(lambda: len(sim.orders()) > placed, "the bot to trade again")
    finally:
        code, _, err = stop(process)
    assert code == 0, err

    logs = bot.logs()
    assert "ticker poll failed" in logs  # reported
    assert "exchange reachable again" in logs  # and recovered
    # a restart settles whatever was still being looked up when it stopped
    settle = bot.run("--live", "--key-file", str(write_key_file(tmp_path)), "-p", ONE_SECOND, "-t", "0.2", "--strategy", FLIP,
                     "--reconcile-window", "1", "--stop-after", "4")
    assert settle.returncode == 0, settle.stderr

    orders = sorted(sim.orders(), key=lambda o: o["opentm"])
    assert max(Counter(o["userref"] for o in orders).values()) == 1
    sides = [o["descr"]["type"] for o in orders]
    for first, second in zip(orders, orders[1:]):  # Flip alternates; only a partly filled sell leaves a remainder to sell next
        repeat = first["descr"]["type"] == second["descr"]["type"]
        partial_sell = first["descr"]["type"] == "sell" and Decimal(first["vol_exec"]) < Decimal(first["vol"])
        assert not repeat or partial_sell, f"a decision was sent twice: {sides}"
    store = bot.store()
    assert not store.load().pending
    booked = {o["userref"] for o in store.orders() if o["status"] == "filled"}
    executed = {o["userref"] for o in orders if Decimal(o["vol_exec"]) > 0}
    assert executed == booked
    assert len(booked) >= 4


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--live"], "--live needs a Kraken API key: set both KRAKEN_API_KEY and KRAKEN_API_SECRET, or pass --key-file"),
        (["--validate"], "--validate needs a Kraken API key"),
        (["--live", "--key-file", "/nonexistent/kraken.key"], "/nonexistent/kraken.key"),
        (["--live", "--key-file", "OPEN_KEY"], "chmod 600"),
        (["-c", "DOGEUSD"], "unknown pair 'DOGEUSD' (not among the"),  # the bundled catalog decides, before Kraken is called
        (["-c", "DOGEUSD"], "did you mean XDGUSD"),  # the coin Kraken calls XDG, not DOGUSD (another coin)
        (["-t", "0"], "-t must be a number of seconds within (0, 86400], got 0.0"),
        (["-t", "inf"], "-t must be a number of seconds within (0, 86400], got inf"),
        (["--json"], "--json is for backtests"),
        (["--report", "r.html"], "--report is for backtests"),
        (["--max-price-deviation", "0"], "--max-price-deviation must be a fraction within (0, 1) or a percent (0.5%), got 0"),
        (["--strategy", "nope:Nothing"], "cannot load strategy 'nope:Nothing'"),
        (["--name", "../etc"], "bot name '../etc' must be"),
    ],
)
@pytest.mark.slow
def test_bad_bot_input_is_one_line_and_exit_code_2(sim, tmp_path, extra, message, monkeypatch):
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    open_key = tmp_path / "open.key"
    open_key.write_text(f"{KEY}\n{SECRET}\n")
    open_key.chmod(0o644)
    argv = ["--strategy", FLIP, "-p", ONE_SECOND, *[str(open_key) if a == "OPEN_KEY" else a for a in extra]]
    # --stop-after is only a safety net: each refusal comes first, and a loaded machine must not let 3 s of start-up
    # end the bot cleanly before it refuses
    bot = BotRun(tmp_path, sim.url)
    result = bot.run(*argv, "--stop-after", "50", timeout=90)
    assert result.returncode == 2, result.stderr
    # a refused start leaves no state file behind: `candlebot status` would list a bot that never ran, with no reason
    assert not bot.store_path.exists() and not bot.store_path.with_name(bot.store_path.name + "-wal").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("candlebot: error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout


@pytest.mark.slow
def test_a_strategy_that_raises_skips_the_candle_and_the_bot_goes_on(sim, tmp_path):
    bot = BotRun(tmp_path, sim.url)
    result = bot.run("--cash", "1000", "-p", ONE_SECOND, "-t", "0.2", "--strategy", "tests.support.strategies:Boom", "--stop-after", "6")
    assert result.returncode == 0, result.stderr
    logs = bot.logs()
    assert "strategy error: boom failed on the candle of" in logs and "RuntimeError: boom: a strategy bug" in logs
    assert bot.store().load().trades, "the candles between the failures still trade"
