"""`candlebot fleet` refuses a bot's flag exactly when, and exactly as, the bot itself would at start.

A flag the bot refuses makes it exit 2 under supervisor, which leaves it EXITED (exit 2 is not restarted): the
fleet generator let such flags through. Each case runs the real bot and the real generator as processes and
compares their lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bots import REPO

pytestmark = pytest.mark.integration

# no --no-statsd/--no-slack: every case is refused before a sink would start, and the sink flags are checked too
BOT = ["--strategy", "sma_cross", "--kraken-url", "http://127.0.0.1:9", "--stop-after", "1"]
ENV = {**{key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DD_"))}, "PYTHONPATH": str(REPO)}
BAD_FLAGS = {
    "--crash-limit -1": ["--crash-limit", "-1"],
    "--max-slippage abc": ["--max-slippage", "abc"],
    "--fee lots": ["--fee", "lots"],
    "-x binance": ["-x", "binance"],
    "--from 2024-01-01": ["--from", "2024-01-01"],
    "--max-price-deviation 0": ["--max-price-deviation", "0"],
    "--audit-interval 0": ["--audit-interval", "0"],
    "--stop-after -5": ["--stop-after", "-5"],
    "--statsd-port abc": ["--statsd-port", "abc"],
    "--slack-base-url without --slack-channel": ["--slack-base-url", "http://127.0.0.1:9/api/"],
    "--kraken-timeout 0": ["--kraken-timeout", "0"],          # the Kraken flags were checked by the bot only (review)
    "--kraken-timeout nan": ["--kraken-timeout", "nan"],
    "--kraken-url ftp://x": ["--kraken-url", "ftp://x"],
}


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=ENV)


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


@pytest.mark.parametrize("case", list(BAD_FLAGS))
def test_a_flag_the_bot_refuses_is_refused_by_fleet_in_the_bots_words(case, tmp_path):
    flags = BAD_FLAGS[case]
    bot = run([*BOT, "--state-dir", str(tmp_path / "state"), *flags], tmp_path)
    assert bot.returncode == 2 and len(bot.stderr.splitlines()) == 1, bot.stderr
    prefix = "candlebot: error: "
    assert bot.stderr.startswith(prefix), bot.stderr
    message = bot.stderr.strip()[len(prefix):]
    (tmp_path / "fleet.toml").write_text(f'[fleet]\nroot = "bots"\n[[bot]]\nname = "a"\npair = "XBTUSD"\n'
                                         f'strategy = "sma_cross"\nextra_args = {toml_list(flags)}\n')
    fleet = run(["fleet", "fleet.toml", "-o", "fleet.conf"], tmp_path)
    assert (fleet.returncode, fleet.stderr.splitlines()) == (2, [f"candlebot fleet: error: bot a: {message}"])
    assert not (tmp_path / "fleet.conf").exists()


def test_a_slack_secret_set_only_under_supervisor_is_not_refused_by_fleet(tmp_path):
    """The webhook usually lives in supervisord's environment, which the generator cannot see."""
    (tmp_path / "fleet.toml").write_text('[fleet]\nroot = "bots"\n[[bot]]\nname = "a"\npair = "XBTUSD"\n'
                                         'strategy = "sma_cross"\nextra_args = ["--slack"]\n')
    fleet = run(["fleet", "fleet.toml"], tmp_path)
    assert fleet.returncode == 0 and "--slack" in fleet.stdout, fleet.stderr



@pytest.mark.parametrize("case", ["missing", "readable by others"])
def test_a_key_file_the_bot_would_refuse_is_named_by_fleet_in_the_bots_words(case, tmp_path):
    """A mistyped key_file (or one others can read) passed `candlebot fleet` without a word; the live bot then exited 2
    under supervisor and stayed EXITED (the new-user trial). fleet now warns in the bot's words and still writes the
    config (it is often generated before the key is in place); neither reads the secret."""
    key = tmp_path / "bot.key"
    if case != "missing":
        key.write_text("KEY\nc2VjcmV0\n")
        key.chmod(0o644)
    bot = run([*BOT, "--live", "--key-file", str(key), "--state-dir", str(tmp_path / "state")], tmp_path)
    assert bot.returncode == 2 and len(bot.stderr.splitlines()) == 1, bot.stderr
    message = bot.stderr.strip()[len("candlebot: error: "):]
    assert message.startswith(f"--live needs a Kraken API key: Kraken key file {key}"), message
    (tmp_path / "fleet.toml").write_text(f'[fleet]\nroot = "bots"\n[[bot]]\nname = "a"\npair = "XBTUSD"\n'
                                         f'strategy = "sma_cross"\nmode = "live"\nkey_file = "bot.key"\n')
    fleet = run(["fleet", "fleet.toml", "-o", "fleet.conf"], tmp_path)
    assert fleet.returncode == 0 and (tmp_path / "fleet.conf").exists(), fleet.stderr
    assert fleet.stderr.splitlines() == [f"candlebot fleet: warning: bot a: {message}; it will refuse to start (exit 2) "
                                         "until that is fixed"]


def test_a_usable_key_file_gets_no_warning(tmp_path):
    key = tmp_path / "bot.key"
    key.write_text("KEY\nc2VjcmV0\n")
    key.chmod(0o600)
    (tmp_path / "fleet.toml").write_text(f'[fleet]\nroot = "bots"\n[[bot]]\nname = "a"\npair = "XBTUSD"\n'
                                         f'strategy = "sma_cross"\nmode = "live"\nkey_file = "bot.key"\n')
    fleet = run(["fleet", "fleet.toml", "-o", "fleet.conf"], tmp_path)
    assert (fleet.returncode, fleet.stderr) == (0, ""), fleet.stderr


def test_a_strategy_only_the_current_folder_holds_is_refused_with_the_way_to_point_the_bot_at_it(tmp_path):
    """`--strategy NAME` searches the current folder: fleet, run beside mine.py, found it; the bot, run by supervisor
    in its own folder, would not, and would stay EXITED (found in review)."""
    source = (REPO / "strategies" / "sma_cross.py").read_text().replace('name = "sma_cross"', 'name = "mine"')
    (tmp_path / "mine.py").write_text(source)
    fleet_file = '[fleet]\nroot = "bots"\n[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "{}"\n{}'
    (tmp_path / "fleet.toml").write_text(fleet_file.format("mine", ""))
    refused = run(["fleet", "fleet.toml"], tmp_path)
    assert refused.returncode == 2 and refused.stderr.splitlines() == [
        f"candlebot fleet: error: bot a: strategy 'mine' was found in the current folder (mine.py), which the bot, run "
        f"in {tmp_path / 'bots' / 'a'}, does not search: set strategy_path (relative to the fleet file) or "
        f"strategy = \"mine.py:{_class_name(source)}\""], refused.stderr

    (tmp_path / "fleet.toml").write_text(fleet_file.format("mine", 'strategy_path = "."\n'))
    assert run(["fleet", "fleet.toml"], tmp_path).returncode == 0


def _class_name(source: str) -> str:
    import re

    return re.search(r"^class (\w+)\(BotStrategy\)", source, re.M).group(1)
