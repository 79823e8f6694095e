"""Who is reporting: the bot, its pair, strategy and mode; the constant tags of every metric and the footer of every alert."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SinkTags:
    """``bot``, ``pair``, ``strategy`` and ``mode`` become metric tags; ``quote`` (e.g. ``USD``) labels amounts in alerts.
    ``pair`` None: a process of many pairs (the collector), whose metrics tag their own pair."""

    bot: str
    pair: str | None
    strategy: str
    mode: str
    quote: str | None = None

    def __post_init__(self) -> None:
        for name in ("bot", "strategy", "mode"):
            if not getattr(self, name):
                raise ValueError(f"SinkTags.{name} is empty")
        if self.pair is not None and not self.pair:
            raise ValueError("SinkTags.pair is empty")

    def statsd_tags(self) -> list[str]:
        pair = [] if self.pair is None else [f"pair:{self.pair}"]
        return [f"bot:{self.bot}", *pair, f"strategy:{self.strategy}", f"mode:{self.mode}"]
