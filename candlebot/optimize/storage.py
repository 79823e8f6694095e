"""Where a study lives: in memory, in a journal file (resume on one machine), or in PostgreSQL (many machines).

    (none)                      in memory, gone when the command ends
    journal:FILE                optuna's journal file; run the same command again to resume
    postgresql://user@host/db   optuna's RDB storage through psycopg 3 (the [postgres] extra);
                                ``postgres://`` and ``postgresql+psycopg://`` are accepted too
    sqlite:///FILE              optuna's RDB storage on SQLite (one machine)

Messages never show a password from the URL.
"""

from __future__ import annotations

from typing import Any

from candlebot.errors import ConfigError

_CONNECT_TIMEOUT_S = 10


def open_storage(url: str | None) -> Any:
    """An optuna storage for ``--storage``; ConfigError (one line) when it cannot be used or reached."""
    if url is None:
        import optuna

        return optuna.storages.InMemoryStorage()
    if url.startswith("journal:"):
        return _journal(url.removeprefix("journal:"))
    scheme = url.partition("://")[0].lower()
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        _require_psycopg(url)
        return _rdb("postgresql+psycopg://" + url.partition("://")[2], {"connect_args": {"connect_timeout": _CONNECT_TIMEOUT_S}})
    if scheme == "sqlite":
        return _rdb(url, {})
    raise ConfigError(f"--storage: unknown kind {shown(url)!r}; use journal:FILE, postgresql://... or sqlite:///FILE")


def shown(url: str) -> str:
    """The URL with any password masked."""
    if "://" not in url:
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show only its scheme
        return url.partition("://")[0] + "://..."


def _require_psycopg(url: str) -> None:
    """PostgreSQL goes through psycopg 3, which only the [postgres] extra installs."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ConfigError(f"--storage {shown(url)} needs the [postgres] extra (psycopg): "
                          "pip install 'candlebot[postgres]'") from None


def _journal(path: str) -> Any:
    if not path:
        raise ConfigError("--storage journal:FILE needs a file name")
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    try:
        return JournalStorage(JournalFileBackend(path))
    except OSError as exc:
        raise ConfigError(f"--storage: cannot use journal file {path}: {exc.strerror or exc}") from None


def _rdb(url: str, engine_kwargs: dict[str, Any]) -> Any:
    try:
        import sqlalchemy.exc
        from optuna.storages import RDBStorage
    except ImportError as exc:
        raise ConfigError(f"--storage {shown(url)} needs optuna and SQLAlchemy: pip install 'candlebot[optimize,postgres]' ({exc})") from None
    try:
        return RDBStorage(url, engine_kwargs=engine_kwargs)
    except ImportError as exc:  # optuna turns a missing driver into a plain ImportError
        raise ConfigError(f"--storage {shown(url)}: database driver missing ({getattr(exc, 'name', None) or exc}); "
                          "pip install 'candlebot[postgres]'") from None
    except (sqlalchemy.exc.SQLAlchemyError, ValueError) as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(f"--storage: cannot reach {shown(url)}: {first}") from None
