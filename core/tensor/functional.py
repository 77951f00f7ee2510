"""core.tensor.functional (import as F): activations, losses, attention and embedding as fused graph ops.

Each function is one node of the graph with its own backward (fewer nodes, fewer passes than
composing primitives), named and shaped like `torch.nn.functional`.
"""

from __future__ import annotations

import math

import numpy as np

from core.tensor._tensor import ShapeError, Tensor, _const, _node, unbroadcast
from core.tensor import kernels as K
from core.tensor.ops import matmul

__all__ = [
    "relu", "tanh", "sigmoid", "linear", "softmax", "log_softmax", "logsumexp", "cross_entropy",
    "mse_loss", "binary_cross_entropy_with_logits", "dropout", "attention_weights",
    "scaled_dot_product_attention", "embedding", "layer_norm", "one_hot", "softplus",
    "leaky_relu",
]


def relu(x: Tensor) -> Tensor:
    return _const(x).relu()


def tanh(x: Tensor) -> Tensor:
    return _const(x).tanh()


def sigmoid(x: Tensor) -> Tensor:
    return _const(x).sigmoid()


def softplus(x: Tensor) -> Tensor:
    """log(1 + eˣ), computed as max(x, 0) + log(1 + e^−|x|) (stable); backward σ(x)."""
    x = _const(x)
    a = x.data
    out = np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))
    return _node(out, (x,), lambda g: (g * (0.5 + 0.5 * np.tanh(0.5 * a)),), "softplus")


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope · x."""
    x = _const(x)
    a = x.data
    slope = np.where(a > 0, 1.0, float(negative_slope))
    return _node(a * slope, (x,), lambda g: (g * slope,), "leaky_relu")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, x (..., in), weight (out, in), bias (out,) -> (..., out); one graph node.

    Backward: ∂ℒ/∂x = G W, ∂ℒ/∂W = Gᵀ x (summed over all leading axes), ∂ℒ/∂b = Σ G.
    """
    x = _const(x)
    xd, w = x.data, weight.data
    if w.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != w.shape[1]:
        raise ShapeError(
            f"linear: got input {xd.shape} and weight {w.shape}; expected input (..., in) and "
            "weight (out, in)"
        )
    out = xd @ w.T
    if bias is not None:
        if bias.data.shape != (w.shape[0],):
            raise ShapeError(f"linear: got bias {bias.data.shape}; expected ({w.shape[0]},)")
        out += bias.data
        parents = (x, weight, bias)
    else:
        parents = (x, weight)

    def back(g):
        gx = g @ w if x.requires_grad else None
        if xd.ndim == 2:
            gw = g.T @ xd if weight.requires_grad else None
            gb = g.sum(0) if bias is not None and bias.requires_grad else None
        else:
            g2 = g.reshape(-1, g.shape[-1])
            gw = g2.T @ xd.reshape(-1, xd.shape[-1]) if weight.requires_grad else None
            gb = g2.sum(0) if bias is not None and bias.requires_grad else None
        return (gx, gw, gb)

    return _node(out, parents, back, "linear")


def _axis(x, axis, op):
    nd = x.data.ndim
    if nd == 0 or isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -nd <= axis < nd:
        raise ShapeError(f"{op}: got axis {axis!r} for shape {x.data.shape}; expected an axis of a >= 1-D tensor")
    return int(axis) % nd


