"""numba kernels of core.robust: power iteration on WᵀW (checked arguments only)."""

from __future__ import annotations

import math

import numpy as np

from core._jit import kernel


@kernel(example=lambda: (np.ones((2, 3)), np.ones(3) / math.sqrt(3.0), 2, np.zeros(2),
                         np.zeros(2), 0.0))
def _power_iteration(W, v, iters, sigmas, u, tol):
    """Power iteration on WᵀW from the unit vector v (in,), in place on v and u (out,).

    u ← W v / ‖W v‖,  v ← Wᵀ u / ‖Wᵀ u‖,  σ_k = ‖W v‖, stored in sigmas[:iters].
    Stops when σ improves by at most tol · σ (tol = 0: never); returns the iterations done.
    A zero W v (v in the null space) stops at once with σ = 0 for the remaining entries.
    """
    m, n = W.shape
    wv = np.empty(m)
    last = 0.0
    for k in range(iters):
        size = 0.0
        for i in range(m):
            acc = 0.0
            for j in range(n):
                acc += W[i, j] * v[j]
            wv[i] = acc
            size += acc * acc
        size = math.sqrt(size)
        if size == 0.0:
            for r in range(k, iters):
                sigmas[r] = last
            return k
        for i in range(m):
            u[i] = wv[i] / size
        size = 0.0
        for j in range(n):
            acc = 0.0
            for i in range(m):
                acc += W[i, j] * u[i]
            v[j] = acc
            size += acc * acc
        size = math.sqrt(size)
        for j in range(n):
            v[j] /= size
        sigma = 0.0
        for i in range(m):
            acc = 0.0
            for j in range(n):
                acc += W[i, j] * v[j]
            sigma += acc * acc
        sigma = math.sqrt(sigma)
        sigmas[k] = sigma
        if tol > 0.0 and k > 0 and sigma - last <= tol * sigma:
            last = sigma
            for r in range(k + 1, iters):
                sigmas[r] = sigma
            return k + 1
        last = sigma
    return iters
