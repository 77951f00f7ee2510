"""Checks for a lab's saved state (the JSON `Lab.save_state` wrote): plain Python, no Textual.

A saved state comes back from the progress file, possibly written by an older dl-tutor or
edited by hand: each reader takes what it expects and raises TypeError, ValueError or KeyError
on anything else, before the lab changes.
"""

from __future__ import annotations

from tutor.labs import validate_lab


def mapping(value, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """`value` as a dict with every key of `keys` (KeyError) and no key outside `keys` and
    `optional` (ValueError)."""
    if not isinstance(value, dict):
        raise TypeError(f"a saved lab state is a mapping, got {type(value).__name__}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise KeyError(f"the saved state has no {missing[0]!r}")
    unknown = sorted(set(value) - set(keys) - set(optional))
    if unknown:
        raise ValueError(f"unknown entry {unknown[0]!r} in the saved state")
    return value


def whole(value, name: str, lo: int = 0, hi: int | None = None) -> int:
    """A whole number lo ≤ value ≤ hi (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"saved {name} must be a whole number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"saved {name} = {value} is outside {lo} … {hi}")
    return value


def flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"saved {name} must be true or false, got {value!r}")
    return value


def number(value, name: str, lo: float, hi: float) -> float:
    """A finite number lo ≤ value ≤ hi."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"saved {name} must be a number, got {value!r}")
    value = float(value)
    if not lo <= value <= hi:  # NaN fails too
        raise ValueError(f"saved {name} = {value} is outside {lo} … {hi}")
    return value


def words(value, name: str, limit: int = 200) -> set[str]:
    """A list of at most `limit` strings (answered questions and the like)."""
    if not isinstance(value, list) or len(value) > limit:
        raise TypeError(f"saved {name} must be a list of at most {limit} strings")
    if not all(isinstance(v, str) and len(v) <= 200 for v in value):
        raise TypeError(f"saved {name} must hold strings")
    return set(value)


def lab_params(lab: str, value, drop: tuple[str, ...] = ()) -> dict:
    """Saved parameters of lab `lab`, validated like a lesson's lab block (unknown names and
    bad values raise ParamError, a ValueError); the names in `drop` may not appear."""
    if not isinstance(value, dict):
        raise TypeError("saved parameters must be a mapping")
    for name in drop:
        if name in value:
            raise ValueError(f"saved parameters may not set {name!r}")
    return validate_lab(lab, value)
