"""A bot alone on its key is audited against its own account only, even beside another key's bot in one state dir:
the other bot's books never count in its audit, and a shortage of its account holds it alone, with the reason a lone
bot's books give (its books, the account's balance). Real bot processes, one simulator, two keys (two accounts)."""

from __future__ import annotations

import base64
import re
from decimal import Decimal

import pytest

from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.exchanges.kraken.keys import load_credentials
from candlebot.assembly.venues import kraken_venue
from candlebot.venue import OrderRequest, Side
from tests.runtime.test_fleet_audit import FleetBot, open_volume
from tests.sinks.servers import UdpCollector
from tests.support.bots import KEY, ONE_SECOND, SECRET, start_simulator, stop, write_key_file
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ACCUMULATE = "tests.support.strategies:Accumulate"
OTHER_KEY = "CANDLEBOT-TEST-KEY-2"
OTHER_SECRET = base64.b64encode(bytes(range(64, 128))).decode()
LONE_SHORTAGE = re.compile(r"audit: the books hold ([0-9.]+) XXBT, the account only ([0-9.]+);")


def test_a_lone_bot_is_held_by_its_own_accounts_shortage_and_another_keys_bot_trades_on(tmp_path):
    sim = start_simulator(api_keys={KEY: SECRET, OTHER_KEY: OTHER_SECRET})
    key_file = write_key_file(tmp_path)
    other_key_file = tmp_path / "other.key"
    other_key_file.write_text(f"{OTHER_KEY}\n{OTHER_SECRET}\n")
    other_key_file.chmod(0o600)
    shared = tmp_path / "state"  # one state dir, two keys: each key's bots are a fleet of their own
    alpha = FleetBot(tmp_path / "alpha", sim.url, name="alpha", shared=shared)
    beta = FleetBot(tmp_path / "beta", sim.url, name="beta", shared=shared)
    common = ("--live", "--cash", "1000", "--stake", "40", "-p", ONE_SECOND, "-t", "0.2", "--strategy", ACCUMULATE,
              "--param", "num_simultaneous_trades=100", "--audit-interval", "1")
    statsd = UdpCollector()
    processes = [alpha.start("--key-file", str(key_file), *common, "--statsd-host", "127.0.0.1", "--statsd-port",
                             str(statsd.port)),
                 beta.start("--key-file", str(other_key_file), *common)]
    person = kraken_venue(KrakenConfig(url=sim.url, tier="none"), credentials=load_credentials(key_file), state_dir=shared)
    try:
        # Books agree: each bot's audit compares its own books with its own account, the other key's bot left out
        for bot in (alpha, beta):
            wait_until(lambda: "audit: the books agree with the account" in bot.logs() and open_volume(bot) >= Decimal("0.002"),
                       f"{bot.name}'s first audit and buys", timeout=60)
            assert "XXBT booked by this bot, 0 by the other bots on the key" in bot.logs()

        def audits() -> int:
            return sum(d.name == "candlebot.audit.problems" for d in statsd.datagrams())

        def held() -> bool:
            return "on hold" in alpha.logs() + beta.logs()

        wait_until(lambda: held() or min(open_volume(alpha), open_volume(beta)) >= Decimal("0.003"), "more buys")
        seen = audits()
        wait_until(lambda: held() or audits() >= seen + 2, "alpha's audits after them")
        assert not held(), alpha.logs()  # beta's coins are on another account: no false shortage

        # Act: someone sells some of alpha's coins by hand, on alpha's account
        sold = person.place_market_order(OrderRequest("XXBTZUSD", Side.SELL, Decimal("0.001"), 2_000_000_001))
        assert sold.volume == Decimal("0.001")

        # Assert: alpha holds, with a lone bot's reason: its books against its account's balance, 0.001 apart
        found = wait_until(lambda: LONE_SHORTAGE.search(alpha.logs()), "alpha's audit to find the shortage")
        booked, held = Decimal(found.group(1)), Decimal(found.group(2))
        assert booked - held == Decimal("0.001")
        wait_until(lambda: alpha.logs().count("buy order skipped: on hold since an audit found") >= 3, "refused buys")
        assert open_volume(alpha) == booked and sim.balances(KEY)["XXBT"] == held  # nothing bought since
        assert "put the coins back on the account" in alpha.logs()

        # beta, on the other key, is not held and trades on: a hold belongs to one key's account
        volume = open_volume(beta)
        wait_until(lambda: open_volume(beta) > volume, "beta's next buy while alpha is held")
        assert "on hold" not in beta.logs() and "found the account short" not in beta.logs()
        assert all(p.poll() is None for p in processes)
    finally:
        results = [stop(p) for p in processes]
        person.close()
        statsd.close()
        sim.stop()
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert sim.balances(OTHER_KEY)["XXBT"] == open_volume(beta)  # beta's books agree with its account
    assert sim.balances(KEY)["XXBT"] == open_volume(alpha) - Decimal("0.001")
