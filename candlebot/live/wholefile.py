"""Files other processes read while they are rewritten: written whole or not at all, never half.

The bots of a key share small JSON files (the account read, the fee tier, the fleet's holds) and a bot keeps its
crash count beside its books; a reader must never see half a file, and a power cut must not leave an empty one
where a whole one was. So a file is written beside its place (``.<name>.<pid>.new``: no two writers share one),
synced to disk, renamed over the old one (atomic on POSIX), and the folder synced so that the rename lasts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class UnreadableFile(ValueError):
    """The file is there but holds no whole JSON document (or cannot be read): its reader decides what that means."""


def write_json(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, whole; raises ``OSError`` (nothing half-written is left behind)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    replace_whole(temporary, path)


def replace_whole(temporary: Path, path: Path) -> None:
    """Put the finished file ``temporary`` (already synced) at ``path`` in one rename, and make the rename last."""
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_json(path: Path) -> Any:
    """The JSON document at ``path``; ``FileNotFoundError`` when there is none, ``UnreadableFile`` (saying which
    file and why) when it cannot be read or is not whole JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UnreadableFile(f"{path} is not whole JSON ({exc})") from None
