"""Row-wise numba helpers shared by kernels of several core packages (softmax, cross-entropy)."""

from __future__ import annotations

import math

from core._jit import jit


@jit(inline="always")
def exp_shifted_row(x, r, out):
    """out[r, j] = exp(x[r, j] − m) with m = maxⱼ x[r, j] (no overflow for huge scores);
    returns (m, s) with s = Σⱼ out[r, j] ≥ 1, so softmax = out / s and logsumexp = m + log s.
    x, out (rows, d) float64, d ≥ 1."""
    d = x.shape[1]
    m = x[r, 0]
    for j in range(1, d):
        if x[r, j] > m:
            m = x[r, j]
    s = 0.0
    for j in range(d):
        e = math.exp(x[r, j] - m)
        out[r, j] = e
        s += e
    return m, s
