"""Kraken API credentials: loaded from a krakenex key file or the environment, never shown.

A key file has krakenex's format: line 1 the API key, line 2 the base64
secret. It must be readable by its owner only (``chmod 600``); anything looser
is refused before the secret is read. ``KrakenCredentials`` keeps the secret
out of ``repr``/``str`` and shows the key abbreviated, so that a credentials
object can be logged or put in an exception message safely.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path
from typing import Mapping

from candlebot.errors import ConfigError

KEY_ENV = "KRAKEN_API_KEY"
SECRET_ENV = "KRAKEN_API_SECRET"


def _abbreviate(key: str) -> str:
    return f"{key[:4]}…{key[-2:]}" if len(key) > 8 else "…"


class KrakenCredentials:
    """An API key and its secret. ``secret`` is the only way to read the secret; nothing prints it."""

    __slots__ = ("_key", "_secret")

    def __init__(self, key: str, secret: str) -> None:
        key, secret = key.strip(), secret.strip()
        if not key:
            raise ConfigError("Kraken API key is empty")
        if not secret:
            raise ConfigError(f"Kraken API secret for key {_abbreviate(key)} is empty")
        try:
            decoded = base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if not decoded:
            # Never echo the value: say only what is wrong with it.
            raise ConfigError(f"Kraken API secret for key {_abbreviate(key)} is not valid base64")
        self._key = key
        self._secret = secret

    @property
    def key(self) -> str:
        return self._key

    @property
    def secret(self) -> str:
        return self._secret

    @property
    def key_id(self) -> str:
        """A stable, non-reversible name for the key (file names of the nonce sequencer)."""
        return hashlib.sha256(self._key.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"KrakenCredentials(key={_abbreviate(self._key)!r}, secret=<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KrakenCredentials) and (self._key, self._secret) == (other._key, other._secret)

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> object:
        # Picklable for multiprocessing, without putting the secret in repr-visible state.
        return (KrakenCredentials, (self._key, self._secret))

    @classmethod
    def from_key_file(cls, path: str | os.PathLike[str]) -> KrakenCredentials:
        """Read a krakenex key file; refuse one that group or others can read."""
        path = checked_key_file(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Kraken key file {path} cannot be read ({type(exc).__name__})") from None
        if len(lines) < 2:
            raise ConfigError(f"Kraken key file {path}: expected the key on line 1 and the secret on line 2")
        try:
            return cls(lines[0], lines[1])
        except ConfigError as exc:
            raise ConfigError(f"Kraken key file {path}: {exc}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KrakenCredentials:
        env = os.environ if environ is None else environ
        key, secret = env.get(KEY_ENV, ""), env.get(SECRET_ENV, "")
        if not key or not secret:
            raise ConfigError(f"set both {KEY_ENV} and {SECRET_ENV}, or pass --key-file")
        return cls(key, secret)


def checked_key_file(path: str | os.PathLike[str]) -> Path:
    """``path`` if it is a regular file only its owner can access; a one-line ``ConfigError`` otherwise. Reads nothing
    of it, so ``candlebot fleet`` can check a bot's key file without touching the secret."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"Kraken key file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"Kraken key file {path} is not a regular file")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"Kraken key file {path} is accessible by group or others (mode {stat.S_IMODE(mode):o}); "
            f"fix it with: chmod 600 {path}"
        )
    return path


def load_credentials(key_file: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> KrakenCredentials:
    """``--key-file`` when given, else ``KRAKEN_API_KEY``/``KRAKEN_API_SECRET``."""
    if key_file:
        return KrakenCredentials.from_key_file(key_file)
    return KrakenCredentials.from_env(environ)
