"""Validation shared by the core subpackages' `_checks` modules (ValueError before any kernel)."""

from __future__ import annotations

import numbers


def as_int(v, name: str, minimum: int) -> int:
    """`v` as a Python int at least `minimum` (bools and floats are refused)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {v!r}")
    v = int(v)
    if v < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {v}")
    return v
