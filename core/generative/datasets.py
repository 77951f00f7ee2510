"""Small 2-D data sets for the GAN and flow chapters, some with their exact density."""

from __future__ import annotations

import math

import numpy as np

#: The generators of `sample_2d`; `ring` and `banana` also have an exact `log_density_2d`.
DATASETS_2D = ("ring", "moons", "line", "banana")
WITH_DENSITY = ("ring", "banana")

RING_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.2


def _check(n: int, seed: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive whole number, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")


def ring_centres(modes: int = RING_MODES, radius: float = RING_RADIUS) -> np.ndarray:
    """(modes, 2): the centres of the ring of Gaussians, the first on the positive x axis."""
    angle = 2 * np.pi * np.arange(modes) / modes
    return radius * np.column_stack([np.cos(angle), np.sin(angle)])


def sample_2d(name: str, n: int = 256, seed: int = 0) -> np.ndarray:
    """(n, 2) float64 points of data set `name` (one of `DATASETS_2D`).

    ring: a mixture of 8 Gaussians (std 0.2) on the circle of radius 2, equal weights;
    moons: two interleaving half circles (noise 0.05), scaled by 1.5; line: uniform on the
    segment from (-2, -1) to (2, 1) plus noise 0.05; banana: x₁ ~ N(0, 1),
    x₂ = x₁²/2 - 1 + 0.3 ε with ε ~ N(0, 1).
    """
    _check(n, seed)
    rng = np.random.default_rng(seed)
    if name == "ring":
        which = rng.integers(RING_MODES, size=n)
        return ring_centres()[which] + RING_STD * rng.standard_normal((n, 2))
    if name == "moons":
        half = n // 2
        a0 = rng.uniform(0, np.pi, n - half)
        a1 = rng.uniform(0, np.pi, half)
        upper = np.column_stack([np.cos(a0) - 0.5, np.sin(a0) - 0.25])
        lower = np.column_stack([0.5 - np.cos(a1), 0.25 - np.sin(a1)])
        return 1.5 * (np.vstack([upper, lower]) + 0.05 * rng.standard_normal((n, 2)))
    if name == "line":
        t = rng.uniform(-1, 1, n)
        return np.column_stack([2 * t, t]) + 0.05 * rng.standard_normal((n, 2))
    if name == "banana":
        x1 = rng.standard_normal(n)
        return np.column_stack([x1, 0.5 * x1**2 - 1 + 0.3 * rng.standard_normal(n)])
    raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS_2D)}")


def _points(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"expected points of shape (N, 2), got {x.shape}")
    return x


def log_density_2d(name: str, x) -> np.ndarray:
    """(N,) exact log p(x) of data set `name` (ring or banana) at points x (N, 2)."""
    x = _points(x)
    if name == "ring":
        d2 = ((x[:, None, :] - ring_centres()[None]) ** 2).sum(axis=2) / RING_STD**2
        m = (-0.5 * d2).max(axis=1)
        lse = m + np.log(np.exp(-0.5 * d2 - m[:, None]).sum(axis=1))
        return lse - math.log(RING_MODES) - math.log(2 * np.pi * RING_STD**2)
    if name == "banana":
        r = (x[:, 1] - 0.5 * x[:, 0] ** 2 + 1) / 0.3
        return -0.5 * x[:, 0] ** 2 - 0.5 * r**2 - math.log(2 * np.pi * 0.3)
    raise ValueError(f"data set {name!r} has no closed-form density; expected one of {', '.join(WITH_DENSITY)}")


def grad_log_density_2d(name: str, x) -> np.ndarray:
    """(N, 2) ∇ₓ log p(x) of `log_density_2d` (the target's pull in reverse-KL training)."""
    x = _points(x)
    if name == "ring":
        c = ring_centres()
        diff = x[:, None, :] - c[None]
        logw = -0.5 * (diff**2).sum(axis=2) / RING_STD**2
        w = np.exp(logw - logw.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        return -(w[:, :, None] * diff).sum(axis=1) / RING_STD**2
    if name == "banana":
        r = (x[:, 1] - 0.5 * x[:, 0] ** 2 + 1) / 0.3
        return np.column_stack([-x[:, 0] + r * x[:, 0] / 0.3, -r / 0.3])
    raise ValueError(f"data set {name!r} has no closed-form density; expected one of {', '.join(WITH_DENSITY)}")


def ring_mode_counts(samples) -> np.ndarray:
    """(8,) how many samples lie within 3 std of each ring centre (mode collapse made a number)."""
    x = _points(samples)
    d = np.sqrt(((x[:, None, :] - ring_centres()[None]) ** 2).sum(axis=2))
    near = d.argmin(axis=1)
    close = d[np.arange(len(x)), near] < 3 * RING_STD
    return np.bincount(near[close], minlength=RING_MODES)


def modes_covered(samples, share: float = 0.25) -> int:
    """Ring modes holding at least `share` of the samples a uniform spread would give them."""
    counts = ring_mode_counts(samples)
    return int((counts >= share * len(np.asarray(samples)) / RING_MODES).sum())
