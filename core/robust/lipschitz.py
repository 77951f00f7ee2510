"""Lipschitz constants of networks: power iteration, the product bound, local Jacobian norms."""

from __future__ import annotations

import math

import numpy as np

from core.robust._checks import as_inputs, as_int, as_labels, as_matrix, check_labels_fit
from core.robust.attacks import frozen
from core.robust.kernels import _power_iteration

#: Lipschitz constant of each activation module (by class name), for the product bound.
ACTIVATION_LIPSCHITZ = {"ReLU": 1.0, "Tanh": 1.0, "Sigmoid": 0.25, "Identity": 1.0}


def _start(W: np.ndarray, seed: int, u0=None) -> np.ndarray:
    """The unit start vector v₀ (in,): seeded Gaussian, or Wᵀu₀ normalized."""
    if u0 is not None:
        u = np.asarray(u0, dtype=np.float64).ravel()
        if u.shape != (W.shape[0],) or not np.all(np.isfinite(u)):
            raise ValueError(f"u0 must be a finite vector of shape ({W.shape[0]},)")
        v = W.T @ u
    else:
        v = np.random.default_rng(seed).standard_normal(W.shape[1])
    size = np.linalg.norm(v)
    if size == 0:
        v, size = np.ones(W.shape[1]), math.sqrt(W.shape[1])
    return np.ascontiguousarray(v / size)


def _iters(iters) -> int:
    iters = as_int(iters, "iters", 1)
    if iters > 1_000_000:
        raise ValueError(f"iters must be at most 1000000, got {iters}")
    return iters


