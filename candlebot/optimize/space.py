"""The search space: ``--space "fast=5..30 slow=20..120:5 stop_loss_pct=0,1,2"`` over a strategy's typed params.

Each word is ``name=SPEC`` where SPEC is ``low..high`` (inclusive, step 1; floats need a step),
``low..high:step``, a comma list ``a,b,c``, or one value. Values are converted by the
``Params`` field's own type, and a combination is valid only when the strategy's ``Params``
accepts it (its ``validate``): that is how ``slow <= fast`` is skipped without running.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, Protocol

from candlebot.errors import ConfigError
from candlebot.strategy.params import StrategyParams, field_type, parse_value

GRID_LIMIT = 200_000  # combinations a grid may enumerate before it is surely a typo


class Suggester(Protocol):
    """The part of an optuna trial the space needs (kept as a protocol so the space imports no optuna)."""

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1) -> int: ...
    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None) -> float: ...
    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class Dimension:
    """One searched parameter. ``step`` is set for ranges (ordered, sampled as int/float), None for lists."""

    name: str
    values: tuple[Any, ...]
    step: int | float | None = None

    def suggest(self, trial: Suggester) -> Any:
        if self.step is None or len(self.values) == 1:
            return trial.suggest_categorical(self.name, list(self.values))
        low, high = self.values[0], self.values[-1]
        if isinstance(self.step, int) and isinstance(low, int):
            return trial.suggest_int(self.name, low, high, step=self.step)
        return trial.suggest_float(self.name, float(low), float(high), step=float(self.step))

    @property
    def span(self) -> float | None:
        """Width of a numeric dimension (for stability across folds); None for text or booleans."""
        numbers = [v for v in self.values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return float(max(numbers) - min(numbers)) if len(numbers) == len(self.values) else None


@dataclass(frozen=True)
class SearchSpace:
    """The searched dimensions plus the fixed ``--param`` values, checked against one strategy's ``Params``."""

    params_cls: type[StrategyParams]
    dimensions: tuple[Dimension, ...]
    fixed: dict[str, Any]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def grid(self) -> dict[str, list[Any]]:
        return {d.name: list(d.values) for d in self.dimensions}

    def grid_size(self) -> int:
        size = 1
        for dimension in self.dimensions:
            size *= len(dimension.values)
        return size

    def combinations(self) -> Iterator[dict[str, Any]]:
        if self.grid_size() > GRID_LIMIT:
            raise ConfigError(f"--space has {self.grid_size():,} combinations (over {GRID_LIMIT:,}); narrow it or use --method tpe/random")
        for values in itertools.product(*(d.values for d in self.dimensions)):
            yield dict(zip(self.names, values))

    def suggest(self, trial: Suggester) -> dict[str, Any]:
        return {d.name: d.suggest(trial) for d in self.dimensions}

    def build(self, values: dict[str, Any]) -> StrategyParams:
        """The strategy's own ``Params`` for a combination; ConfigError (from its validation) when it is invalid."""
        return self.params_cls(**{**self.fixed, **values})

    def invalid_reason(self, values: dict[str, Any]) -> str | None:
        try:
            self.build(values)
        except ConfigError as exc:
            return str(exc)
        return None


def parse_space(text: str, params: StrategyParams, fixed_names: set[str], strategy: str) -> SearchSpace:
    """``--space`` for ``params``' class; ``params`` holds the ``--param`` values (fixed during the search)."""
    words = text.split()
    if not words:
        raise ConfigError("--space is empty; e.g. --space \"fast=5..30 slow=20..120:5\"")
    cls = type(params)
    dimensions: list[Dimension] = []
    for word in words:
        name, sep, spec = word.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name or not spec:
            raise ConfigError(f"--space: expected name=SPEC (low..high[:step], a,b,c or one value), got {word!r}")
        if name in fixed_names:
            raise ConfigError(f"--space: {name} is also fixed by --param; drop one of them")
        if name in (d.name for d in dimensions):
            raise ConfigError(f"--space: {name} appears twice")
        dimensions.append(_dimension(cls, name, spec, strategy))
    fixed = {f.name: getattr(params, f.name) for f in dataclasses.fields(params) if f.name not in {d.name for d in dimensions}}
    return SearchSpace(cls, tuple(dimensions), fixed)


def _dimension(cls: type[StrategyParams], name: str, spec: str, strategy: str) -> Dimension:
    if name not in {f.name for f in dataclasses.fields(cls)}:
        parse_value(cls, name, "", strategy)  # raises the one "unknown parameter ... (known: ...)" message
    kind = field_type(cls, name)
    if typing.get_origin(kind) is tuple:
        raise ConfigError(f"--space: {name} is a list parameter; fix it with --param instead of searching it")
    if ".." in spec:
        return _range(cls, name, spec, kind, strategy)
    values = tuple(parse_value(cls, name, part, strategy) for part in spec.split(",") if part.strip())
    if not values or len(set(values)) != len(values):
        raise ConfigError(f"--space: {name}={spec} needs distinct values")
    return Dimension(name, values)


def _range(cls: type[StrategyParams], name: str, spec: str, kind: Any, strategy: str) -> Dimension:
    bounds, _, step_text = spec.partition(":")
    low_text, _, high_text = bounds.partition("..")
    if kind not in (int, float):
        raise ConfigError(f"--space: {name} is not a number; list its values (a,b,c) instead of a range")
    low = parse_value(cls, name, low_text, strategy)
    high = parse_value(cls, name, high_text, strategy)
    if kind is float and not step_text:
        raise ConfigError(f"--space: {name}={spec} is a number range; give it a step (low..high:step)")
    step = parse_value(cls, name, step_text, strategy) if step_text else 1
    if not step > 0 or high < low:
        raise ConfigError(f"--space: {name}={spec} needs low <= high and a step > 0")
    if kind is int:
        return Dimension(name, tuple(range(low, high + 1, step)), step)
    try:
        d_low, d_step = Decimal(low_text.strip()), Decimal(step_text.strip())
        count = int((Decimal(high_text.strip()) - d_low) / d_step) + 1
    except (InvalidOperation, ValueError):
        raise ConfigError(f"--space: cannot read {name}={spec}") from None
    if count > GRID_LIMIT:
        raise ConfigError(f"--space: {name}={spec} has {count:,} values; use a larger step")
    return Dimension(name, tuple(float(d_low + k * d_step) for k in range(count)), step)
