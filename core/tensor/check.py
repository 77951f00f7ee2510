"""gradcheck: central differences against backward(), for tests and for the student's own ops."""

from __future__ import annotations

import numpy as np

from core.tensor._tensor import Tensor, no_grad

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """backward() and central differences disagree; the message names the input and the worst entry."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Check fn's backward on `inputs` (Tensors; those with requires_grad are checked).

    The output is projected on a fixed random direction w (seeded), ℒ = Σ w ⊙ fn(*inputs), so
    one backward gives ∂ℒ/∂x; each entry is compared with (ℒ(x + eps) − ℒ(x − eps)) / (2 eps).
    Passes when |analytic − numeric| ≤ atol + rtol |numeric| everywhere. Returns True, or on a
    mismatch raises GradcheckError with a report (returns False if raise_exception=False).
    """
    inputs = list(inputs)
    if not inputs or not all(isinstance(t, Tensor) for t in inputs):
        raise ValueError("gradcheck: expected a non-empty sequence of Tensors")
    checked = [t for t in inputs if t.requires_grad]
    if any(not t.is_leaf for t in checked):
        raise ValueError("gradcheck: got an input computed by an op; expected leaf tensors")
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    out = fn(*inputs)
    out = out[0] if isinstance(out, (tuple, list)) else out
    w = np.random.default_rng(seed).standard_normal(out.shape)
    saved = [t.grad for t in checked]
    for t in checked:
        t.grad = None
    (out * w).sum().backward()
    analytic = [np.zeros(t.shape) if t.grad is None else t.grad.copy() for t in checked]
    for t, g in zip(checked, saved):
        t.grad = g

    def loss():
        with no_grad():
            o = fn(*inputs)
            o = o[0] if isinstance(o, (tuple, list)) else o
            return float(np.sum(o.data * w))

    for k, t in enumerate(checked):
        flat = t.data.reshape(-1)
        numeric = np.zeros(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss()
            flat[i] = old - eps
            down = loss()
            flat[i] = old
            numeric[i] = (up - down) / (2 * eps)
        a = analytic[k].reshape(-1)
        err = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        if flat.size and err.max() > 0:
            j = int(np.argmax(err))
            msg = (f"gradcheck: input {inputs.index(t)} of shape {t.shape}: entry {np.unravel_index(j, t.shape)} "
                   f"backward {a[j]:.8g} vs central difference {numeric[j]:.8g} "
                   f"(max abs error {np.abs(a - numeric).max():.3g})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
