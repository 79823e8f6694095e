"""Secrets that leave the process only where they must (an Authorization header, the webhook request line).

``Secret`` keeps a value out of ``repr``/``str``/f-strings; ``reveal()`` is the
one way to read it. ``Redactor`` scrubs known secret values out of any text we
log or send (exception messages from HTTP libraries, event messages).
"""

from __future__ import annotations

from typing import Iterable

MASK = "***"
_MIN_LENGTH = 6  # shorter "secrets" would redact ordinary words


class Secret:
    """A credential; shows as ``***`` everywhere except through ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> object:
        raise TypeError("a Secret is not picklable")


class Redactor:
    """Replaces every known secret value (and its obvious parts) in a text by ``***``."""

    __slots__ = ("_values",)

    def __init__(self, secrets: Iterable[Secret | str | None] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if secret is None:
                continue
            value = secret.reveal() if isinstance(secret, Secret) else secret
            if len(value) >= _MIN_LENGTH:
                values.add(value)
                # a webhook URL's path is the secret part; libraries sometimes print only the path
                if "://" in value:
                    path = value.split("://", 1)[1].partition("/")[2]
                    if len(path) >= _MIN_LENGTH:
                        values.add("/" + path)
        self._values = tuple(sorted(values, key=len, reverse=True))

    def __call__(self, text: object) -> str:
        out = str(text)
        for value in self._values:
            if value in out:
                out = out.replace(value, MASK)
        return out

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} values)"