def _softmax_np(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ) along `axis`; backward p ⊙ (g − Σ g ⊙ p)."""
    x = _const(x)
    ax = _axis(x, axis, "softmax")
    a = x.data
    if ax == a.ndim - 1 and a.size:  # fused kernel over rows of the last axis
        a2 = np.ascontiguousarray(a).reshape(-1, a.shape[-1])
        p2 = np.empty_like(a2)
        K.softmax_rows(a2, p2)
        p = p2.reshape(a.shape)

        def back_rows(g):
            out = np.empty_like(p2)
            K.softmax_rows_back(p2, np.ascontiguousarray(g).reshape(p2.shape), out)
            return (out.reshape(a.shape),)

        return _node(p, (x,), back_rows, "softmax")
    p = _softmax_np(a, ax)

    def back(g):
        gp = g * p
        return (gp - p * gp.sum(axis=ax, keepdims=True),)

    return _node(p, (x,), back, "softmax")


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """xᵢ − log Σⱼ exp(xⱼ) along `axis`; backward g − softmax(x) Σ g."""
    x = _const(x)
    ax = _axis(x, axis, "log_softmax")
    a = x.data
    s = a - a.max(axis=ax, keepdims=True)
    out = s - np.log(np.exp(s).sum(axis=ax, keepdims=True))

    def back(g):
        return (g - np.exp(out) * g.sum(axis=ax, keepdims=True),)

    return _node(out, (x,), back, "log_softmax")


def logsumexp(x: Tensor, axis: int = -1, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) along `axis`, computed stably; backward g ⊙ softmax(x)."""
    x = _const(x)
    ax = _axis(x, axis, "logsumexp")
    a = x.data
    m = a.max(axis=ax, keepdims=True)
    e = np.exp(a - m)
    total = e.sum(axis=ax, keepdims=True)
    out = np.log(total) + m

    def back(g):
        gg = g if keepdims else np.expand_dims(g, ax)
        return (gg * (e / total),)

    return _node(out if keepdims else np.squeeze(out, ax), (x,), back, "logsumexp")


def _labels(labels, n, c, op):
    y = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError(f"{op}: got non-integer labels; expected integer class indices")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu" or y.shape != (n,):
        raise ShapeError(f"{op}: got labels of shape {y.shape} dtype {y.dtype}; expected ({n},) integers")
    if n and (y.min() < 0 or y.max() >= c):
        raise ValueError(f"{op}: got labels in [{y.min()}, {y.max()}]; expected classes in [0, {c})")
    return y


def _check_reduction(reduction, op):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: got reduction {reduction!r}; expected 'mean', 'sum' or 'none'")


def cross_entropy(logits: Tensor, labels, reduction: str = "mean") -> Tensor:
    """−(1/N) Σₙ log softmax(logitsₙ)[yₙ]; logits (N, C), labels (N,) integers in [0, C).

    Only (N, C) logits: a sequence model's (N, T, C) logits are reshaped by the caller to
    (N·T, C) with labels (N·T,). Backward: (softmax(logits) − onehot(y)) / N.
    """
    logits = _const(logits)
    z = logits.data
    if z.ndim != 2:
        raise ShapeError(f"cross_entropy: got logits {z.shape}; expected (N, C) (reshape (N, T, C) to (N*T, C))")
    _check_reduction(reduction, "cross_entropy")
    n, c = z.shape
    y = _labels(labels, n, c, "cross_entropy")
    s = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    per = lse[:, 0] - s[rows, y]
    if reduction == "none":
        out = per
    else:
        out = np.asarray(per.sum() / (n if reduction == "mean" and n else 1))

    def back(g):
        p = np.exp(s - lse)
        p[rows, y] -= 1.0
        if reduction == "none":
            return (p * g[:, None],)
        return (p * (g / n if reduction == "mean" else g),)

    return _node(out, (logits,), back, "cross_entropy")


def one_hot(labels, num_classes: int) -> np.ndarray:
    """(N,) integer labels -> (N, num_classes) float64 one-hot rows."""
    y = np.asarray(labels)
    y = _labels(y.reshape(-1), y.size, num_classes, "one_hot")
    out = np.zeros((y.size, num_classes))
    out[np.arange(y.size), y] = 1.0
    return out


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """(1/n) Σ (input − target)² over every element (shapes must match exactly)."""
    x = _const(input)
    t = _const(target)
    _check_reduction(reduction, "mse_loss")
    if x.data.shape != t.data.shape:
        raise ShapeError(f"mse_loss: got input {x.data.shape} and target {t.data.shape}; expected equal shapes")
    d = x.data - t.data
    count = max(d.size, 1)
    if reduction == "none":
        out = d * d
    else:
        out = np.asarray(np.vdot(d, d) / (count if reduction == "mean" else 1))

    def back(g):
        gd = 2.0 * d * (g / count if reduction == "mean" else g)
        return (gd if x.requires_grad else None, -gd if t.requires_grad else None)

    return _node(out, (x, t), back, "mse_loss")


