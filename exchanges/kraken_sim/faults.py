"""Fault injection: the failures a Kraken client must survive, on demand and reproducibly.

Each kind of fault is configured by one ``Fault`` (or a subclass with the
kind's own settings) that says when it fires:

- ``probability``: chance per matching call, drawn from a seeded RNG, so that
  a given sequence of calls always meets the same faults;
- ``count``: fire only for the next N matching calls (None: no limit);
- ``methods``: only these Kraken methods (empty: every method).

Kinds, in the order they are applied to a call:

==============  ==========================================================  ===============
kind            effect                                                      call processed?
==============  ==========================================================  ===============
latency         the reply is delayed by ``ms`` (+ uniform ``jitter_ms``)   yes
http_error      HTTP ``status`` with an HTML body, as Cloudflare sends it   if processed
unavailable     ``{"error": ["EService:Unavailable"]}``                     if processed
busy            ``{"error": ["EService:Busy"]}``                            if processed
drop_reply      processed (an order IS booked), then the reply is lost:     yes
                ``mode="502"`` answers 502, ``mode="hang"`` holds the
                connection for ``hang_s`` and closes it without a reply
malformed       processed, then the reply is broken: ``mode="html"`` an     yes
                HTML page with status 200, ``"truncated"`` cut-off JSON,
                ``"missing_fields"`` a result stripped of most of its keys
late_listing    AddOrder only: the booked order (and its trades) stays out  yes
                of QueryOrders, OpenOrders, ClosedOrders and TradesHistory
                until ``delay_s`` simulator seconds after it was placed
thin_book       AddOrder, market and IOC orders: executes only              yes
                ``fill_ratio`` of the volume (floored to whole lots), the
                rest is canceled
slow_fill       AddOrder, market and IOC orders: the order shows ``open``,  yes
                nothing executed, for ``delay_s`` simulator seconds, then
                fills (at the price quoted when it was placed)
bad_ticker      Ticker and Depth: an impossible or inconsistent price:      yes
                ``field`` ask, bid or last reads ``value`` (any text:
                ``1.0``, ``0``, ``-5``, ``NaN``, ``abc``), or ``crossed``
                swaps the best ask and bid (ask < bid)
==============  ==========================================================  ===============

``processed`` (http_error, unavailable, busy; default False): False answers the
failure INSTEAD of the call (nothing happens: today's friendly failure); True
runs the call first (an AddOrder IS booked, a cancel IS done) and then answers
the failure, which is why KRAKEN.md says these errors leave the outcome unknown.

At most one of http_error/unavailable/busy and one of drop_reply/malformed
fires per call; a processed edge failure replaces the reply, so drop_reply and
malformed are not drawn for that call. late_listing, thin_book and slow_fill
act inside the venue: they are drawn only when an AddOrder books an order
(a refused or validate-only AddOrder uses up no count), in that order, and
their ``methods`` may only name AddOrder. Details of what they do to orders,
trades and balances are in ``accounts``. The same shapes travel as JSON through
``POST /admin/faults`` (``Faults.to_json``/``from_json``) and as CLI specs
(``parse_spec``), e.g. ``busy:processed=true:count=1:methods=AddOrder``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from candlebot.errors import ConfigError
from candlebot.exchanges.kraken_sim.methods import ALL_METHODS


@dataclass(frozen=True, kw_only=True, slots=True)
class Fault:
    """When a fault fires: see the module docstring."""

    probability: float = 1.0
    count: int | None = None
    methods: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.methods, str):
            object.__setattr__(self, "methods", tuple(m for m in self.methods.split(",") if m))
        else:
            object.__setattr__(self, "methods", tuple(self.methods))
        if not 0.0 <= float(self.probability) <= 1.0:
            raise ConfigError(f"fault probability must be within 0..1, got {self.probability}")
        if self.count is not None and self.count < 0:
            raise ConfigError(f"fault count must be >= 0, got {self.count}")
        unknown = sorted(set(self.methods) - ALL_METHODS)
        if unknown:
            raise ConfigError(f"fault methods: unknown Kraken method(s) {', '.join(unknown)}")

    def matches(self, method: str) -> bool:
        return not self.methods or method in self.methods


@dataclass(frozen=True, kw_only=True, slots=True)
class Latency(Fault):
    """Delay the reply by ``ms`` milliseconds plus a uniform 0..``jitter_ms``."""

    ms: int = 0
    jitter_ms: int = 0

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        if self.ms < 0 or self.jitter_ms < 0:
            raise ConfigError("latency ms and jitter_ms must be >= 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceError(Fault):
    """``EService:Unavailable``/``EService:Busy``; ``processed``: the call ran before the error was answered."""

    processed: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpError(Fault):
    """Answer HTTP ``status`` (5xx) with an HTML page instead of the reply (``processed``: after running the call)."""

    status: int = 502
    processed: bool = False

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        if not 500 <= self.status <= 599:
            raise ConfigError(f"http_error status must be a 5xx code, got {self.status}")


@dataclass(frozen=True, kw_only=True, slots=True)
class DropReply(Fault):
    """Process the call, then lose the reply: ``mode`` "502" or "hang" (for ``hang_s`` seconds)."""

    mode: str = "502"
    hang_s: float = 30.0

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        if self.mode not in ("502", "hang"):
            raise ConfigError(f"drop_reply mode must be '502' or 'hang', got {self.mode!r}")
        if self.hang_s < 0:
            raise ConfigError("drop_reply hang_s must be >= 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class Malformed(Fault):
    """Process the call, then send a broken reply: ``mode`` "html", "truncated" or "missing_fields"."""

    mode: str = "html"

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        if self.mode not in MALFORMED_MODES:
            raise ConfigError(f"malformed mode must be one of {', '.join(MALFORMED_MODES)}, got {self.mode!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class _OrderFault(Fault):
    """A fault acting on the order an AddOrder books: ``methods`` may only name AddOrder."""

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        others = sorted(set(self.methods) - {"AddOrder"})
        if others:
            raise ConfigError(f"late_listing, thin_book and slow_fill act on booked orders: methods may only be "
                              f"AddOrder, got {', '.join(others)}")


@dataclass(frozen=True, kw_only=True, slots=True)
class LateListing(_OrderFault):
    """The booked order is missing from every order/trade lookup until ``delay_s`` simulator seconds after placing."""

    delay_s: float = 5.0

    def __post_init__(self) -> None:
        _OrderFault.__post_init__(self)
        if not self.delay_s >= 0:
            raise ConfigError("late_listing delay_s must be >= 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class ThinBook(_OrderFault):
    """A market or IOC order executes only ``fill_ratio`` (0 < ratio <= 1) of its volume; the rest is canceled."""

    fill_ratio: float = 0.5

    def __post_init__(self) -> None:
        _OrderFault.__post_init__(self)
        if not 0.0 < float(self.fill_ratio) <= 1.0:
            raise ConfigError(f"thin_book fill_ratio must be within (0, 1], got {self.fill_ratio}")


@dataclass(frozen=True, kw_only=True, slots=True)
class SlowFill(_OrderFault):
    """A market order stays ``open`` with nothing executed for ``delay_s`` simulator seconds, then fills."""

    delay_s: float = 2.0

    def __post_init__(self) -> None:
        _OrderFault.__post_init__(self)
        if not self.delay_s >= 0:
            raise ConfigError("slow_fill delay_s must be >= 0")


BAD_TICKER_FIELDS = ("ask", "bid", "last", "crossed")


@dataclass(frozen=True, kw_only=True, slots=True)
class BadTicker(Fault):
    """Ticker/Depth replies show a bad price: ``field`` (ask, bid, last) reads ``value``, or ``crossed`` swaps ask and bid."""

    field: str = "ask"
    value: str = "1.0"

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        if self.field not in BAD_TICKER_FIELDS:
            raise ConfigError(f"bad_ticker field must be one of {', '.join(BAD_TICKER_FIELDS)}, got {self.field!r}")

    def spoil(self, method: str, result: dict[str, Any]) -> None:
        """Change a Ticker or Depth ``result`` in place (every pair entry in it)."""
        for entry in result.values():
            if not isinstance(entry, dict):
                continue
            if method == "Ticker":
                if self.field == "crossed":
                    entry["a"][0], entry["b"][0] = entry["b"][0], entry["a"][0]
                else:
                    entry[{"ask": "a", "bid": "b", "last": "c"}[self.field]][0] = self.value
            elif method == "Depth" and entry.get("asks") and entry.get("bids"):
                asks, bids = entry["asks"], entry["bids"]
                if self.field == "crossed":
                    asks[0][0], bids[0][0] = bids[0][0], asks[0][0]
                elif self.field in ("ask", "bid"):
                    (asks if self.field == "ask" else bids)[0][0] = self.value


MALFORMED_MODES = ("html", "truncated", "missing_fields")
_KIND_CLASSES: dict[str, type[Fault]] = {
    "latency": Latency,
    "http_error": HttpError,
    "unavailable": ServiceError,
    "busy": ServiceError,
    "drop_reply": DropReply,
    "malformed": Malformed,
    "late_listing": LateListing,
    "thin_book": ThinBook,
    "slow_fill": SlowFill,
    "bad_ticker": BadTicker,
}
KINDS = tuple(_KIND_CLASSES)
BEFORE_KINDS = ("http_error", "unavailable", "busy")
AFTER_KINDS = ("drop_reply", "malformed")
ORDER_KINDS = ("late_listing", "thin_book", "slow_fill")
PRICE_METHODS = frozenset({"Ticker", "Depth"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Faults:
    """The whole fault set of a simulator; every kind is off unless given.

    ``seed`` seeds the RNG behind probabilities (None: the simulator's seed).
    Replacing the set (``KrakenSimulator.set_faults``) resets counts and RNG.
    A plain ``Fault`` given for ``unavailable``/``busy`` becomes a
    ``ServiceError`` with ``processed=False`` (what it always meant).
    """

    latency: Latency | None = None
    http_error: HttpError | None = None
    unavailable: ServiceError | None = None
    busy: ServiceError | None = None
    drop_reply: DropReply | None = None
    malformed: Malformed | None = None
    late_listing: LateListing | None = None
    thin_book: ThinBook | None = None
    slow_fill: SlowFill | None = None
    bad_ticker: BadTicker | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        for kind in ("unavailable", "busy"):
            value = getattr(self, kind)
            if type(value) is Fault:
                object.__setattr__(self, kind, ServiceError(
                    probability=value.probability, count=value.count, methods=value.methods))
        for kind, cls in _KIND_CLASSES.items():
            value = getattr(self, kind)
            if value is not None and not isinstance(value, cls):
                raise ConfigError(f"faults: {kind} must be a {cls.__name__}, got {type(value).__name__}")

    def active(self) -> dict[str, Fault]:
        return {kind: getattr(self, kind) for kind in KINDS if getattr(self, kind) is not None}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {kind: _fault_json(fault) for kind, fault in self.active().items()}
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """The admin endpoint's JSON: ``{"seed": 1, "unavailable": {"count": 2, "methods": ["AddOrder"]}, ...}``."""
        if not isinstance(data, Mapping):
            raise ConfigError("faults: expected a JSON object")
        unknown = sorted(set(data) - set(KINDS) - {"seed"})
        if unknown:
            raise ConfigError(f"faults: unknown kind(s) {', '.join(unknown)} (known: {', '.join(KINDS)})")
        kwargs: dict[str, Any] = {}
        for kind, spec in data.items():
            if kind == "seed":
                kwargs["seed"] = None if spec is None else _convert("seed", spec, int)
            elif spec is not None:
                kwargs[kind] = make_fault(kind, spec)
        return cls(**kwargs)


def _fault_json(fault: Fault) -> dict[str, Any]:
    out = asdict(fault)
    out["methods"] = list(fault.methods)
    return out


_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


def _convert(name: str, value: Any, kind: type) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise ValueError
        if kind is tuple:
            return tuple(value.split(",")) if isinstance(value, str) else tuple(str(v) for v in value)
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"faults: {name}={value!r} is not a valid {kind.__name__}") from None


