"""Building the adapter from CLI flags and the environment."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from candlebot.errors import ConfigError
from candlebot.assembly.venues import kraken_venue
from candlebot.cli.args import add_kraken_arguments, venue_config as config_from_args
from candlebot.exchanges.kraken import KrakenExchange, load_credentials
from candlebot.exchanges.kraken.config import KrakenConfig

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_kraken_arguments(parser)
    return parser.parse_args(argv)


def test_url_flag_beats_environment_beats_default() -> None:
    env = {"CANDLEBOT_KRAKEN_URL": "http://127.0.0.1:5000"}

    assert config_from_args(parse("--kraken-url", "http://127.0.0.1:6000"), env).url == "http://127.0.0.1:6000"
    assert config_from_args(parse(), env).url == "http://127.0.0.1:5000"
    assert config_from_args(parse(), {}).url == "https://api.kraken.com"


def test_tier_and_timeout_flags() -> None:
    config = config_from_args(parse("--kraken-tier", "pro", "--kraken-timeout", "2.5"), {})

    assert (config.tier, config.timeout) == ("pro", 2.5)


@pytest.mark.parametrize("settings", [dict(url="ftp://x"), dict(tier="gold"), dict(timeout=0),
                                      dict(max_sends=0), dict(lookup_interval=0)])
def test_bad_settings_are_config_errors(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        KrakenConfig(**settings)  # type: ignore[arg-type]


def build(args: argparse.Namespace, state_dir: Path, *, private: bool = True) -> KrakenExchange:
    """As the bot wires it (cli/bot.py): credentials loaded first, so that sinks can mask them too."""
    credentials = load_credentials(args.key_file, {}) if private else None
    return kraken_venue(config_from_args(args, {}), credentials, state_dir)  # type: ignore[return-value]


def test_exchange_from_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "kraken.key"
    key_file.write_text(f"MYKEY123456\n{SECRET}\n")
    os.chmod(key_file, 0o600)

    exchange = build(parse("--key-file", str(key_file), "--kraken-url", "http://127.0.0.1:7000"), tmp_path)

    assert exchange.client.url == "http://127.0.0.1:7000"
    assert exchange.client.sequencer is not None
    assert exchange.client.sequencer.path.parent == tmp_path / "kraken"
    exchange.close()


def test_a_shared_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "kraken.key"
    key_file.write_text(f"MYKEY123456\n{SECRET}\n")
    os.chmod(key_file, 0o644)

    with pytest.raises(ConfigError, match="chmod 600"):
        build(parse("--key-file", str(key_file)), tmp_path)


def test_market_data_only_needs_no_credentials(tmp_path: Path) -> None:
    exchange = build(parse(), tmp_path, private=False)

    assert exchange.client.sequencer is None
