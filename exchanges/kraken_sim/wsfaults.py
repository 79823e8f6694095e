"""WebSocket faults: what a book client must survive, per outgoing update message.

==========================  =====================================================================
kind                        effect on the message it fires on
==========================  =====================================================================
ws_drop                     not sent (the client's next checksum no longer matches)
ws_corrupt_checksum         sent with a wrong ``checksum``
ws_duplicate                sent twice
ws_close                    the TCP connection is cut, no close frame (the client sees 1006)
ws_rate_limit               ``{"Error": "Exceeded msg rate"}`` is sent instead
ws_stall                    nothing (books, heartbeats) goes to that connection for ``stall_s``
==========================  =====================================================================

Each kind fires with ``probability`` (seeded RNG) for the next ``count`` matching messages (None:
no limit), only for ``symbols`` when given (v2 names, e.g. ``ETH/USD``). CLI: ``--fault
ws_drop:count=1``; while running: ``POST /admin/faults`` with ``{"ws_drop": {"count": 1}}``
(other kinds in the same object go to the REST faults).

``snapshot=true`` makes a fault wait for a snapshot (the answer to a subscribe) instead of an update;
``ws_drop`` and ``ws_corrupt_checksum`` act on snapshots (a lost snapshot is what sends a client to its
REST fallback), the other kinds ignore such a setting.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from candlebot.errors import ConfigError
from candlebot.exchanges.kraken_sim.faults import split_spec

WS_KINDS = ("ws_drop", "ws_corrupt_checksum", "ws_duplicate", "ws_close", "ws_rate_limit", "ws_stall")


@dataclass(frozen=True, kw_only=True, slots=True)
class WsFault:
    probability: float = 1.0
    count: int | None = None
    symbols: tuple[str, ...] = ()
    stall_s: float = 3.0
    snapshot: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.symbols, str):
            object.__setattr__(self, "symbols", tuple(s for s in self.symbols.split(",") if s))
        else:
            object.__setattr__(self, "symbols", tuple(self.symbols))
        if not 0.0 <= float(self.probability) <= 1.0:
            raise ConfigError(f"ws fault probability must be within 0..1, got {self.probability}")
        if self.count is not None and self.count < 0:
            raise ConfigError(f"ws fault count must be >= 0, got {self.count}")
        if not self.stall_s > 0:
            raise ConfigError(f"ws fault stall_s must be > 0, got {self.stall_s}")


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise ValueError(value)
    return text in ("true", "1")


def ws_fault(kind: str, spec: Mapping[str, Any]) -> WsFault:
    if kind not in WS_KINDS:
        raise ConfigError(f"unknown websocket fault {kind!r} (known: {', '.join(WS_KINDS)})")
    if not isinstance(spec, Mapping):
        raise ConfigError(f"faults: {kind} must be an object of settings")
    types = {"probability": float, "count": int, "symbols": str, "stall_s": float, "snapshot": _flag}
    unknown = sorted(set(spec) - set(types))
    if unknown:
        raise ConfigError(f"faults: {kind} has no setting {', '.join(unknown)} (settings: {', '.join(types)})")
    kwargs: dict[str, Any] = {}
    for name, value in spec.items():
        if value is None and name == "count":
            kwargs[name] = None
        elif name == "symbols" and isinstance(value, (list, tuple)):
            kwargs[name] = tuple(str(v) for v in value)
        else:
            try:
                kwargs[name] = types[name](value)
            except (TypeError, ValueError):
                raise ConfigError(f"faults: {kind}.{name}: {value!r} is not a {types[name].__name__.strip('_')}") from None
    return WsFault(**kwargs)


def parse_ws_spec(text: str) -> tuple[str, WsFault]:
    """``ws_drop:count=2:symbols=ETH/USD``."""
    kind, spec = split_spec(text)
    return kind, ws_fault(kind, spec)


def is_ws_kind(kind: str) -> bool:
    return kind.strip().split(":")[0] in WS_KINDS


@dataclass
class WsFaultInjector:
    """Which fault fires on a message; thread-safe (admin requests come from the HTTP threads)."""

    seed: int
    _faults: dict[str, WsFault] = field(default_factory=dict)
    _remaining: dict[str, int | None] = field(default_factory=dict)
    _fired: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def configure(self, faults: Mapping[str, WsFault]) -> None:
        with self._lock:
            self._faults = dict(faults)
            self._remaining = {kind: fault.count for kind, fault in faults.items()}
            self._rng.seed(self.seed)

    def draw(self, symbol: str, *, snapshot: bool = False) -> tuple[str, WsFault] | None:
        if not self._faults:
            return None
        with self._lock:
            for kind in WS_KINDS:
                fault = self._faults.get(kind)
                if fault is None or fault.snapshot != snapshot or (fault.symbols and symbol not in fault.symbols):
                    continue
                left = self._remaining.get(kind)
                if left is not None and left <= 0:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                if left is not None:
                    self._remaining[kind] = left - 1
                self._fired[kind] = self._fired.get(kind, 0) + 1
                return kind, fault
        return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {kind: {**asdict(fault), "symbols": list(fault.symbols), "remaining": self._remaining.get(kind),
                           "fired": self._fired.get(kind, 0)} for kind, fault in self._faults.items()}

    def fired(self) -> dict[str, int]:
        with self._lock:
            return dict(self._fired)
