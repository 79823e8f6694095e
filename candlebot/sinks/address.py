"""Where DogStatsD listens: the agent's usual defaults, 127.0.0.1:8125 over UDP."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8125


@dataclass(frozen=True)
class StatsdAddress:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"
