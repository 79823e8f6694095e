"""The one line for a mistyped subcommand (``candlebot data lst``, ``candlebot collector lst``): the closest name,
then all of them, so the user does not have to open --help to see what was meant."""

from __future__ import annotations

import difflib
from typing import Sequence


def unknown_subcommand(command: str, word: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(names), n=1)
    return (f"unknown {command} subcommand {word!r}" + (f" (did you mean {close[0]}?)" if close else "")
            + f"; the {command} subcommands: {', '.join(names)}")
