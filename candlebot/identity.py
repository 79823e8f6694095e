"""Who a bot is: a stable id from its name (log file names, metric tags, the state database).

As in the original bot, the name defaults to the folder the bot runs in, so a
fleet of bot folders under supervisor needs no per-bot naming.
"""

from __future__ import annotations

import hashlib
import random
import re
import string
import time
from dataclasses import dataclass
from pathlib import Path

from candlebot.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class BotIdentity:
    name: str
    bot_id: str

    @classmethod
    def from_name(cls, name: str | None, cwd: Path | None = None) -> BotIdentity:
        name = name if name is not None else (cwd or Path.cwd()).resolve().name
        if not _NAME.match(name or ""):
            raise ConfigError(f"bot name {name!r} must be 1-64 letters, digits, '.', '_' or '-' (set --name)")
        return cls(name, hashlib.sha256(name.encode()).hexdigest()[:6])

    @property
    def label(self) -> str:
        """``<id>_<name>``: the stem of the bot's database and log files."""
        return f"{self.bot_id}_{self.name}"

    def log_file_name(self, started: float, rng: random.Random | None = None) -> str:
        """``<id>_<name>_<start date>_<6 random letters>.log`` (the letters avoid collisions between restarts)."""
        letters = "".join((rng or random.SystemRandom()).choice(string.ascii_lowercase) for _ in range(6))
        return f"{self.label}_{time.strftime('%Y-%m-%d', time.gmtime(started))}_{letters}.log"
