"""Lab parameter declarations and their validation (plain Python, no Textual, no numba).

Each lab package declares `PARAMS: dict[str, Param]` in its `params.py`; lesson files set those
parameters in a `lab` block, and `validate` checks them and fills in defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


class ParamError(ValueError):
    """A lab parameter is unknown or has a bad value; the message says which and why."""


@dataclass(frozen=True)
class Param:
    """One lab parameter: its type, default, and allowed values.

    kind: one of "float", "int", "str", "bool", "list[str]", "list[float]", "list[list[float]]".
    choices: allowed values for "str" (or for each element of "list[str]").
    """

    kind: str
    default: Any
    doc: str = ""
    choices: tuple = ()
    min: float | None = None
    max: float | None = None
    extra: dict = field(default_factory=dict)

    def check(self, name: str, value: Any) -> Any:
        """Return `value` converted to this parameter's kind, or raise ParamError."""
        kind = self.kind
        if kind == "float":
            value = _number(name, value, float)
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParamError(f"{name!r} must be a whole number, got {value!r}")
            self._bounds(name, value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"{name!r} must be true or false, got {value!r}")
        elif kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"{name!r} must be a string, got {value!r}")
            self._choice(name, value)
        elif kind == "list[str]":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ParamError(f"{name!r} must be a list of strings, got {value!r}")
            for v in value:
                self._choice(name, v)
        elif kind == "list[float]":
            if not isinstance(value, list):
                raise ParamError(f"{name!r} must be a list of numbers, got {value!r}")
            value = [_number(name, v, float) for v in value]
        elif kind == "list[list[float]]":
            if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
                raise ParamError(f"{name!r} must be a list of rows of numbers, got {value!r}")
            value = [[_number(name, v, float) for v in row] for row in value]
        else:  # pragma: no cover - a lab declared an unknown kind
            raise ParamError(f"{name!r} has an unknown kind {kind!r}")
        if kind == "float":
            self._bounds(name, value)
        return value

    def _bounds(self, name: str, value: float) -> None:
        if self.min is not None and value < self.min:
            raise ParamError(f"{name!r} must be at least {self.min}, got {value}")
        if self.max is not None and value > self.max:
            raise ParamError(f"{name!r} must be at most {self.max}, got {value}")

    def _choice(self, name: str, value: str) -> None:
        if self.choices and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise ParamError(f"{name!r} must be one of {allowed}; got {value!r}")


def _number(name: str, value: Any, cast) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{name!r} must be a number, got {value!r}")
    value = cast(value)
    if not math.isfinite(value):
        raise ParamError(f"{name!r} must be finite, got {value!r}")
    return value


def validate(lab: str, specs: dict[str, Param], given: dict[str, Any]) -> dict[str, Any]:
    """Check `given` against `specs`; return every parameter with defaults filled in."""
    unknown = sorted(set(given) - set(specs))
    if unknown:
        known = ", ".join(sorted(specs)) or "(none)"
        raise ParamError(f"lab {lab!r} has no parameter {unknown[0]!r}; it takes: {known}")
    result = {key: spec.default for key, spec in specs.items()}
    for key, value in given.items():
        result[key] = specs[key].check(key, value)
    return result
