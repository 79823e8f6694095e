"""Where a bot keeps its state (SQLite books, nonce counters) when not told otherwise."""

from __future__ import annotations

import os
from pathlib import Path


def default_state_dir() -> Path:
    """``$CANDLEBOT_STATE_DIR``, else the per-user data folder (``$XDG_DATA_HOME/candlebot``)."""
    explicit = os.environ.get("CANDLEBOT_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "candlebot"


def runtime_dir() -> Path:
    """Where live processes of this user meet (locks that die with them): ``$CANDLEBOT_RUNTIME_DIR``, else
    ``$XDG_RUNTIME_DIR/candlebot``, else ``/tmp/candlebot-<uid>``. One per machine and user, whatever --state-dir."""
    explicit = os.environ.get("CANDLEBOT_RUNTIME_DIR")
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "candlebot" if runtime else Path(f"/tmp/candlebot-{os.getuid()}")


def boot_id() -> str:
    """This boot of the machine (Linux's ``boot_id``; "" elsewhere): monotonic times written by one process are
    comparable in another only within one boot."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
