"""The optimizer update equations of notes 3.5, once, as numba kernels shared by core.optim and core.nn.

`apply_step(code, theta, grad, state, t, hyper)` performs one update in place:

- `code`: an integer of `OPTIMIZER_CODES` (name -> int);
- `theta`: the 1-D float64 parameter vector (n,), updated in place;
- `grad`: the gradient at `theta`, same shape;
- `state`: float64 (3, n), zeroed before the first step. Row 0 is the velocity v (momentum,
  Nesterov) or the first moment m (Adam, AMSGrad); row 1 is the accumulated squares s (AdaGrad,
  RMSProp) or the second moment v (Adam, AMSGrad); row 2 is AMSGrad's running max v-hat;
- `t`: the 1-based step number (Adam's bias correction divides by 1 - beta^t);
- `hyper`: float64 [lr, gamma, beta1, beta2, eps] (`HYPER_INDEX`).

Newton's method needs the Hessian and lives in `core.optim.newton`.
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import kernel

__all__ = [
    "OPTIMIZER_CODES",
    "FIRST_ORDER",
    "HYPER_NAMES",
    "HYPER_INDEX",
    "DEFAULTS",
    "apply_step",
    "make_hyper",
]

#: Optimizer name -> integer code understood by `apply_step` (in order of increasing complexity).
OPTIMIZER_CODES: dict[str, int] = {
    "sgd": 0,
    "momentum": 1,
    "nesterov": 2,
    "adagrad": 3,
    "rmsprop": 4,
    "adam": 5,
    "amsgrad": 6,
}

#: The first-order optimizers, in code order.
FIRST_ORDER: tuple[str, ...] = tuple(OPTIMIZER_CODES)

#: Positions in the `hyper` vector.
HYPER_NAMES: tuple[str, ...] = ("lr", "gamma", "beta1", "beta2", "eps")
HYPER_INDEX: dict[str, int] = {name: i for i, name in enumerate(HYPER_NAMES)}

_BASE = {"lr": 0.01, "gamma": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}

#: Default hyperparameters: the notes' values where they give one (3.5), else lr 0.01 for
#: sgd/momentum/nesterov, 0.001 for adam/amsgrad, eps 1e-8; newton lr 1.0.
DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {**_BASE},
    "momentum": {**_BASE},
    "nesterov": {**_BASE},
    "adagrad": {**_BASE, "lr": 0.01},
    "rmsprop": {**_BASE, "lr": 0.001, "gamma": 0.9},
    "adam": {**_BASE, "lr": 0.001},
    "amsgrad": {**_BASE, "lr": 0.001},
    "newton": {**_BASE, "lr": 1.0},
}

#: Which hyperparameters each optimizer actually reads (the others are ignored), lr first.
USES: dict[str, tuple[str, ...]] = {
    "sgd": ("lr",),
    "momentum": ("lr", "gamma"),
    "nesterov": ("lr", "gamma"),
    "adagrad": ("lr", "eps"),
    "rmsprop": ("lr", "gamma", "eps"),
    "adam": ("lr", "beta1", "beta2", "eps"),
    "amsgrad": ("lr", "beta1", "beta2", "eps"),
    "newton": ("lr",),
}


def make_hyper(name: str, **hyper: float) -> np.ndarray:
    """The validated float64 vector [lr, gamma, beta1, beta2, eps] for optimizer `name`.

    Missing values take `DEFAULTS[name]`. Raises ValueError for an unknown optimizer or
    hyperparameter, a non-finite value, lr <= 0, gamma/beta outside [0, 1), or eps < 0.
    """
    if name not in DEFAULTS:
        raise ValueError(
            f"unknown optimizer {name!r}; expected one of {', '.join(DEFAULTS)}"
        )
    unknown = sorted(set(hyper) - set(HYPER_NAMES))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter {unknown[0]!r}; expected some of {', '.join(HYPER_NAMES)}"
        )
    values = {**DEFAULTS[name], **hyper}
    out = np.empty(len(HYPER_NAMES))
    for i, key in enumerate(HYPER_NAMES):
        value = values[key]
        if isinstance(value, bool):
            raise ValueError(f"{key} must be a number, got {value!r}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{key} must be a number, got {value!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"{key} must be finite, got {value!r}")
        out[i] = value
    lr, gamma, beta1, beta2, eps = out
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    for key, value in (("gamma", gamma), ("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{key} must be in [0, 1), got {value}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    return out


def _example():
    theta = np.ones(2)
    grad = np.ones(2)
    hyper = make_hyper("adam")
    return [(code, theta.copy(), grad, np.zeros((3, 2)), 1, hyper) for code in range(7)]


@kernel(example=_example)
def apply_step(code, theta, grad, state, t, hyper):
    """One in-place update of optimizer `code` on theta (n,) with grad (n,), state (3, n).

    With g = grad, eta = lr, and t the 1-based step number (so the notes' t+1 is our t):

    - 0 sgd:      theta <- theta - eta g
    - 1 momentum: v <- gamma v + eta g;  theta <- theta - v                       (3.5.1)
    - 2 nesterov: v <- gamma v + eta g;  phi <- phi - eta g - gamma v             (3.5.2)
      on the look-ahead point phi = theta - gamma v, where `grad` is taken. This is the notes'
      update rewritten so it needs the gradient at the point being stored; it is exactly
      PyTorch's `SGD(nesterov=True)` (buffer b = v / eta). `core.optim.run` converts back and
      records the notes' theta = phi + gamma v.
    - 3 adagrad:  s <- s + g^2;  theta <- theta - eta / sqrt(s + eps) g           (3.5.3)
    - 4 rmsprop:  s <- gamma s + (1 - gamma) g^2;  theta <- theta - eta / sqrt(s + eps) g
    - 5 adam:     m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
                  m^ = m / (1 - b1^t);  v^ = v / (1 - b2^t);
                  theta <- theta - eta / (sqrt(v^) + eps) m^                       (3.5.5)
    - 6 amsgrad:  m, v as Adam;  v^ <- max(v^, v);
                  theta <- theta - eta / (sqrt(v^) + eps) m   (no bias correction) (3.5.6)

    With eps = 0 a coordinate whose squared-gradient average is 0 (every gradient so far 0 there,
    e.g. started at a minimum, or a dead unit) has a 0 / 0 update: it is taken as 0, the limit as
    eps -> 0+ (the numerator is 0 too), instead of a division by zero.

    PyTorch differs: Adagrad and RMSprop add eps outside the square root (sqrt(s) + eps);
    `Adam(amsgrad=True)` bias-corrects m and the running max; SGD momentum keeps b = gamma b + g
    and steps lr b, the same as ours while lr stays constant.
    """
    lr = hyper[0]
    gamma = hyper[1]
    beta1 = hyper[2]
    beta2 = hyper[3]
    eps = hyper[4]
    n = theta.shape[0]
    if code == 0:
        for i in range(n):
            theta[i] -= lr * grad[i]
    elif code == 1:
        for i in range(n):
            v = gamma * state[0, i] + lr * grad[i]
            state[0, i] = v
            theta[i] -= v
    elif code == 2:
        for i in range(n):
            v = gamma * state[0, i] + lr * grad[i]
            state[0, i] = v
            theta[i] -= lr * grad[i] + gamma * v
    elif code == 3:
        for i in range(n):
            s = state[1, i] + grad[i] * grad[i]
            state[1, i] = s
            den = math.sqrt(s + eps)
            if den != 0.0:  # 0 only with eps = 0 and every gradient so far 0: no step
                theta[i] -= lr / den * grad[i]
    elif code == 4:
        for i in range(n):
            s = gamma * state[1, i] + (1.0 - gamma) * grad[i] * grad[i]
            state[1, i] = s
            den = math.sqrt(s + eps)
            if den != 0.0:
                theta[i] -= lr / den * grad[i]
    elif code == 5:
        c1 = 1.0 - beta1**t
        c2 = 1.0 - beta2**t
        for i in range(n):
            m = beta1 * state[0, i] + (1.0 - beta1) * grad[i]
            v = beta2 * state[1, i] + (1.0 - beta2) * grad[i] * grad[i]
            state[0, i] = m
            state[1, i] = v
            den = math.sqrt(v / c2) + eps
            if den != 0.0:
                theta[i] -= lr / den * (m / c1)
    elif code == 6:
        for i in range(n):
            m = beta1 * state[0, i] + (1.0 - beta1) * grad[i]
            v = beta2 * state[1, i] + (1.0 - beta2) * grad[i] * grad[i]
            vmax = max(state[2, i], v)
            state[0, i] = m
            state[1, i] = v
            state[2, i] = vmax
            den = math.sqrt(vmax) + eps
            if den != 0.0:
                theta[i] -= lr / den * m
    else:
        raise ValueError("apply_step: unknown optimizer code (see OPTIMIZER_CODES)")
