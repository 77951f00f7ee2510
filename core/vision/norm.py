"""Normalization layers (notes 4.5): batch, layer and instance norm, their backward, and a
`BatchNorm` layer with running statistics that folds into the preceding layer for inference."""

from __future__ import annotations

import math

import numpy as np

from core._jit import kernel
from core.vision._checks import as_array, as_float

#: For an (N, C, H, W) batch, the axes each normalization averages over (notes figure 4.14).
REDUCED_AXES = {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3)}


def _ex_fwd():
    x = np.zeros((2, 1, 2))
    return (x, 1e-5, np.zeros_like(x), np.zeros(1), np.zeros(1), np.zeros(1))


def _ex_bwd():
    x = np.zeros((2, 1, 2))
    return (x, x, np.zeros(1), np.zeros_like(x))


@kernel(example=_ex_fwd)
def _group_norm_fwd(x3, eps, xhat, mean, var, inv_std):
    """For each group g of x3 (A, G, M) (all a and m): μ_g, σ²_g (biased) and x̂ = (x - μ_g) / √(σ²_g + ε).

    Two passes (mean, then squared deviations) keep the variance accurate for large means.
    """
    A, G, M = x3.shape
    count = A * M
    for g in range(G):
        s = 0.0
        for a in range(A):
            for m in range(M):
                s += x3[a, g, m]
        mu = s / count
        q = 0.0
        for a in range(A):
            for m in range(M):
                d = x3[a, g, m] - mu
                q += d * d
        v = q / count
        k = 1.0 / math.sqrt(v + eps)
        mean[g] = mu
        var[g] = v
        inv_std[g] = k
        for a in range(A):
            for m in range(M):
                xhat[a, g, m] = (x3[a, g, m] - mu) * k


@kernel(example=_ex_bwd)
def _group_norm_bwd(dxhat, xhat, inv_std, dx):
    """dx = (1/σ)(dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)), means taken over each group of (A, G, M)."""
    A, G, M = xhat.shape
    count = A * M
    for g in range(G):
        s1 = 0.0
        s2 = 0.0
        for a in range(A):
            for m in range(M):
                s1 += dxhat[a, g, m]
                s2 += dxhat[a, g, m] * xhat[a, g, m]
        m1 = s1 / count
        m2 = s2 / count
        k = inv_std[g]
        for a in range(A):
            for m in range(M):
                dx[a, g, m] = k * (dxhat[a, g, m] - m1 - xhat[a, g, m] * m2)


def _normalize(x3: np.ndarray, eps: float):
    A, G, M = x3.shape
    xhat = np.empty(x3.shape)
    mean, var, inv_std = np.empty(G), np.empty(G), np.empty(G)
    _group_norm_fwd(x3, eps, xhat, mean, var, inv_std)
    return xhat, mean, var, inv_std


def _affine(name: str, p, default: float, shape: tuple[int, ...]) -> np.ndarray:
    if p is None:
        return np.full(shape, default)
    p = as_array(p, name, len(shape))
    if p.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {p.shape}")
    return p


def _layout(kind: str, x: np.ndarray) -> tuple[tuple[int, int, int], tuple[int, ...], tuple[int, ...]]:
    """(the (A, G, M) view, the parameter shape, the parameter's broadcast shape) of a kind."""
    N = x.shape[0]
    if kind == "batch":
        C = x.shape[1]
        M = int(np.prod(x.shape[2:], dtype=np.int64))
        return (N, C, M), (C,), (1, C) + (1,) * (x.ndim - 2)
    if kind == "layer":
        F = int(np.prod(x.shape[1:], dtype=np.int64))
        return (1, N, F), x.shape[1:], (1,) + x.shape[1:]
    C = x.shape[1]
    M = int(np.prod(x.shape[2:], dtype=np.int64))
    return (1, N * C, M), (C,), (1, C) + (1,) * (x.ndim - 2)


_RANKS = {"batch": (2, 3, 4), "layer": (2, 3, 4), "instance": (3, 4)}


def _prepare(kind, x, gamma, beta, eps):
    x = as_array(x, "x", _RANKS[kind])
    if 0 in x.shape:
        raise ValueError(f"x must not be empty, got shape {x.shape}")
    eps = as_float(eps, "eps", minimum=0.0)
    view, pshape, bshape = _layout(kind, x)
    if kind != "layer" and view[0] * view[2] < 2:
        raise ValueError(
            f"{kind} norm needs more than one value per group to compute a variance; "
            f"x has shape {x.shape}"
        )
    gamma = _affine("gamma", gamma, 1.0, pshape)
    beta = _affine("beta", beta, 0.0, pshape)
    return x, gamma, beta, eps, view, bshape


