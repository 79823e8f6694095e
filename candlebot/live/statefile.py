"""A versioned SQLite state file: created whole or not at all, checked before it is trusted.

    missing  -> built in a temporary file (schema, ``user_version``, WAL) and renamed into place
    existing -> not empty, ``PRAGMA quick_check`` ok, a known ``user_version`` (older ones migrated),
                exactly the expected tables and columns; ``probe_write`` then tells whether it is writable

Anything else raises ``StateFileError`` (one line, exit 2): a bot never starts
fresh books over a file that exists, since that would forget open positions.

The expected schema is the DDL itself: it is run in an in-memory database and
its ``table_info`` compared with the file's. Adding a table or a column is
therefore: edit the DDL, bump the version, add the migration from the
previous version (``Schema.migrations``); nothing else changes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from candlebot.errors import StateFileError
from candlebot.live.wholefile import replace_whole

Layout = dict[str, tuple[tuple[str, str, int, int], ...]]  # table -> (name, type, notnull, pk) per column

FIX_HINT = "restore it from a backup, or move it away to start new books"


@dataclass(frozen=True)
class Schema:
    """``ddl`` creates version ``version``; ``migrations[n]`` turns a version-n file into version n + 1.

    Files written before versioning carry ``user_version`` 0: they are taken for the
    current version when their tables match it, else for ``unversioned_as`` (then migrated).
    """

    version: int
    ddl: str
    migrations: Mapping[int, str] = field(default_factory=dict)
    unversioned_as: int = 1

    def layout(self) -> Layout:
        db = sqlite3.connect(":memory:")
        try:
            db.executescript(self.ddl)
            return _layout(db)
        finally:
            db.close()


def open_state(path: Path, schema: Schema, *, create: bool, lock_timeout: float) -> sqlite3.Connection:
    """A checked connection (autocommit, WAL) to the state file at ``path``, created when missing and ``create``."""
    if path.is_symlink() and not path.exists():  # creating would replace the link: books silently started anew
        raise StateFileError(f"state file {path} is a symbolic link to {os.readlink(path)}, which does not exist; "
                             "restore its target, or remove the link to start new books")
    if not path.exists():
        if not create:
            raise StateFileError(f"no state file at {path}")
        _create(path, schema)
    elif path.is_file() and path.stat().st_size == 0:
        raise StateFileError(f"state file {path} is empty (0 bytes): its books are lost; {FIX_HINT}")
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=lock_timeout)
    except sqlite3.Error as exc:
        raise StateFileError(f"cannot open state file {path}: {exc}") from None
    try:
        _check(db, path, schema)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    except StateFileError:
        db.close()
        raise
    except sqlite3.Error as exc:
        db.close()
        raise StateFileError(f"state file {path} is unusable ({exc}); {FIX_HINT}") from None
    return db


def _create(path: Path, schema: Schema) -> None:
    """The whole schema in a temporary file, then one rename: a crash leaves no half-made file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            db.executescript(schema.ddl)
            db.execute(f"PRAGMA user_version = {int(schema.version)}")
            db.execute("PRAGMA journal_mode=WAL")
        finally:
            db.close()
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        replace_whole(temporary, path)
    except (OSError, sqlite3.Error) as exc:
        temporary.unlink(missing_ok=True)
        raise StateFileError(f"cannot create state file {path}: {exc}") from None


def _check(db: sqlite3.Connection, path: Path, schema: Schema) -> None:
    try:
        verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        raise StateFileError(f"state file {path} is not a readable SQLite database ({exc}); {FIX_HINT}") from None
    if verdict != ["ok"]:
        detail = " ".join(" ".join(verdict).split())
        raise StateFileError(f"state file {path} is corrupt ({detail[:160]}); {FIX_HINT}")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > schema.version:
        raise StateFileError(f"state file {path} has schema version {version}, newer than this candlebot's "
                             f"{schema.version}; run the candlebot that wrote it")
    expected = schema.layout()
    if version == schema.version:
        _compare(_layout(db), expected, path, version)
        return
    found = _layout(db)
    if version == 0:
        if not found:
            raise StateFileError(f"state file {path} holds no candlebot books (no tables); {FIX_HINT}")
        version = schema.version if found == expected else schema.unversioned_as
    missing = [v for v in range(version, schema.version) if v not in schema.migrations]
    if missing:
        raise StateFileError(f"state file {path} has schema version {version} and no migration to {schema.version}")
    try:
        db.execute("BEGIN IMMEDIATE")
        for step in range(version, schema.version):
            for statement in _statements(schema.migrations[step]):  # executescript would commit half-way
                try:
                    db.execute(statement)
                except sqlite3.Error as exc:
                    raise StateFileError(f"state file {path} does not have candlebot's schema version {version} "
                                         f"(migrating it to {step + 1} failed: {exc}); {FIX_HINT}") from None
        db.execute(f"PRAGMA user_version = {int(schema.version)}")
        _compare(_layout(db), expected, path, version)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def probe_write(db: sqlite3.Connection, path: Path) -> None:
    """A file the bot cannot write to would only fail at its first order: find out at start."""
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        db.execute("BEGIN IMMEDIATE")
        db.execute(f"PRAGMA user_version = {version}")
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise StateFileError(f"state file {path} cannot be written ({exc}); a bot that cannot record its orders "
                             "does not start") from None


def _compare(found: Layout, expected: Layout, path: Path, version: int) -> None:
    if found == expected:
        return
    differences = [f"table {t} missing" for t in expected if t not in found]
    differences += [f"unexpected table {t}" for t in found if t not in expected]
    differences += [f"table {t} has other columns" for t in expected if t in found and found[t] != expected[t]]
    raise StateFileError(f"state file {path} does not have candlebot's schema (version {version}: "
                         f"{', '.join(differences)}); {FIX_HINT}")


def _layout(db: sqlite3.Connection) -> Layout:
    tables = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {table: tuple((c[1], c[2].upper(), c[3], c[5]) for c in db.execute(f"PRAGMA table_info({_quote(table)})"))
            for table in tables}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _statements(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


@contextmanager
def one_snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """Several reads that must see one state of the file: on an autocommit connection each SELECT would see the
    file as it is then, and a running bot committing a fill between two of them (cash, then the order) makes
    sound books look impossible to ``candlebot status`` or a report. Joins a transaction already open."""
    if db.in_transaction:
        yield
        return
    db.execute("BEGIN")  # deferred: the first read fixes the snapshot (WAL), writers are not blocked
    try:
        yield
    finally:
        if db.in_transaction:
            db.execute("COMMIT")  # read only: nothing to keep or undo
