"""numba kernels for core.tensor's fused row-wise ops (softmax, layer norm): one pass per row, no temporaries.

Each works on a C-contiguous (rows, d) float64 view of the last axis; the public ops in
`functional` validate shapes, reshape and allocate the outputs.
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import jit, kernel
from core._rows import exp_shifted_row


@jit(inline="always")
def _sigmoid(v):
    """σ(v) = 1/(1 + e^−v): one exp (libm's tanh costs twice as much per element here)."""
    return 1.0 / (1.0 + math.exp(-v))


@jit(inline="always")
def _tanh(v):
    """tanh v = 2σ(2v) − 1 (absolute error ~1e-16)."""
    return 2.0 / (1.0 + math.exp(-2.0 * v)) - 1.0


def _rows():
    return np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])


@kernel(example=lambda: (_rows(), np.empty((2, 3))))
def softmax_rows(x, out):
    """out[r] = exp(x[r] − max x[r]) / Σ exp(x[r] − max x[r]) for x, out (rows, d)."""
    n, d = x.shape
    for r in range(n):
        _, s = exp_shifted_row(x, r, out)
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


def _ex_lstm():
    return (np.zeros((2, 8)), np.zeros((2, 2)), np.empty((2, 8)), np.empty((2, 2)), np.empty((2, 4)))


@kernel(example=_ex_lstm)
def lstm_pointwise(gates, c, acts, tanh_c2, hc):
    """LSTM gate math for gates (B, 4H) in torch's order i, f, g, o and c (B, H):

    i, f, o = σ(·), g = tanh(·) (kept in acts (B, 4H)); c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c').
    Writes tanh(c') (B, H) and hc = [h', c'] (B, 2H).
    """
    B, H = c.shape
    for b in range(B):
        for j in range(H):
            i = _sigmoid(gates[b, j])
            f = _sigmoid(gates[b, H + j])
            g = _tanh(gates[b, 2 * H + j])
            o = _sigmoid(gates[b, 3 * H + j])
            acts[b, j] = i
            acts[b, H + j] = f
            acts[b, 2 * H + j] = g
            acts[b, 3 * H + j] = o
            c2 = f * c[b, j] + i * g
            t = _tanh(c2)
            tanh_c2[b, j] = t
            hc[b, j] = o * t
            hc[b, H + j] = c2


def _ex_lstm_back():
    return (np.zeros((2, 8)), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 4)), np.empty((2, 8)), np.empty((2, 2)))


@kernel(example=_ex_lstm_back)
def lstm_pointwise_back(acts, c, tanh_c2, ghc, dgates, dc):
    """Backward of `lstm_pointwise`: from ghc = [∂ℒ/∂h', ∂ℒ/∂c'] (B, 2H) to dgates (B, 4H), dc (B, H).

    dc' = ∂ℒ/∂c' + ∂ℒ/∂h' ⊙ o ⊙ (1 − tanh²c'); di = dc' g; df = dc' c; dg = dc' i; do = ∂ℒ/∂h' tanh c';
    each through its activation's derivative (σ' = σ(1 − σ), tanh' = 1 − tanh²); dc = dc' ⊙ f.
    """
    B, H = c.shape
    for b in range(B):
        for j in range(H):
            i = acts[b, j]
            f = acts[b, H + j]
            g = acts[b, 2 * H + j]
            o = acts[b, 3 * H + j]
            t = tanh_c2[b, j]
            gh = ghc[b, j]
            dcc = ghc[b, H + j] + gh * o * (1.0 - t * t)
            dgates[b, j] = dcc * g * i * (1.0 - i)
            dgates[b, H + j] = dcc * c[b, j] * f * (1.0 - f)
            dgates[b, 2 * H + j] = dcc * i * (1.0 - g * g)
            dgates[b, 3 * H + j] = gh * t * o * (1.0 - o)
            dc[b, j] = dcc * f


def _ex_gru():
    return (np.zeros((2, 6)), np.zeros((2, 6)), np.zeros((2, 2)), np.empty((2, 6)), np.empty((2, 2)))


@kernel(example=_ex_gru)
def gru_pointwise(gi, gh, h, acts, out):
    """GRU gate math, gi = x W_ihᵀ + b_ih and gh = h W_hhᵀ + b_hh (B, 3H) in torch's order r, z, n:

    r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h' = (1 − z) ⊙ n + z ⊙ h.
    Keeps r, z, n in acts (B, 3H).
    """
    B, H = h.shape
    for b in range(B):
        for j in range(H):
            r = _sigmoid(gi[b, j] + gh[b, j])
            z = _sigmoid(gi[b, H + j] + gh[b, H + j])
            n = _tanh(gi[b, 2 * H + j] + r * gh[b, 2 * H + j])
            acts[b, j] = r
            acts[b, H + j] = z
            acts[b, 2 * H + j] = n
            out[b, j] = n + z * (h[b, j] - n)


def _ex_gru_back():
    return (np.zeros((2, 6)), np.zeros((2, 6)), np.zeros((2, 2)), np.zeros((2, 2)), np.empty((2, 6)), np.empty((2, 6)), np.empty((2, 2)))


@kernel(example=_ex_gru_back)
def gru_pointwise_back(acts, gh, h, g, dgi, dgh, dh):
    """Backward of `gru_pointwise`: from g = ∂ℒ/∂h' (B, H) to dgi, dgh (B, 3H) and the direct dh = g ⊙ z.

    dn = g (1 − z)(1 − n²); dz = g (h − n) z (1 − z); dr = dn gh_n r (1 − r);
    dgi = [dr, dz, dn], dgh = [dr, dz, dn ⊙ r].
    """
    B, H = h.shape
    for b in range(B):
        for j in range(H):
            r = acts[b, j]
            z = acts[b, H + j]
            n = acts[b, 2 * H + j]
            gg = g[b, j]
            dn = gg * (1.0 - z) * (1.0 - n * n)
            dz = gg * (h[b, j] - n) * z * (1.0 - z)
            dr = dn * gh[b, 2 * H + j] * r * (1.0 - r)
            dgi[b, j] = dr
            dgi[b, H + j] = dz
            dgi[b, 2 * H + j] = dn
            dgh[b, j] = dr
            dgh[b, H + j] = dz
            dgh[b, 2 * H + j] = dn * r
            dh[b, j] = gg * z
