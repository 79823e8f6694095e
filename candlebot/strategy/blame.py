"""Where in a strategy's own file an exception was raised: the ``file:line`` a one-line error points its author to."""

from __future__ import annotations

import sys
import traceback


def raised_in(exc: BaseException, cls: type) -> str:
    """`` at FILE:LINE`` of the deepest frame in the file that defines ``cls``, or ``""`` when none is there."""
    module = sys.modules.get(cls.__module__)
    source = getattr(module, "__file__", None)
    if not source:
        return ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == source:
            return f" at {frame.filename}:{frame.lineno}"
    return ""


def described(exc: BaseException, cls: type) -> str:
    """``Type: message at FILE:LINE``: the strategy's exception in one line."""
    return f"{type(exc).__name__}: {exc}{raised_in(exc, cls)}"
