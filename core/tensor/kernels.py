"""numba kernels for core.tensor's fused row-wise ops (softmax, layer norm): one pass per row, no temporaries.

Each works on a C-contiguous (rows, d) float64 view of the last axis; the public ops in
`functional` validate shapes, reshape and allocate the outputs.
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import kernel


def _rows():
    return np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])


@kernel(example=lambda: (_rows(), np.empty((2, 3))))
def softmax_rows(x, out):
    """out[r] = exp(x[r] − max x[r]) / Σ exp(x[r] − max x[r]) for x, out (rows, d)."""
    n, d = x.shape
    for r in range(n):
        m = x[r, 0]
        for j in range(1, d):
            if x[r, j] > m:
                m = x[r, j]
        s = 0.0
        for j in range(d):
            e = math.exp(x[r, j] - m)
            out[r, j] = e
            s += e
        inv = 1.0 / s
        for j in range(d):
            out[r, j] *= inv


@kernel(example=lambda: (np.full((2, 3), 1.0 / 3.0), _rows(), np.empty((2, 3))))
def softmax_rows_back(p, g, out):
    """out[r] = p[r] ⊙ (g[r] − Σⱼ g[r, j] p[r, j]): the vector-Jacobian product of softmax."""
    n, d = p.shape
    for r in range(n):
        s = 0.0
        for j in range(d):
            s += g[r, j] * p[r, j]
        for j in range(d):
            out[r, j] = p[r, j] * (g[r, j] - s)


@kernel(example=lambda: (_rows(), np.ones(3), np.zeros(3), 1e-5, np.empty((2, 3)), np.empty((2, 3)), np.empty(2)))
def layer_norm_rows(x, w, b, eps, out, xhat, rstd):
    """x̂ = (x − μ)/√(σ² + eps) per row (σ² biased); out = x̂ ⊙ w + b; keeps x̂ and 1/√(σ² + eps)."""
    n, d = x.shape
    for r in range(n):
        mu = 0.0
        for j in range(d):
            mu += x[r, j]
        mu /= d
        var = 0.0
        for j in range(d):
            c = x[r, j] - mu
            var += c * c
        inv = 1.0 / math.sqrt(var / d + eps)
        rstd[r] = inv
        for j in range(d):
            h = (x[r, j] - mu) * inv
            xhat[r, j] = h
            out[r, j] = h * w[j] + b[j]


@kernel(example=lambda: (_rows(), np.zeros((2, 3)), np.ones(2), np.ones(3), np.empty((2, 3)), np.zeros(3), np.zeros(3)))
def layer_norm_rows_back(g, xhat, rstd, w, gx, gw, gb):
    """With ĝ = g ⊙ w: gx = rstd (ĝ − mean ĝ − x̂ mean(ĝ ⊙ x̂)); gw += Σ g ⊙ x̂; gb += Σ g (gw, gb zeroed by the caller)."""
    n, d = g.shape
    for r in range(n):
        m1 = 0.0
        m2 = 0.0
        for j in range(d):
            gh = g[r, j] * w[j]
            m1 += gh
            m2 += gh * xhat[r, j]
            gw[j] += g[r, j] * xhat[r, j]
            gb[j] += g[r, j]
        m1 /= d
        m2 /= d
        for j in range(d):
            gx[r, j] = rstd[r] * (g[r, j] * w[j] - m1 - xhat[r, j] * m2)
