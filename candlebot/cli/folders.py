"""A folder a command will write into, checked before any work: one line naming the flag and the reason.

Checked by writing: ``mkdir`` and a temporary file are what the command does next, and they fail the same
way for a path under /proc, a read-only mount, a file in the way or a missing permission (``os.access`` says
yes to root everywhere, /proc included).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from candlebot.errors import ConfigError


def writable_folder(path: Path, flag: str) -> Path:
    """``path``, created when missing; ConfigError when it is not a folder this process can write files into."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".candlebot-probe-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot write there ({exc.strerror or exc})") from None
    return path
