"""An argparse parser whose mistakes are one line: ``PROG: error: MESSAGE`` on stderr, exit 2 (no usage block)."""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """For the commands that are also scripts of their own (``candlebot-ledger``, ``candlebot-demo``), which print
    their own errors: ``prog`` is the name they were run by."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")