_FIELD_TYPES: dict[str, type] = {
    "probability": float, "count": int, "methods": tuple, "ms": int, "jitter_ms": int,
    "status": int, "mode": str, "hang_s": float, "processed": bool, "delay_s": float, "fill_ratio": float,
    "field": str, "value": str,
}


def make_fault(kind: str, spec: Mapping[str, Any]) -> Fault:
    """One fault of ``kind`` from a mapping of its settings (values may be strings, as on the CLI)."""
    cls = _KIND_CLASSES.get(kind)
    if cls is None:
        raise ConfigError(f"unknown fault kind {kind!r} (known: {', '.join(KINDS)})")
    if not isinstance(spec, Mapping):
        raise ConfigError(f"faults: {kind} must be an object of settings")
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ConfigError(f"faults: {kind} has no setting {', '.join(unknown)} (settings: {', '.join(sorted(allowed))})")
    kwargs = {
        name: (None if value is None and name == "count" else _convert(f"{kind}.{name}", value, _FIELD_TYPES[name]))
        for name, value in spec.items()
    }
    return cls(**kwargs)


def split_spec(text: str) -> tuple[str, dict[str, str]]:
    """``kind[:setting=value...]`` -> (kind, settings as strings)."""
    kind, *parts = text.strip().split(":")
    spec: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise ConfigError(f"fault {text!r}: expected setting=value, got {part!r}")
        spec[name.strip()] = value.strip()
    return kind.strip(), spec


