"""A reader that stops early (``| head``) ends the output quietly: no traceback, no logging error per line."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO


class StreamHandler(logging.StreamHandler):
    """Once the reader has gone, the remaining lines go nowhere instead of a 'Logging error' traceback each."""

    def handleError(self, record: logging.LogRecord) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            discard(self.stream)
            return
        super().handleError(record)


def discard(stream: TextIO) -> None:
    """Point ``stream``'s file at /dev/null: later writes, and the interpreter's last flush, succeed silently."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def reader_gone() -> int:
    """The exit after a BrokenPipeError on stdout: nobody reads any more, which is not an error."""
    discard(sys.stdout)
    return 0
