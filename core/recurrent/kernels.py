"""numba kernels of the recurrent loops: the forward pass and BPTT over all T steps in one call.

The input halves W_ih xₜ + b_ih of every step, and the weight gradients (sums over time and
batch), are single matrix products done by NumPy outside; only what must go step by step,
the recurrence, runs here. Cell codes: 0 rnn, 1 lstm, 2 gru; activation codes: 0 tanh,
1 relu, 2 linear (the RNN's φ).
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import jit, kernel

CELL_CODES = {"rnn": 0, "lstm": 1, "gru": 2}
ACTIVATION_CODES = {"tanh": 0, "relu": 1, "linear": 2}


@jit
def _sigmoid(a):
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _forward_example():
    out = []
    for cell, g in ((0, 1), (1, 4), (2, 3)):
        T, B, H = 2, 1, 2
        out.append((cell, 0, np.zeros((T, B, g * H)), np.zeros((H, g * H)), np.zeros(g * H),
                    np.ones((T, B)), np.zeros((T + 1, B, H)), np.zeros((T + 1, B, H)),
                    np.zeros((T, B, g * H)), np.zeros((T, B, H))))
    return out


@kernel(example=_forward_example, fastmath=True, error_model="numpy")
def recurrent_forward(cell, act, gi, w_hh_t, b_hh, mask, h, c, gates, hn):
    """The recurrence of `cell` over T steps, in place.

    gi (T, B, G·H) = W_ih xₜ + b_ih; w_hh_t (H, G·H) = W_hhᵀ; b_hh (G·H,); mask (T, B) of 0/1;
    h (T+1, B, H) with h[0] = h₀ (filled); c (T+1, B, H) with c[0] = c₀ (LSTM; filled);
    gates (T, B, G·H): the RNN's pre-activation a, the LSTM's i f g o, the GRU's r z n;
    hn (T, B, H): the GRU's W_hn hₜ₋₁ + b_hn. Padded steps (mask 0) keep h and c.
    """
    T, B, GH = gi.shape
    H = h.shape[2]
    gh = np.empty(GH)
    for t in range(T):
        for b in range(B):
            for j in range(GH):
                gh[j] = b_hh[j]
            for k in range(H):
                hk = h[t, b, k]
                for j in range(GH):
                    gh[j] += w_hh_t[k, j] * hk
            m = mask[t, b]
            for j in range(H):
                if cell == 0:
                    a = gi[t, b, j] + gh[j]
                    gates[t, b, j] = a
                    if act == 0:
                        v = math.tanh(a)
                    elif act == 1:
                        v = a if a > 0.0 else 0.0
                    else:
                        v = a
                elif cell == 1:
                    i = _sigmoid(gi[t, b, j] + gh[j])
                    f = _sigmoid(gi[t, b, H + j] + gh[H + j])
                    g = math.tanh(gi[t, b, 2 * H + j] + gh[2 * H + j])
                    o = _sigmoid(gi[t, b, 3 * H + j] + gh[3 * H + j])
                    gates[t, b, j] = i
                    gates[t, b, H + j] = f
                    gates[t, b, 2 * H + j] = g
                    gates[t, b, 3 * H + j] = o
                    cn = f * c[t, b, j] + i * g
                    c[t + 1, b, j] = m * cn + (1.0 - m) * c[t, b, j]
                    v = o * math.tanh(cn)
                else:
                    r = _sigmoid(gi[t, b, j] + gh[j])
                    z = _sigmoid(gi[t, b, H + j] + gh[H + j])
                    hn[t, b, j] = gh[2 * H + j]
                    n = math.tanh(gi[t, b, 2 * H + j] + r * gh[2 * H + j])
                    gates[t, b, j] = r
                    gates[t, b, H + j] = z
                    gates[t, b, 2 * H + j] = n
                    v = (1.0 - z) * n + z * h[t, b, j]
                h[t + 1, b, j] = m * v + (1.0 - m) * h[t, b, j]


def _backward_example():
    out = []
    for cell, g in ((0, 1), (1, 4), (2, 3)):
        T, B, H = 2, 1, 2
        out.append((cell, 0, np.zeros((T, B, g * H)), np.zeros((T + 1, B, H)),
                    np.zeros((T + 1, B, H)), np.zeros((T, B, H)), np.ones((T, B)),
                    np.zeros((g * H, H)), np.zeros((T, B, H)), np.zeros((T, B, g * H)),
                    np.zeros((T, B, g * H)), np.zeros((T, B, H)), np.zeros((T, B, H)),
                    np.zeros((B, H)), np.zeros((B, H))))
    return out


@kernel(example=_backward_example, fastmath=True, error_model="numpy")
def recurrent_backward(cell, act, gates, h, c, hn, mask, w_hh, dh_out, dgi, dgh, dh_total,
                       dc_total, carry, carry_c):
    """BPTT of the recurrence, in place, from t = T down to 1.

    dh_out (T, B, H): ∂ℒ/∂hₜ through the outputs only. carry (B, H) enters as ∂ℒ/∂h_T from
    beyond (zeros) and leaves as ∂ℒ/∂h₀; carry_c likewise for the LSTM's cell state. Fills
    dgi / dgh (T, B, G·H): ∂ℒ/∂(W_ih x + b_ih) and ∂ℒ/∂(W_hh h + b_hh) per step; dh_total
    (T, B, H): the whole ∂ℒ/∂hₜ; dc_total: the LSTM's ∂ℒ/∂cₜ. w_hh (G·H, H).
    """
    T, B, GH = gates.shape
    H = h.shape[2]
    dh = np.empty(H)
    dprev = np.empty(H)
    for t in range(T - 1, -1, -1):
        for b in range(B):
            m = mask[t, b]
            for j in range(H):
                dh[j] = dh_out[t, b, j] + carry[b, j]
                dh_total[t, b, j] = dh[j]
                dprev[j] = (1.0 - m) * dh[j]
            for j in range(H):
                dn_ = m * dh[j]  # ∂ℒ/∂(the cell's new h), zero on padding
                if cell == 0:
                    a = gates[t, b, j]
                    if act == 0:
                        th = math.tanh(a)
                        da = dn_ * (1.0 - th * th)
                    elif act == 1:
                        da = dn_ if a > 0.0 else 0.0
                    else:
                        da = dn_
                    dgi[t, b, j] = da
                    dgh[t, b, j] = da
                elif cell == 1:
                    i = gates[t, b, j]
                    f = gates[t, b, H + j]
                    g = gates[t, b, 2 * H + j]
                    o = gates[t, b, 3 * H + j]
                    cp = c[t, b, j]
                    tc = math.tanh(f * cp + i * g)
                    dc = m * carry_c[b, j] + dn_ * o * (1.0 - tc * tc)
                    dc_total[t, b, j] = dc
                    di = dc * g * i * (1.0 - i)
                    df = dc * cp * f * (1.0 - f)
                    dg = dc * i * (1.0 - g * g)
                    do = dn_ * tc * o * (1.0 - o)
                    dgi[t, b, j] = di
                    dgi[t, b, H + j] = df
                    dgi[t, b, 2 * H + j] = dg
                    dgi[t, b, 3 * H + j] = do
                    dgh[t, b, j] = di
                    dgh[t, b, H + j] = df
                    dgh[t, b, 2 * H + j] = dg
                    dgh[t, b, 3 * H + j] = do
                    carry_c[b, j] = dc * f + (1.0 - m) * carry_c[b, j]
                else:
                    r = gates[t, b, j]
                    z = gates[t, b, H + j]
                    n = gates[t, b, 2 * H + j]
                    dan = dn_ * (1.0 - z) * (1.0 - n * n)
                    dar = dan * hn[t, b, j] * r * (1.0 - r)
                    daz = dn_ * (h[t, b, j] - n) * z * (1.0 - z)
                    dgi[t, b, j] = dar
                    dgi[t, b, H + j] = daz
                    dgi[t, b, 2 * H + j] = dan
                    dgh[t, b, j] = dar
                    dgh[t, b, H + j] = daz
                    dgh[t, b, 2 * H + j] = dan * r
                    dprev[j] += dn_ * z
            for j in range(GH):
                d = dgh[t, b, j]
                if d != 0.0:
                    for k in range(H):
                        dprev[k] += d * w_hh[j, k]
            for k in range(H):
                carry[b, k] = dprev[k]


def _mm_example():
    return (np.zeros((2, 3)), np.zeros((3, 4)), np.zeros((2, 4)))


@kernel(example=_mm_example, fastmath=True)
def matmul_into(a, b, out):
    """out (m, n) = a (m, k) @ b (k, n), on one thread.

    The products here are small (a few million multiply-adds); a multi-threaded BLAS on a busy
    machine spends longer waking its threads than computing them."""
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            out[i, j] = 0.0
        for r in range(k):
            air = a[i, r]
            if air != 0.0:
                for j in range(n):
                    out[i, j] += air * b[r, j]


@kernel(example=lambda: (np.zeros((3, 2)), np.zeros((3, 4)), np.zeros((2, 4))), fastmath=True)
def matmul_tn_into(a, b, out):
    """out (m, n) = a (r, m)ᵀ @ b (r, n), on one thread (sums over the rows: weight gradients)."""
    rows, m = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            out[i, j] = 0.0
    for r in range(rows):
        for i in range(m):
            ari = a[r, i]
            if ari != 0.0:
                for j in range(n):
                    out[i, j] += ari * b[r, j]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (..., k) @ b (k, n) on one thread (leading axes of a flattened)."""
    a2 = np.ascontiguousarray(a, dtype=np.float64).reshape(-1, a.shape[-1])
    out = np.empty((a2.shape[0], b.shape[1]))
    matmul_into(a2, np.ascontiguousarray(b, dtype=np.float64), out)
    return out.reshape(a.shape[:-1] + (b.shape[1],))


def matmul_tn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (r, m)ᵀ @ b (r, n) on one thread."""
    out = np.empty((a.shape[1], b.shape[1]))
    matmul_tn_into(np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64), out)
    return out