def parse_spec(text: str) -> tuple[str, Fault]:
    """A CLI fault spec ``kind[:setting=value...]``, e.g. ``drop_reply:count=1:methods=AddOrder:mode=hang``."""
    kind, spec = split_spec(text)
    return kind, make_fault(kind, spec)


@dataclass(slots=True)
class _Armed:
    fault: Fault
    remaining: int | None
    fired: int = 0


@dataclass(slots=True)
class FaultInjector:
    """Decides, call by call, which configured fault fires. Thread-safe.

    Reproducible: the RNG is seeded and drawn only for matching calls of a
    fault with probability below 1, in a fixed order of kinds.
    """

    faults: Faults
    default_seed: int
    _armed: dict[str, _Armed] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _totals: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.configure(self.faults)

    def configure(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._armed = {kind: _Armed(fault, fault.count) for kind, fault in faults.active().items()}
            self._rng = random.Random(self.default_seed if faults.seed is None else faults.seed)

    def delay(self, method: str) -> float:
        """Seconds to hold the reply of this call (0 when no latency fault fires)."""
        with self._lock:
            if not self._fires("latency", method):
                return 0.0
            latency = self._armed["latency"].fault
            assert isinstance(latency, Latency)
            jitter = self._rng.uniform(0, latency.jitter_ms) if latency.jitter_ms else 0.0
            return (latency.ms + jitter) / 1000.0

    def before(self, method: str) -> tuple[str, Fault] | None:
        """The fault that replaces processing this call, if one fires."""
        return self._first(BEFORE_KINDS, method)

    def after(self, method: str) -> tuple[str, Fault] | None:
        """The fault that spoils the reply of this (processed) call, if one fires."""
        return self._first(AFTER_KINDS, method)

    def draw(self, kind: str, method: str) -> Fault | None:
        """The order fault ``kind`` (``ORDER_KINDS``), if it fires for the order this call is booking."""
        if kind not in ORDER_KINDS:
            raise ValueError(f"{kind!r} is not an order fault")
        with self._lock:
            return self._armed[kind].fault if self._fires(kind, method) else None

    def bad_price(self, method: str) -> BadTicker | None:
        """The bad_ticker fault, if it fires for this Ticker or Depth call."""
        if method not in PRICE_METHODS:
            return None
        with self._lock:
            if not self._fires("bad_ticker", method):
                return None
            fault = self._armed["bad_ticker"].fault
            assert isinstance(fault, BadTicker)
            return fault

    def describe(self) -> dict[str, Any]:
        """Configuration plus, per kind, ``remaining`` (count left, None: unlimited) and ``fired``."""
        with self._lock:
            out = self.faults.to_json()
            for kind, armed in self._armed.items():
                out[kind] = {**out[kind], "remaining": armed.remaining, "fired": armed.fired}
            return out

    def fired(self) -> dict[str, int]:
        """How often each kind fired since the simulator started (across fault sets)."""
        with self._lock:
            return dict(self._totals)

    def _first(self, kinds: tuple[str, ...], method: str) -> tuple[str, Fault] | None:
        with self._lock:
            for kind in kinds:
                if self._fires(kind, method):
                    return kind, self._armed[kind].fault
            return None

    def _fires(self, kind: str, method: str) -> bool:
        armed = self._armed.get(kind)
        if armed is None or not armed.fault.matches(method) or armed.remaining == 0:
            return False
        if armed.fault.probability < 1.0 and self._rng.random() >= armed.fault.probability:
            return False
        if armed.remaining is not None:
            armed.remaining -= 1
        armed.fired += 1
        self._totals[kind] = self._totals.get(kind, 0) + 1
        return True
