"""The convergence results of notes 3.4 as formulas, to draw beside measured runs."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["theorem_step", "theorem_bound", "noise_floor", "running_min_sq"]


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and ok):
        raise ValueError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0, got {value}")
    return value


def theorem_step(T: int, beta: float, delta: float, sigma2: float) -> float:
    """The theorem's step size eta = min(1/beta, sqrt(2 Delta / (T beta sigma^2)))."""
    T = _positive("T", T)
    beta = _positive("beta", beta)
    delta = _positive("delta", delta, allow_zero=True)
    sigma2 = _positive("sigma2", sigma2, allow_zero=True)
    if sigma2 == 0:
        return 1.0 / beta
    return min(1.0 / beta, math.sqrt(2.0 * delta / (T * beta * sigma2)))


def theorem_bound(T, beta: float, delta: float, sigma2: float) -> np.ndarray:
    """E[min_{t<=T} ||grad L(theta_t)||^2] <= 4 beta Delta / T + sqrt(8 beta Delta sigma^2 / T),
    for each T of the array (or number) T."""
    beta = _positive("beta", beta)
    delta = _positive("delta", delta, allow_zero=True)
    sigma2 = _positive("sigma2", sigma2, allow_zero=True)
    T = np.asarray(T, dtype=np.float64)
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("T must be finite and > 0")
    return 4.0 * beta * delta / T + np.sqrt(8.0 * beta * delta * sigma2 / T)


def noise_floor(eta: float, beta: float, sigma: float) -> float:
    """The order sigma sqrt(eta beta) below which ||grad L|| stalls with a fixed step and noise.

    The notes print sqrt(eta beta sigma), a typo: the bound 2 Delta / (eta T) + eta beta sigma^2
    on the mean squared gradient has the units of sigma^2, so its square root, the floor of
    ||grad L||, is sigma sqrt(eta beta) (simulated floors are proportional to sigma)."""
    return _positive("sigma", sigma, allow_zero=True) * math.sqrt(
        _positive("eta", eta) * _positive("beta", beta))


def running_min_sq(grad_norms) -> np.ndarray:
    """min_{t<=T} ||grad L(theta_t)||^2 for every T (the quantity the theorem bounds)."""
    g = np.asarray(grad_norms, dtype=np.float64)
    if g.ndim != 1:
        raise ValueError(f"grad_norms must be 1-D, got shape {g.shape}")
    return np.minimum.accumulate(g * g) if g.size else g.copy()
