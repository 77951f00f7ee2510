"""Attention as PyTorch documents it, in plain NumPy: masks, softmax, scaled dot-product
attention, the sinusoidal positional encoding and the √d experiment (no Textual, no core)."""

from __future__ import annotations

import numpy as np


def softmax(s: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(sᵢ − max s) / Σⱼ exp(sⱼ − max s) along `axis`; −inf entries get weight 0 (a row that
    is all −inf gives NaN, as torch.softmax does)."""
    s = np.asarray(s, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        m = np.max(s, axis=axis, keepdims=True)
        e = np.exp(s - m)
        return e / np.sum(e, axis=axis, keepdims=True)


def causal_mask(t: int) -> np.ndarray:
    """(t, t) bool, True where query i may attend to key j (j ≤ i): torch's `is_causal`."""
    return np.tril(np.ones((t, t), dtype=bool))


def padding_mask(t: int, pad: int) -> np.ndarray:
    """(t, t) bool, True where key j is a real token (the last `pad` keys are padding)."""
    keep = np.arange(t) < t - pad
    return np.broadcast_to(keep[None, :], (t, t)).copy()


def lab_mask(t: int, causal: bool, pad: int) -> np.ndarray:
    """The lab's mask: causal and/or padding, combined with `and` (True: may attend)."""
    mask = np.ones((t, t), dtype=bool)
    if causal:
        mask &= causal_mask(t)
    if pad:
        mask &= padding_mask(t, pad)
    return mask


def scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal=False):
    """softmax(QKᵀ/√d + M) V as `torch.nn.functional.scaled_dot_product_attention` documents it.

    q (..., L, d), k (..., S, d), v (..., S, d_v); `attn_mask` bool (True: may attend) or float
    (added to the scores), broadcast to (..., L, S). Returns (output (..., L, d_v), weights).
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    bias = np.zeros(scores.shape[-2:])
    if is_causal:
        bias = np.where(np.tril(np.ones(bias.shape, dtype=bool)), 0.0, -np.inf)
    if attn_mask is not None:
        m = np.asarray(attn_mask)
        bias = bias + (np.where(m, 0.0, -np.inf) if m.dtype == bool else m.astype(np.float64))
    weights = softmax(scores + bias, axis=-1)
    return weights @ v, weights


def positional_encoding(length: int, d: int) -> np.ndarray:
    """(length, d): PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(same angle)
    (Vaswani et al. 2017, section 3.5)."""
    pos = np.arange(length, dtype=np.float64)[:, None]
    i2 = np.arange(0, d, 2, dtype=np.float64)[None, :]
    angle = pos / 10000.0 ** (i2 / d)
    pe = np.zeros((length, d))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d // 2])
    return pe


def saturation(d: int, t: int = 8, samples: int = 200, seed: int = 0) -> dict[str, float]:
    """Random q, k with N(0, 1) entries in dimension d, t keys: how peaked softmax(q·k) gets.

    Returns the standard deviation of the scores q·k (≈ √d) and the mean largest softmax
    weight with and without the 1/√d scaling (1/t is uniform; 1 is one-hot, saturated).
    """
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((samples, 1, d))
    k = rng.standard_normal((samples, t, d))
    s = (q @ np.swapaxes(k, 1, 2))[:, 0, :]  # (samples, t)
    raw = softmax(s).max(axis=1).mean()
    scaled = softmax(s / np.sqrt(d)).max(axis=1).mean()
    return {"std": float(s.std()), "max_raw": float(raw), "max_scaled": float(scaled)}


def softmax_jacobian_norm(p: np.ndarray) -> float:
    """Largest |∂pᵢ/∂sⱼ| = |pᵢ(δᵢⱼ − pⱼ)| of one softmax row p: near 0 once p is one-hot, so a
    saturated softmax passes almost no gradient back."""
    p = np.asarray(p, dtype=np.float64)
    return float(np.max(np.abs(np.diag(p) - np.outer(p, p))))
