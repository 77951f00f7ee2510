"""Validation shared by core.robust's public functions (ValueError before any model runs)."""

from __future__ import annotations

import numbers

import numpy as np

from core._checks import as_int as as_int  # re-exported for this package's modules

#: The largest input (in elements) an attack accepts.
MAX_ELEMENTS = 1 << 26


def as_inputs(x) -> np.ndarray:
    """`x` as a float64 array (N, D...) with N ≥ 1, finite."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"x must be an array of numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"x must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim < 2 or arr.shape[0] < 1 or arr.size == 0:
        raise ValueError(f"x must have shape (N, D...) with N ≥ 1 samples, got shape {arr.shape}")
    if arr.size > MAX_ELEMENTS:
        raise ValueError(f"x has {arr.size} elements; at most {MAX_ELEMENTS} are allowed")
    arr = np.ascontiguousarray(arr, dtype=np.float64)  # never written to: no copy needed
    if not np.isfinite(arr.sum()) and not np.all(np.isfinite(arr)):  # a finite sum: all finite
        raise ValueError("x must be finite (no NaN or infinity)")
    return arr


def as_labels(y, n: int) -> np.ndarray:
    """`y` as int64 labels of shape (n,), each ≥ 0 (the upper bound is checked on the logits)."""
    try:
        arr = np.asarray(y)
    except Exception as exc:
        raise ValueError(f"y must be an array of integer labels: {exc}") from None
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError("y must hold integer class labels, got non-integer values")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class labels, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"y must have shape ({n},) (one label per sample of x), got {arr.shape}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"labels must be ≥ 0, got {int(arr.min())}")
    return arr


def check_labels_fit(y: np.ndarray, logits: np.ndarray) -> None:
    """Every label is a column of the logits (N, C)."""
    if logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"the model must map N = {y.shape[0]} samples to logits (N, C), "
                         f"got shape {logits.shape}")
    c = logits.shape[1]
    if y.max() >= c:
        raise ValueError(f"labels must be below the number of classes C = {c}, got {int(y.max())}")


def as_float(v, name: str, minimum: float = 0.0, strict: bool = False) -> float:
    """`v` as a finite float ≥ minimum (> minimum when strict)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{name} must be a number, got {v!r}")
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if v < minimum or (strict and v == minimum):
        sign = ">" if strict else "≥"
        raise ValueError(f"{name} must be {sign} {minimum:g}, got {v:g}")
    return v


def as_clip(clip, x: np.ndarray) -> tuple[float, float] | None:
    """None, or (lo, hi) with lo ≤ hi finite and x inside [lo, hi]."""
    if clip is None:
        return None
    try:
        lo, hi = clip
    except (TypeError, ValueError):
        raise ValueError(f"clip must be None or a pair (lo, hi), got {clip!r}") from None
    lo = as_float(lo, "clip[0]", minimum=-np.inf)
    hi = as_float(hi, "clip[1]", minimum=-np.inf)
    if lo > hi:
        raise ValueError(f"clip must have lo ≤ hi, got ({lo:g}, {hi:g})")
    if x.min() < lo or x.max() > hi:
        raise ValueError(f"x must lie inside clip = ({lo:g}, {hi:g}): got values in "
                         f"[{x.min():g}, {x.max():g}]")
    return lo, hi


def as_matrix(W) -> np.ndarray:
    """`W` as a finite float64 matrix with at least one entry."""
    try:
        arr = np.asarray(W)
    except Exception as exc:
        raise ValueError(f"W must be a matrix of numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"W must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"W must be a non-empty 2-D matrix (out, in), got shape {arr.shape}")
    if arr.size > MAX_ELEMENTS:
        raise ValueError(f"W has {arr.size} elements; at most {MAX_ELEMENTS} are allowed")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("W must be finite (no NaN or infinity)")
    return arr