def binary_cross_entropy_with_logits(logits: Tensor, targets, reduction: str = "mean") -> Tensor:
    """mean of max(x, 0) − x y + log(1 + e^−|x|) = −[y log σ(x) + (1 − y) log(1 − σ(x))].

    Stable for any logit x; targets y in [0, 1] of the same shape. Backward (σ(x) − y) / n.
    """
    x = _const(logits)
    y = _const(targets)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if x.data.shape != y.data.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: got logits {x.data.shape} and targets "
            f"{y.data.shape}; expected equal shapes"
        )
    a, b = x.data, y.data
    per = np.maximum(a, 0.0) - a * b + np.log1p(np.exp(-np.abs(a)))
    count = max(a.size, 1)
    out = per if reduction == "none" else np.asarray(per.sum() / (count if reduction == "mean" else 1))

    def back(g):
        scale = g / count if reduction == "mean" else g
        gx = (0.5 + 0.5 * np.tanh(0.5 * a) - b) * scale if x.requires_grad else None
        gy = -a * scale if y.requires_grad else None
        return gx, gy

    return _node(out, (x, y), back, "bce_with_logits")


def dropout(x: Tensor, p: float = 0.5, training: bool = True, seed=None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 − p) (identity if not training).

    `seed`: an int, a `np.random.Generator` (the Dropout module passes its own, so successive
    calls draw new masks reproducibly) or None.
    """
    x = _const(x)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: got p={p!r}; expected a probability in [0, 1]")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mask = (rng.random(x.data.shape) >= p) * (1.0 / (1.0 - p))
    return _node(x.data * mask, (x,), lambda g: (g * mask,), "dropout")


def _masked_softmax(scores: Tensor, allowed) -> Tensor:
    """softmax over the last axis where `allowed` (bool, broadcastable) is True; rows with
    nothing allowed give all-zero weights (not NaN)."""
    s = scores.data
    if allowed is not None:
        s = np.where(allowed, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    if allowed is not None:
        m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(s - m)
    total = e.sum(axis=-1, keepdims=True)
    if allowed is not None:
        total = np.where(total > 0.0, total, 1.0)
    p = e / total

    def back(g):
        gp = g * p
        return (gp - p * gp.sum(axis=-1, keepdims=True),)

    return _node(p, (scores,), back, "softmax")


def _attention_mask(attn_mask, is_causal, L, S, op):
    """A boolean 'may attend' mask (or None) and an additive float mask (or None)."""
    allowed = None
    additive = None
    if is_causal:
        allowed = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is not None:
        m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if m.ndim < 2 or m.shape[-2:] != (L, S):
            raise ShapeError(f"{op}: got attn_mask {m.shape}; expected (..., {L}, {S})")
        if m.dtype == np.bool_:
            allowed = m if allowed is None else (allowed & m)
        else:
            additive = np.asarray(m, dtype=np.float64)
    return allowed, additive


def attention_weights(q: Tensor, k: Tensor, attn_mask=None, is_causal: bool = False,
                      scale: float | None = None) -> Tensor:
    """A = softmax(q kᵀ · scale + mask) over the keys: q (..., L, E), k (..., S, E) -> (..., L, S).

    scale defaults to 1/√E. attn_mask: bool (True = may attend, as `torch`'s sdpa) or float
    (added to the scores), broadcastable to (..., L, S); is_causal keeps j ≤ i. A query row
    with no allowed key gets zero weights.
    """
    q = _const(q)
    k = _const(k)
    if q.data.ndim < 2 or k.data.ndim < 2 or q.data.shape[-1] != k.data.shape[-1]:
        raise ShapeError(
            f"attention: got q {q.data.shape} and k {k.data.shape}; expected (..., L, E) and (..., S, E)"
        )
    L, S, E = q.data.shape[-2], k.data.shape[-2], q.data.shape[-1]
    allowed, additive = _attention_mask(attn_mask, is_causal, L, S, "attention")
    scores = matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(E) if scale is None else float(scale))
    if additive is not None and not np.all(np.isfinite(additive)):  # -inf entries: not allowed
        finite = np.isfinite(additive)
        allowed = finite if allowed is None else (allowed & finite)
        additive = np.where(finite, additive, 0.0)
    if additive is not None:
        scores = scores + additive
    return _masked_softmax(scores, allowed)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, attn_mask=None,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(q kᵀ/√E + mask) v: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev).

    Masks as in `attention_weights` (bool True = may attend, like torch's sdpa; note that
    `nn.MultiheadAttention`'s bool mask means the opposite, as in torch). Use
    `attention_weights(q, k, ...) @ v` to keep the weights as well.
    """
    v = _const(v)
    if v.data.ndim < 2 or v.data.shape[-2] != _const(k).data.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: got k {k.shape} and v {v.data.shape}; expected (..., S, Ev) with k's S")
    return matmul(attention_weights(q, k, attn_mask, is_causal, scale), v)


def embedding(indices, weight: Tensor) -> Tensor:
    """Rows of `weight` (n, d) picked by integer `indices` (any shape) -> (*indices.shape, d).

    Backward: the gradient rows are added (np.add.at) into a zero (n, d) array.
    """
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    w = weight.data
    if w.ndim != 2:
        raise ShapeError(f"embedding: got weight {w.shape}; expected (num_embeddings, dim)")
    if idx.dtype.kind == "f":
        if not np.all(idx == np.round(idx)):
            raise ValueError("embedding: got non-integer indices; expected integers")
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"embedding: got indices of dtype {idx.dtype}; expected integers")
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise ValueError(f"embedding: got indices in [{idx.min()}, {idx.max()}]; expected [0, {w.shape[0]})")
    out = w[idx]
    n = w.shape[0]

    def back(g):
        full = np.zeros((n, g.shape[-1]))
        np.add.at(full, idx.reshape(-1), g.reshape(-1, g.shape[-1]))
        return (full,)

    return _node(out, (weight,), back, "embedding")


