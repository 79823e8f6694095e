"""The poll loop of a live bot never waits for the key's private (REST) budget (real bot process, starter simulator).

Another process on the key holds the shared REST counter full. Kraken does not
count AddOrder on that counter, so the bot's order still goes out; its fill read
(QueryOrders) waits for the budget on a later poll, and meanwhile the bot keeps
polling: ticker lines go on. When the budget comes back the fill is booked.
"""

from __future__ import annotations

import subprocess
import threading

import pytest

from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken.nonce import NonceSequencer
from candlebot.exchanges.kraken.ratelimit import TIERS, RateLimiter
from tests.support.bots import FLIP, KEY, ONE_SECOND, SECRET, BotRun, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class BudgetHog:
    """Keeps the key's shared REST counter marked full, as a fleet of other bots spending it would."""

    def __init__(self, state_dir) -> None:  # type: ignore[no-untyped-def]
        self.sequencer = NonceSequencer(KrakenCredentials(KEY, SECRET).key_id, state_dir=state_dir,
                                        limiter=RateLimiter(TIERS["starter"]))
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.is_set():
            self.sequencer.mark_rate_limited()
            self.done.wait(0.05)  # the pace of the marks, not a wait for an outcome

    def __enter__(self) -> BudgetHog:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self.sequencer.close()


def test_orders_go_out_and_the_poll_goes_on_while_the_rest_budget_is_exhausted(tmp_path):
    sim = start_simulator(tier="starter")
    run = BotRun(tmp_path, sim.url, name="hungry", tier="starter")
    bot = run.start("--live", "--key-file", str(write_key_file(tmp_path)), "--cash", "1000", "--no-statsd",
                    "--strategy", FLIP, "-p", ONE_SECOND, "-t", "0.2", stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: bot.poll() is not None or run.store().load().trades, "the bot's first trade", timeout=90)
        with BudgetHog(run.state_dir):
            booked = len(run.store().load().trades) + sum(t.is_open is False for t in run.store().load().trades)
            before = len(sim.orders())
            wait_until(lambda: bot.poll() is not None or len(sim.orders()) > before,
                       "an order sent while the REST budget is gone", timeout=60)
            sent = run.logs().count("Current: ")
            wait_until(lambda: bot.poll() is not None or run.logs().count("Current: ") >= sent + 15,
                       "15 ticker lines while the order's fill waits for the budget", timeout=60)
            assert "fill is read on a later poll" in run.logs()
            assert len(sim.orders()) == before + 1  # paused: nothing more is sent before that fill is booked
        wait_until(lambda: bot.poll() is not None or
                   len(run.store().load().trades) + sum(t.is_open is False for t in run.store().load().trades) > booked,
                   "the fill booked once the budget is back", timeout=60)
    finally:
        code, _, err = stop(bot, timeout=30)
        sim.stop()
    assert code == 0, err
    assert sim.counters()["rate_limited"] == 0 and sim.counters()["invalid_nonce"] == 0
