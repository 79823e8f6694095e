"""How every command refuses: one line ``PROG: error: MESSAGE`` on stderr and exit 2 (no usage block, no traceback).

``PROG`` is the command as typed (``candlebot optimize``, ``candlebot-ledger``), so the line says which command
refused whether it came from argparse (``OneLineParser``) or from the command's own checks (``refuse``).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

REFUSED = 2


def refuse(prog: str, message: str) -> int:
    """Print ``prog: error: message`` on stderr; returns the exit code of a refusal (2)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return REFUSED


class OneLineParser(argparse.ArgumentParser):
    """For the commands that are also scripts of their own (``candlebot-ledger``, ``candlebot-demo``), which print
    their own errors: ``prog`` is the name they were run by."""

    def error(self, message: str) -> NoReturn:
        self.exit(REFUSED, f"{self.prog}: error: {message}\n")