def power_iteration(W, iters: int = 100, seed: int = 0, u0=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power iteration on WᵀW: the estimates σ₁, σ₂, ... of the largest singular value of W.

    v₀ a seeded random unit vector (or Wᵀu₀ normalized when u0 (out,) is given), then

    u_k = W v_{k−1} / ‖W v_{k−1}‖,   v_k = Wᵀ u_k / ‖Wᵀ u_k‖,   σ_k = ‖W v_k‖

    W (out, in) -> (sigmas (iters,), u (out,), v (in,)). Each σ_k ≤ σ_max(W), rising
    towards it; the error shrinks like (σ₂/σ₁)^(2k).
    """
    W = as_matrix(W)
    iters = _iters(iters)
    v = _start(W, as_int(seed, "seed", 0), u0)
    sigmas, u = np.zeros(iters), np.zeros(W.shape[0])
    _power_iteration(W, v, iters, sigmas, u, 0.0)
    return sigmas, u, v


def spectral_norm(W, iters: int = 100, seed: int = 0, tol: float = 1e-13) -> float:
    """σ_max(W) = max ‖Wx‖₂ / ‖x‖₂, the L2 Lipschitz constant of x ↦ Wx, by power iteration.

    W (out, in). Stops early when an iteration improves σ by at most tol · σ.
    """
    W = as_matrix(W)
    iters = _iters(iters)
    tol = float(tol)
    if not math.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite number ≥ 0, got {tol}")
    if not W.any():
        return 0.0
    sigmas, u = np.zeros(iters), np.zeros(W.shape[0])
    for attempt in range(3):  # a start in the null space of W: try another seed
        v = _start(W, as_int(seed, "seed", 0) + attempt)
        done = _power_iteration(W, v, iters, sigmas, u, tol)
        if sigmas[max(done - 1, 0)] > 0:
            return float(sigmas[:max(done, 1)].max())
    return float(sigmas.max())


def layers_of(model) -> list:
    """The modules of a `core.tensor.nn.Sequential` (or a list of modules), in order."""
    if isinstance(model, (list, tuple)):
        return list(model)
    if type(model).__name__ == "Sequential":
        return list(iter(model))
    raise ValueError(f"expected a Sequential of Linear layers and activations, got "
                     f"{type(model).__name__}")


def layer_lipschitz(layer, iters: int = 100) -> tuple[str, float]:
    """(name, Lipschitz constant) of one module of a Sequential: σ_max(W) for a Linear."""
    kind = type(layer).__name__
    if kind == "Linear":
        return kind, spectral_norm(np.asarray(layer.weight.data), iters=iters)
    if kind in ACTIVATION_LIPSCHITZ:
        return kind, ACTIVATION_LIPSCHITZ[kind]
    if kind == "Dropout":  # identity in eval mode; in training mode a kept unit is scaled by 1/(1-p)
        p = float(getattr(layer, "p", 0.0))
        return kind, 1.0 if not getattr(layer, "training", False) or p >= 1 else 1.0 / (1.0 - p)
    raise ValueError(f"lipschitz_upper_bound handles Linear, ReLU, Tanh, Sigmoid and Dropout "
                     f"layers, got {kind}")


def lipschitz_upper_bound(model, iters: int = 100) -> float:
    """L(f) ≤ Π_k L(layer_k) for f = layer_K ∘ ... ∘ layer_1 (a Sequential), in the L2 norm.

    A Linear layer contributes σ_max(W) (power iteration), ReLU and tanh 1, the sigmoid 1/4.
    The bias does not change a Lipschitz constant. The bound is usually loose: it assumes every
    layer's worst direction lines up with the next one's (Scaman & Virmaux 2018).
    """
    bound = 1.0
    for layer in layers_of(model):
        bound *= layer_lipschitz(layer, iters)[1]
    return bound


def jacobian(model, x) -> np.ndarray:
    """J[n, c, :] = ∂ f_c(xₙ) / ∂x, the Jacobian of the logits at each sample.

    x (N, D...) -> (N, C, D) with D the number of input entries (one backward pass per c).
    """
    from core.tensor import tensor

    x = as_inputs(x)
    n, d = x.shape[0], int(np.prod(x.shape[1:]))
    rows = []
    with frozen(model):
        c = None
        k = 0
        while c is None or k < c:
            xt = tensor(x, requires_grad=True)
            out = model(xt)
            z = np.asarray(out.data)
            if z.ndim != 2 or z.shape[0] != n:
                raise ValueError(f"the model must map N = {n} samples to (N, C), got {z.shape}")
            c = z.shape[1]
            seed = np.zeros_like(z, dtype=np.float64)
            seed[:, k] = 1.0
            out.backward(seed)
            rows.append(np.array(xt.grad, dtype=np.float64).reshape(n, d))
            k += 1
    return np.stack(rows, axis=1)


def local_lipschitz(model, x) -> np.ndarray:
    """‖J(xₙ)‖₂, the largest singular value of the Jacobian at each sample: (N,).

    Near xₙ the network stretches distances by this much; every value is ≤ the global
    constant, so its maximum over samples is a lower bound for L(f).
    """
    J = jacobian(model, x)
    return np.linalg.norm(J, ord=2, axis=(1, 2))


def margins(logits, y) -> np.ndarray:
    """f_y − max_{j≠y} f_j for each row of logits (N, C) and labels y (N,): > 0 when right."""
    z = np.asarray(logits, dtype=np.float64)
    y = as_labels(y, z.shape[0] if z.ndim == 2 else -1)
    check_labels_fit(y, z)
    if z.shape[1] < 2:
        raise ValueError("margins need at least 2 classes")
    rows = np.arange(len(y))
    others = z.copy()
    others[rows, y] = -np.inf
    return z[rows, y] - others.max(axis=1)


def certified_radius(logits, y, lipschitz: float) -> np.ndarray:
    """The L2 radius inside which the prediction provably cannot change: max(m, 0) / (√2 L).

    Each difference f_y − f_j is √2 L-Lipschitz when f is L-Lipschitz in L2, so a margin m
    needs a perturbation of norm at least m / (√2 L) to reach 0 (Tsuzuku et al. 2018).
    """
    lipschitz = float(lipschitz)
    if not math.isfinite(lipschitz) or lipschitz <= 0:
        raise ValueError(f"lipschitz must be a positive finite number, got {lipschitz}")
    return np.maximum(margins(logits, y), 0.0) / (math.sqrt(2.0) * lipschitz)
