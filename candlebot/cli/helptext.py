"""A command's ``--help`` description from its module docstring, as plain text.

The docstrings are written for readers of the code (RST ``literals``); ``--help`` is read in a terminal, where
the markup is noise, and a description cut at the docstring's first line can stop mid-sentence.
"""

from __future__ import annotations


def description(doc: str | None) -> str:
    """The docstring's first paragraph on one line, without RST double backquotes."""
    paragraph = (doc or "").strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).replace("``", "")
