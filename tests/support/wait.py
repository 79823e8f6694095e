"""Waiting for what a process, server or thread does (an output line, a file, a state, a datagram), never for a fixed time."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy and return that; fail naming ``what`` after ``timeout`` s.

    Deadlines are generous on purpose: a loaded CI machine is slow, and a passing wait returns as soon as it can.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)  # the polling interval, not a wait for an outcome
