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
    one, two = np.ones(1), np.ones(2)
    return [(x, 1e-5, one, one * 0, two, two * 0, np.zeros_like(x), np.zeros_like(x),
             np.zeros(1), np.zeros(1), np.zeros(1), keep) for keep in (True, False)]  # fmt: skip


def _ex_bwd():
    x = np.zeros((2, 1, 2))
    one, two = np.ones(1), np.ones(2)
    return (x, x, np.ones(1), one, two, np.zeros_like(x), np.zeros(1), np.zeros(2), np.zeros(1), np.zeros(2))


@kernel(example=_ex_fwd)
def _group_norm_fwd(x3, eps, gg, bg, gm, bm, y, xhat, mean, var, inv_std, keep_xhat):
    """For each group g of x3 (A, G, M) (over all a and m): μ_g, σ²_g (biased),
    x̂ = (x - μ_g) / √(σ²_g + ε) and y = x̂ · gg[g] · gm[m] + bg[g] + bm[m].

    The affine parameters come per group (gg, bg: batch and instance norm) or per position
    (gm, bm: layer norm), the other pair being ones and zeros. Two passes (mean, then squared
    deviations) keep the variance accurate for large means. x̂ is stored only if `keep_xhat`.
    With ε = 0 a constant group has σ² + ε = 0: 1/σ = ∞ and x̂ = 0 · ∞ = NaN, the IEEE result
    (PyTorch's too), never a ZeroDivisionError.
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
        r = math.sqrt(v + eps)
        k = 1.0 / r if r > 0.0 else math.inf  # eps = 0 on a constant group: x̂ = 0 · ∞ = NaN
        mean[g] = mu
        var[g] = v
        inv_std[g] = k
        scale, shift = gg[g], bg[g]
        for a in range(A):
            for m in range(M):
                h = (x3[a, g, m] - mu) * k
                if keep_xhat:
                    xhat[a, g, m] = h
                y[a, g, m] = h * scale * gm[m] + shift + bm[m]


@kernel(example=_ex_bwd)
def _group_norm_bwd(dout, xhat, inv_std, gg, gm, dx, dgg, dgm, dbg, dbm):
    """Backward of `_group_norm_fwd`: with dx̂ = dout · gg[g] · gm[m],
    dx = (1/σ)(dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) per group, and the affine gradients
    dgg[g] = Σ dout · x̂ · gm[m], dgm[m] = Σ dout · x̂ · gg[g], dbg[g] = Σ dout, dbm[m] = Σ dout."""
    A, G, M = xhat.shape
    count = A * M
    for m in range(M):
        dgm[m] = 0.0
        dbm[m] = 0.0
    for g in range(G):
        s1 = 0.0
        s2 = 0.0
        sg = 0.0
        sb = 0.0
        scale = gg[g]
        for a in range(A):
            for m in range(M):
                d = dout[a, g, m]
                h = xhat[a, g, m]
                dh = d * scale * gm[m]
                s1 += dh
                s2 += dh * h
                sg += d * h * gm[m]
                sb += d
                dgm[m] += d * h * scale
                dbm[m] += d
        dgg[g] = sg
        dbg[g] = sb
        m1 = s1 / count
        m2 = s2 / count
        k = inv_std[g]
        for a in range(A):
            for m in range(M):
                dh = dout[a, g, m] * scale * gm[m]
                dx[a, g, m] = k * (dh - m1 - xhat[a, g, m] * m2)


def _run_forward(kind: str, x3: np.ndarray, eps: float, gamma: np.ndarray, beta: np.ndarray,
                 keep_xhat: bool = True):  # fmt: skip
    """(y, x̂, μ, σ², 1/σ) of the (A, G, M) view, with γ, β spread per group or per position."""
    A, G, M = x3.shape
    gg, bg, gm, bm = _spread(kind, G, M, gamma, beta)
    y = np.empty(x3.shape)
    xhat = np.empty(x3.shape) if keep_xhat else np.empty((1, 1, 1))
    mean, var, inv_std = np.empty(G), np.empty(G), np.empty(G)
    _group_norm_fwd(x3, eps, gg, bg, gm, bm, y, xhat, mean, var, inv_std, keep_xhat)
    return y, xhat, mean, var, inv_std


def _spread(kind: str, G: int, M: int, gamma: np.ndarray, beta: np.ndarray):
    """(gg, bg, gm, bm): the affine parameters as the kernels take them."""
    if kind == "layer":
        return np.ones(G), np.zeros(G), gamma.reshape(M), beta.reshape(M)
    reps = G // gamma.size  # instance norm: groups are (n, c), parameters per c
    return np.tile(gamma, reps), np.tile(beta, reps), np.ones(M), np.zeros(M)


def _normalize(x3: np.ndarray, eps: float):
    """(x̂, μ, σ², 1/σ) without an affine map (the lab's statistics)."""
    G, M = x3.shape[1], x3.shape[2]
    _, xhat, mean, var, inv_std = _run_forward("batch", x3, eps, np.ones(G), np.zeros(G))
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
    x, gamma, beta, eps, view, _ = _prepare(kind, x, gamma, beta, eps)
    y, _, mean, var, _ = _run_forward(kind, x.reshape(view), eps, gamma, beta, keep_xhat=False)
    return y.reshape(x.shape), mean, var


def _backward(kind, dout, x, gamma, beta, eps):
    x, gamma, beta, eps, view, _ = _prepare(kind, x, gamma, beta, eps)
    dout = as_array(dout, "dout", x.ndim)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have x's shape {x.shape}, got {dout.shape}")
    A, G, M = view
    _, xhat, _, _, inv_std = _run_forward(kind, x.reshape(view), eps, gamma, beta)
    gg, _, gm, _ = _spread(kind, G, M, gamma, beta)
    dx = np.empty(view)
    dgg, dgm, dbg, dbm = np.empty(G), np.empty(M), np.empty(G), np.empty(M)
    _group_norm_bwd(dout.reshape(view), xhat, inv_std, gg, gm, dx, dgg, dgm, dbg, dbm)
    if kind == "layer":
        return dx.reshape(x.shape), dgm.reshape(gamma.shape), dbm.reshape(beta.shape)
    C = gamma.size
    return dx.reshape(x.shape), dgg.reshape(-1, C).sum(axis=0), dbg.reshape(-1, C).sum(axis=0)


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
