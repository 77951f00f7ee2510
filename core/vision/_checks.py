"""Validation shared by the public wrappers of core.vision: every check runs before a kernel."""

from __future__ import annotations

import numbers

import numpy as np

from core._checks import as_int as as_int  # re-exported for this package's modules

#: The largest array (in elements) a wrapper allocates; guards against hostile shapes.
MAX_ELEMENTS = 1 << 28


def as_array(a, name: str, ndim: int | tuple[int, ...], *, finite: bool = False) -> np.ndarray:
    """`a` as a C-contiguous float64 array of rank `ndim` (ValueError otherwise)."""
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be an array of numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    ranks = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in ranks:
        want = " or ".join(str(r) for r in ranks)
        raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    if arr.size > MAX_ELEMENTS:
        raise ValueError(f"{name} has {arr.size} elements; at most {MAX_ELEMENTS} are allowed")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return arr


def as_pair(v, name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (rows, columns), each at least `minimum`."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return as_int(v[0], name, minimum), as_int(v[1], name, minimum)
    n = as_int(v, name, minimum)
    return n, n


def as_float(v, name: str, minimum: float | None = None, maximum: float | None = None) -> float:
    """`v` as a finite float inside [minimum, maximum]."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{name} must be a number, got {v!r}")
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {v}")
    return v


def check_size(shape: tuple[int, ...], what: str) -> None:
    """Refuse to allocate an output larger than MAX_ELEMENTS."""
    total = 1
    for s in shape:
        total *= int(s)
    if total > MAX_ELEMENTS:
        raise ValueError(f"{what} would have shape {shape} ({total} elements); too large")
