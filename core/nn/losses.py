"""Loss functions of chapter 3.2 with their gradients: mean square error and cross-entropy.

Both reduce by the mean, as PyTorch's defaults (`nn.MSELoss()`, `nn.CrossEntropyLoss()`).
Cross-entropy is computed from the scores (logits) with the log-sum-exp trick, so huge scores
neither overflow nor lose the gradient (the instability notes 3.2.2 warn about).
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import jit, kernel
from core._rows import exp_shifted_row

#: Loss names and the integer codes the kernels dispatch on.
LOSSES = {"mse": 0, "cross_entropy": 1}


@jit
def _mse_fwd_bwd(pred, target, dpred):
    """L = (1 / (N·D)) Σ (p - t)²; dpred = 2 (p - t) / (N·D). pred, target, dpred (N, D)."""
    n, d = pred.shape
    scale = 1.0 / (n * d)
    total = 0.0
    for i in range(n):
        for j in range(d):
            diff = pred[i, j] - target[i, j]
            total += diff * diff
            dpred[i, j] = 2.0 * diff * scale
    return total * scale


@jit
def _ce_fwd_bwd(logits, labels, dlogits):
    """L = (1/N) Σₙ [log Σᵢ exp(xᵢ) - x_y] with the max subtracted first (log-sum-exp);
    dlogits = (softmax(x) - onehot(y)) / N. logits (N, C), labels (N,) int64 in [0, C)."""
    n, c = logits.shape
    total = 0.0
    for i in range(n):
        m, s = exp_shifted_row(logits, i, dlogits)
        lse = m + math.log(s)
        y = labels[i]
        total += lse - logits[i, y]
        for j in range(c):
            dlogits[i, j] = dlogits[i, j] / s / n
        dlogits[i, y] -= 1.0 / n
    return total / n


@kernel(example=lambda: (np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3))))
def _mse_kernel(pred, target, dpred):
    """Public MSE: returns the loss, fills dpred."""
    return _mse_fwd_bwd(pred, target, dpred)


@kernel(example=lambda: (np.zeros((2, 3)), np.zeros(2, dtype=np.int64), np.zeros((2, 3))))
def _ce_kernel(logits, labels, dlogits):
    """Public cross-entropy: returns the loss, fills dlogits."""
    return _ce_fwd_bwd(logits, labels, dlogits)


def _finite(name: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must contain only finite numbers (found NaN or infinity)")


def _pair(pred, target) -> tuple[np.ndarray, np.ndarray, tuple]:
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape, got {p.shape} and {t.shape}")
    if p.size == 0:
        raise ValueError("pred and target must not be empty")
    shape = p.shape
    p2 = np.ascontiguousarray(p.reshape(p.shape[0] if p.ndim else 1, -1))
    t2 = np.ascontiguousarray(t.reshape(p2.shape))
    return p2, t2, shape


def mse_loss(pred, target) -> float:
    """Mean square error: the mean of (pred - target)² over all elements (as `nn.MSELoss()`)."""
    return mse_loss_and_grad(pred, target)[0]


def mse_loss_and_grad(pred, target) -> tuple[float, np.ndarray]:
    """(MSE, ∂MSE/∂pred) where ∂/∂pred = 2 (pred - target) / (number of elements)."""
    p, t, shape = _pair(pred, target)
    dp = np.empty_like(p)
    loss = _mse_kernel(p, t, dp)
    return float(loss), dp.reshape(shape)


def check_labels(labels, n: int, classes: int) -> np.ndarray:
    """Integer class labels (N,) in [0, classes) as int64, or ValueError saying what is wrong."""
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"labels must be a 1-D array of {n} class indices, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("labels must be whole numbers (class indices)")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"labels must be integer class indices, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if n and (y.min() < 0 or y.max() >= classes):
        raise ValueError(
            f"labels must lie in [0, {classes - 1}] for {classes} classes; "
            f"found {int(y.min())}..{int(y.max())}"
        )
    return np.ascontiguousarray(y)


def cross_entropy(logits, labels) -> float:
    """Cross-entropy of scores (N, C) against integer labels (N,), mean over the batch:
    (1/N) Σₙ -log(exp(x_y) / Σᵢ exp(xᵢ)), as `nn.CrossEntropyLoss()`."""
    return cross_entropy_and_grad(logits, labels)[0]


def cross_entropy_and_grad(logits, labels) -> tuple[float, np.ndarray]:
    """(cross-entropy, ∂L/∂logits) where ∂L/∂logits = (softmax(logits) - onehot(labels)) / N."""
    x = np.ascontiguousarray(np.asarray(logits, dtype=np.float64))
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"logits must be a non-empty 2-D array (N, C), got shape {x.shape}")
    _finite("logits", x)
    y = check_labels(labels, x.shape[0], x.shape[1])
    dx = np.empty_like(x)
    loss = _ce_kernel(x, y, dx)
    return float(loss), dx
