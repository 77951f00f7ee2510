"""Kernel presets at any size K (the notes' Gaussian and Sobel at K = 3) and kernel-cell parsing."""

from __future__ import annotations

import math
from math import comb

import numpy as np

from tutor.labs.convolution.params import PRESETS

#: The largest absolute value a kernel cell accepts.
MAX_WEIGHT = 1000.0


def binomial(k: int) -> np.ndarray:
    """Row k of Pascal's triangle: [1, 2, 1] for k = 3, a discrete Gaussian."""
    return np.array([comb(k - 1, i) for i in range(k)], dtype=np.float64)


def _derivative(k: int) -> np.ndarray:
    """[1, 0, -1] smoothed to length k: [1, 2, 0, -2, -1] for k = 5."""
    return np.convolve(binomial(k - 2), [1.0, 0.0, -1.0]) if k >= 3 else np.array([1.0, -1.0])


def preset(name: str, k: int = 3) -> np.ndarray:
    """The K x K kernel `name` (one of PRESETS)."""
    if name not in PRESETS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {', '.join(PRESETS)}")
    if not 2 <= k <= 7:
        raise ValueError(f"the kernel size must be from 2 to 7, got {k}")
    c = k // 2
    ident = np.zeros((k, k))
    ident[c, c] = 1.0
    if name == "identity":
        return ident
    if name == "box_blur":
        return np.full((k, k), 1.0 / (k * k))
    if name == "gaussian":
        g = np.outer(binomial(k), binomial(k))
        return g / g.sum()
    if name == "sobel_x":
        return np.outer(binomial(k), _derivative(k))
    if name == "sobel_y":
        return np.outer(binomial(k), _derivative(k)).T.copy()
    if name == "sharpen":
        if k == 3:
            return np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]])
        return 2 * ident - np.full((k, k), 1.0 / (k * k))
    if name == "edges":
        return k * k * ident - np.ones((k, k))
    i, j = np.indices((k, k))  # emboss: a ramp along the diagonal, plus the pixel itself
    return (i + j - (k - 1)) * (2.0 / (k - 1)) + ident


def parse_weight(text: str) -> float:
    """A kernel cell: a number or a fraction such as `1/16`; ValueError with a hint otherwise."""
    text = text.strip().replace(",", ".")
    if not text:
        raise ValueError("a cell cannot be empty")
    if len(text) > 24:
        raise ValueError("too long for a number")
    try:
        if "/" in text:
            num, _, den = text.partition("/")
            value = float(num) / float(den)
        else:
            value = float(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{text!r} is not a number (write 0.5, -2 or 1/16)") from None
    if not math.isfinite(value):
        raise ValueError("a cell must be a finite number")
    if abs(value) > MAX_WEIGHT:
        raise ValueError(f"a cell must be between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}")
    return value


def format_weight(v: float) -> str:
    """Compact text for a kernel cell: `1`, `-0.5`, `0.0625`."""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4g}"