def _forward(kind, x, gamma, beta, eps):
    x, gamma, beta, eps, view, bshape = _prepare(kind, x, gamma, beta, eps)
    xhat, mean, var, inv_std = _normalize(x.reshape(view), eps)
    y = xhat.reshape(x.shape) * gamma.reshape(bshape) + beta.reshape(bshape)
    return y, mean, var


def _backward(kind, dout, x, gamma, beta, eps):
    x, gamma, beta, eps, view, bshape = _prepare(kind, x, gamma, beta, eps)
    dout = as_array(dout, "dout", x.ndim)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have x's shape {x.shape}, got {dout.shape}")
    xhat, _, _, inv_std = _normalize(x.reshape(view), eps)
    xhat = xhat.reshape(x.shape)
    axes = tuple(i for i, s in enumerate(bshape) if s == 1)
    dgamma = (dout * xhat).sum(axis=axes).reshape(gamma.shape)
    dbeta = dout.sum(axis=axes).reshape(beta.shape)
    dxhat = np.ascontiguousarray(dout * gamma.reshape(bshape)).reshape(view)
    dx = np.empty(view)
    _group_norm_bwd(dxhat, xhat.reshape(view), inv_std, dx)
    return dx.reshape(x.shape), dgamma, dbeta


def batch_norm(x, gamma=None, beta=None, eps=1e-5) -> np.ndarray:
    """Batch normalization in training mode (notes 4.5.2-4.5.3): y = γ · (x - μ) / √(σ² + ε) + β.

    x (N, D): μ, σ² per feature over the batch; x (N, C, H, W) (or (N, C, L)): per channel over
    N, H and W. γ, β have shape (D,) or (C,); None means ones and zeros. σ² is the biased
    variance, as `torch.nn.functional.batch_norm(..., training=True)`.
    """
    return _forward("batch", x, gamma, beta, eps)[0]


def batch_norm_backward(dout, x, gamma=None, beta=None, eps=1e-5):
    """Gradients of `batch_norm` -> (dx, dgamma, dbeta)."""
    return _backward("batch", dout, x, gamma, beta, eps)


def layer_norm(x, gamma=None, beta=None, eps=1e-5) -> np.ndarray:
    """Layer normalization (notes 4.5.5): μ, σ² per sample over every other axis.

    x (N, D) with γ, β (D,), as `torch.nn.functional.layer_norm(x, (D,))`; an (N, C, H, W)
    batch is normalized over C, H, W with γ, β of shape (C, H, W).
    """
    return _forward("layer", x, gamma, beta, eps)[0]


def layer_norm_backward(dout, x, gamma=None, beta=None, eps=1e-5):
    """Gradients of `layer_norm` -> (dx, dgamma, dbeta)."""
    return _backward("layer", dout, x, gamma, beta, eps)


def instance_norm(x, gamma=None, beta=None, eps=1e-5) -> np.ndarray:
    """Instance normalization (notes 4.5.5): μ, σ² per sample and channel over H and W.

    x (N, C, H, W), γ, β (C,), as `torch.nn.functional.instance_norm` with weight and bias.
    """
    return _forward("instance", x, gamma, beta, eps)[0]


def instance_norm_backward(dout, x, gamma=None, beta=None, eps=1e-5):
    """Gradients of `instance_norm` -> (dx, dgamma, dbeta)."""
    return _backward("instance", dout, x, gamma, beta, eps)


def norm_statistics(kind: str, x, eps=1e-5) -> tuple[np.ndarray, np.ndarray]:
    """The mean and (biased) variance of every group `kind` normalizes together.

    Shapes: batch (C,), layer (N,), instance (N, C); for the lab's per-group table.
    """
    if kind not in _RANKS:
        raise ValueError(f"kind must be batch, layer or instance; got {kind!r}")
    x, _, _, eps, view, _ = _prepare(kind, x, None, None, eps)
    _, mean, var, _ = _normalize(x.reshape(view), eps)
    if kind == "instance":
        return mean.reshape(x.shape[0], x.shape[1]), var.reshape(x.shape[0], x.shape[1])
    return mean, var