def layer_norm(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last axis: (x − μ)/√(σ² + ε) ⊙ w + b (σ² biased, as torch).

    Backward: with x̂ the normalized input and ĝ = g ⊙ w,
    ∂ℒ/∂x = (ĝ − mean(ĝ) − x̂ mean(ĝ ⊙ x̂)) / √(σ² + ε); ∂ℒ/∂w = Σ g ⊙ x̂; ∂ℒ/∂b = Σ g.
    """
    x = _const(x)
    a = x.data
    if a.ndim == 0:
        raise ShapeError("layer_norm: got a 0-d tensor; expected (..., d)")
    d = a.shape[-1]
    if d == 0:
        raise ShapeError(f"layer_norm: got shape {a.shape}; expected a non-empty last axis")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.data.shape != (d,):
            raise ShapeError(f"layer_norm: got {name} {p.data.shape}; expected ({d},)")
    a2 = np.ascontiguousarray(a).reshape(-1, d)
    n = a2.shape[0]
    w = weight.data if weight is not None else np.ones(d)
    b = bias.data if bias is not None else np.zeros(d)
    out = np.empty_like(a2)
    xhat = np.empty_like(a2)
    rstd = np.empty(n)
    if n:
        K.layer_norm_rows(a2, w, b, float(eps), out, xhat, rstd)
    parents = (x,) + tuple(p for p in (weight, bias) if p is not None)

    def back(g):
        gx = np.empty_like(xhat)
        gw = np.zeros(d)
        gb = np.zeros(d)
        if n:
            K.layer_norm_rows_back(np.ascontiguousarray(g).reshape(-1, d), xhat, rstd, w, gx, gw, gb)
        res = [gx.reshape(a.shape) if x.requires_grad else None]
        if weight is not None:
            res.append(gw)
        if bias is not None:
            res.append(gb)
        return tuple(res)

    return _node(out.reshape(a.shape), parents, back, "layer_norm")
