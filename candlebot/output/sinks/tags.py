"""Who is reporting: the bot, its pair, strategy and mode; the constant tags of every metric and the footer of every alert."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SinkTags:
    """``bot``, ``pair``, ``strategy`` and ``mode`` become metric tags; ``quote`` (e.g. ``USD``) labels amounts in alerts."""

    bot: str
    pair: str
    strategy: str
    mode: str
    quote: str | None = None

    def __post_init__(self) -> None:
        for name in ("bot", "pair", "strategy", "mode"):
            if not getattr(self, name):
                raise ValueError(f"SinkTags.{name} is empty")

    def statsd_tags(self) -> list[str]:
        return [f"bot:{self.bot}", f"pair:{self.pair}", f"strategy:{self.strategy}", f"mode:{self.mode}"]
