"""Central differences for gradient checks: the numbers a backward pass is tested against."""

from __future__ import annotations

import numpy as np


def numeric_grad(f, a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂a by (f() at a + eps − f() at a − eps) / 2 eps for every entry of `a`.

    `f` takes no argument and reads `a`, which is perturbed in place one entry at a time (and
    restored), so `a` must be the array `f` uses.
    """
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        fp = f()
        a[idx] = old - eps
        fm = f()
        a[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g
