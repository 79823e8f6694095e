"""Event counters of a running simulator (requests, rejections, fills, faults), for tests and the admin endpoint."""

from __future__ import annotations

import threading
from collections import Counter


class Counters:
    """Thread-safe named counts; unknown names read as 0."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
