"""Credentials: refused when the key file is readable by others; the secret never shows."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from candlebot.errors import CandlebotError, ConfigError
from candlebot.exchanges.kraken.keys import KrakenCredentials, load_credentials
from candlebot.assembly.venues import kraken_venue

KEY = "K3yAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnop"
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="


def write_key_file(path: Path, mode: int, key: str = KEY, secret: str = SECRET) -> Path:
    path.write_text(f"{key}\n{secret}\n")
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o610])
def test_key_file_readable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_key_file(tmp_path / "kraken.key", mode)

    with pytest.raises(ConfigError) as info:
        KrakenCredentials.from_key_file(path)

    assert "chmod 600" in str(info.value)
    assert SECRET not in str(info.value)


def test_private_key_file_is_loaded(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "kraken.key", 0o600)

    creds = load_credentials(path)

    assert creds.key == KEY and creds.secret == SECRET


def test_environment_is_used_without_a_key_file() -> None:
    creds = load_credentials(None, {"KRAKEN_API_KEY": KEY, "KRAKEN_API_SECRET": SECRET})

    assert creds.key == KEY


@pytest.mark.parametrize("env", [{}, {"KRAKEN_API_KEY": KEY}, {"KRAKEN_API_SECRET": SECRET}])
def test_missing_environment_is_a_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="KRAKEN_API_KEY"):
        load_credentials(None, env)


@pytest.mark.parametrize("content", ["only-a-key\n", "", f"{KEY}\nnot base64 at all!!\n"])
def test_malformed_key_file_is_a_config_error_without_the_content(tmp_path: Path, content: str) -> None:
    path = tmp_path / "kraken.key"
    path.write_text(content)
    os.chmod(path, 0o600)

    with pytest.raises(ConfigError) as info:
        KrakenCredentials.from_key_file(path)

    assert "at all" not in str(info.value) and str(path) in str(info.value)


def test_missing_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.key"):
        KrakenCredentials.from_key_file(tmp_path / "missing.key")


def test_secret_never_in_repr_str_or_abbreviated_key(tmp_path: Path) -> None:
    creds = KrakenCredentials(KEY, SECRET)
    exchange = kraken_venue(credentials=creds, state_dir=tmp_path)

    shown = " ".join([repr(creds), str(creds), repr(exchange), repr(exchange.client), f"{creds}",
                      repr(exchange.client.sequencer)])

    assert SECRET not in shown and SECRET[:12] not in shown
    assert KEY not in shown
    assert KEY[:4] in repr(creds)


def test_secret_never_in_logs_or_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                        capfd: pytest.CaptureFixture[str]) -> None:
    """A failing private call (nothing listens on the URL) logs and raises without the secret."""
    from candlebot.exchanges.kraken.client import RetryPolicy
    from candlebot.exchanges.kraken.config import KrakenConfig

    caplog.set_level(logging.DEBUG)
    config = KrakenConfig(url="http://127.0.0.1:9", timeout=0.5, connect_timeout=0.5, tier="none",
                          retry=RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0))
    exchange = kraken_venue(config, credentials=KrakenCredentials(KEY, SECRET), state_dir=tmp_path)

    with pytest.raises(CandlebotError) as info:
        exchange.balances()

    out, err = capfd.readouterr()
    chain = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(f"{exc!r} {exc}")
        exc = exc.__cause__ or exc.__context__
    for text in [caplog.text, out, err, *chain]:
        assert SECRET not in text
        assert KEY not in text
    assert caplog.records, "the retry should have been logged"
