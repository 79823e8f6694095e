"""Strategy parameters: a frozen dataclass per strategy, validated when built, parsed from ``--param k=v``."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Iterable, TypeVar

from candlebot.errors import ConfigError
from candlebot.strategy.blame import described

P = TypeVar("P", bound="StrategyParams")


def require(condition: bool, message: str) -> None:
    """Fail construction with a user-facing message."""
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True)
class StrategyParams:
    """What every strategy accepts. Subclasses add fields (with defaults) and extend ``validate``."""

    num_simultaneous_trades: int = 1
    stop_loss_pct: float = 0.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check_type(self, field.name, getattr(self, field.name), _hints(type(self))[field.name])
        try:
            StrategyParams.validate(self)  # the rules every strategy relies on, even if a validate() forgot super()
            self.validate()
        except ConfigError:
            raise
        except (Exception, SystemExit) as exc:  # the author's validate() is broken, not the value: say where, in one line
            raise ConfigError(f"{type(self).__name__}.validate() raised {described(exc, type(self))}") from None

    def validate(self) -> None:
        require(self.num_simultaneous_trades >= 1, "num_simultaneous_trades must be >= 1")
        require(0 <= self.stop_loss_pct < 100, "stop_loss_pct must be within [0, 100) (0 = no stop)")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def parse_params(cls: type[P], items: Iterable[str], strategy: str) -> P:
    """Build ``cls`` from ``name=value`` strings, converting each value to the field's declared type."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ConfigError(f"--param expects name=value, got {item!r}")
        values[name] = parse_value(cls, name, text, strategy)
    return cls(**values)


def parse_value(cls: type[StrategyParams], name: str, text: str, strategy: str) -> Any:
    """One field's value from text, converted to the field's declared type."""
    hints = _hints(cls)
    if name not in hints:
        known = ", ".join(f.name for f in dataclasses.fields(cls))
        raise ConfigError(f"unknown parameter {name!r} for strategy {strategy} (known: {known})")
    return _convert(name, text.strip(), hints[name])


def field_type(cls: type[StrategyParams], name: str) -> Any:
    return _hints(cls)[name]


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(name: str, text: str, kind: Any) -> Any:
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            return int(text)
        if kind is float:
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            return value
        if kind is str:
            return text
        if typing.get_origin(kind) is tuple:
            (item_kind, *_rest) = typing.get_args(kind)
            return tuple(_convert(name, part.strip(), item_kind) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"parameter {name}: {text!r} is not a valid {_type_name(kind)}") from None
    raise ConfigError(f"parameter {name}: unsupported type {kind!r}")


def _check_type(params: object, name: str, value: Any, kind: Any) -> None:
    origin = typing.get_origin(kind)
    if origin is tuple:
        ok = isinstance(value, tuple)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        try:
            ok = isinstance(value, kind)
        except TypeError:  # list[int], a TypeVar, ...: nothing --param could convert either
            raise ConfigError(f"parameter {name} of {type(params).__name__}: type {kind} is not supported "
                              "(int, float, bool, str or tuple[int, ...])") from None
    kind_name = _type_name(kind)
    article = "an" if kind_name[:1] in "aeiou" else "a"
    require(ok, f"parameter {name} of {type(params).__name__} must be {article} {kind_name}, got {value!r}")


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is tuple:
        return f"comma-separated list of {_type_name(typing.get_args(kind)[0])}"
    return {int: "integer", float: "number", bool: "boolean", str: "string"}.get(kind, str(kind))
