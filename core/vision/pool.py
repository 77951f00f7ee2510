"""Pooling layers (notes 4.3): max and average pooling over K x K windows, and their backward."""

from __future__ import annotations

import numpy as np

from core._jit import kernel
from core.vision._checks import as_array, as_pair, check_size


def _ex_fwd():
    return (np.zeros((1, 1, 4, 4)), 2, 2, 2, 2, 0, 0, np.zeros((1, 1, 2, 2)))


def _ex_max():
    x, out = np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2))
    return (x, 2, 2, 2, 2, 0, 0, out, np.zeros((1, 1, 2, 2), dtype=np.int64))


def _ex_max_bwd():
    return (np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), dtype=np.int64), np.zeros((1, 1, 4, 4)))


def _ex_avg_bwd():
    return (np.zeros((1, 1, 2, 2)), 2, 2, 2, 2, 0, 0, np.zeros((1, 1, 4, 4)))


@kernel(example=_ex_max)
def _max_pool_fwd(x, KH, KW, sh, sw, ph, pw, out, argmax):
    """out[n, c, i, j] = max of x[n, c] over the window at (i·sh - ph, j·sw - pw), padding = -∞.

    argmax holds the flat index r·W + s of the winner (the first in row-major order on ties;
    a NaN wins, the last one if several, exactly as PyTorch's CPU kernel).
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                r0 = max(i * sh - ph, 0)
                r1 = min(i * sh - ph + KH, H)
                for j in range(OW):
                    s0 = max(j * sw - pw, 0)
                    s1 = min(j * sw - pw + KW, W)
                    best = -np.inf
                    where = r0 * W + s0
                    for r in range(r0, r1):
                        for s in range(s0, s1):
                            v = x[n, c, r, s]
                            if v > best or np.isnan(v):
                                best = v
                                where = r * W + s
                    out[n, c, i, j] = best
                    argmax[n, c, i, j] = where


@kernel(example=_ex_max_bwd)
def _max_pool_bwd(dout, argmax, dx):
    """dx[n, c].flat[argmax[n, c, i, j]] += dout[n, c, i, j]: each window's gradient goes to its max."""
    N, C, OH, OW = dout.shape
    W = dx.shape[3]
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    k = argmax[n, c, i, j]
                    dx[n, c, k // W, k % W] += dout[n, c, i, j]


@kernel(example=_ex_fwd)
def _avg_pool_fwd(x, KH, KW, sh, sw, ph, pw, out):
    """out[n, c, i, j] = (1 / KH·KW) Σ over the window (zero padding counted, as PyTorch's default)."""
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    scale = 1.0 / (KH * KW)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                r0 = max(i * sh - ph, 0)
                r1 = min(i * sh - ph + KH, H)
                for j in range(OW):
                    s0 = max(j * sw - pw, 0)
                    s1 = min(j * sw - pw + KW, W)
                    acc = 0.0
                    for r in range(r0, r1):
                        for s in range(s0, s1):
                            acc += x[n, c, r, s]
                    out[n, c, i, j] = acc * scale


@kernel(example=_ex_avg_bwd)
def _avg_pool_bwd(dout, KH, KW, sh, sw, ph, pw, dx):
    """dx[n, c, r, s] += dout[n, c, i, j] / (KH·KW) for every window (i, j) containing (r, s)."""
    N, C, H, W = dx.shape
    OH, OW = dout.shape[2], dout.shape[3]
    scale = 1.0 / (KH * KW)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                r0 = max(i * sh - ph, 0)
                r1 = min(i * sh - ph + KH, H)
                for j in range(OW):
                    s0 = max(j * sw - pw, 0)
                    s1 = min(j * sw - pw + KW, W)
                    g = dout[n, c, i, j] * scale
                    for r in range(r0, r1):
                        for s in range(s0, s1):
                            dx[n, c, r, s] += g


def _validate(x, kernel_size, stride, padding):
    x = as_array(x, "x", 4)
    if 0 in x.shape:
        raise ValueError(f"x must not be empty, got shape {x.shape}")
    KH, KW = as_pair(kernel_size, "kernel_size", 1)
    sh, sw = (KH, KW) if stride is None else as_pair(stride, "stride", 1)
    ph, pw = as_pair(padding, "padding", 0)
    if 2 * ph > KH or 2 * pw > KW:
        raise ValueError(
            f"padding must be at most half the kernel size: padding ({ph}, {pw}), "
            f"kernel {KH}x{KW}"
        )
    H, W = x.shape[2], x.shape[3]
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(
            f"the pooling window ({KH}x{KW}) is larger than the padded input ({H + 2 * ph}x{W + 2 * pw})"
        )
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    check_size((x.shape[0], x.shape[1], OH, OW), "the output")
    return x, KH, KW, sh, sw, ph, pw, OH, OW


def _check_dout(dout, shape):
    dout = as_array(dout, "dout", 4)
    if dout.shape != shape:
        raise ValueError(f"dout must have the output's shape {shape}, got {dout.shape}")
    return dout


def max_pool2d_with_indices(x, kernel_size, stride=None, padding=0):
    """`max_pool2d` and the flat index (r·W + s) of each window's maximum in its channel."""
    x, KH, KW, sh, sw, ph, pw, OH, OW = _validate(x, kernel_size, stride, padding)
    out = np.empty((x.shape[0], x.shape[1], OH, OW))
    argmax = np.empty(out.shape, dtype=np.int64)
    _max_pool_fwd(x, KH, KW, sh, sw, ph, pw, out, argmax)
    return out, argmax


def max_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Max pooling of x (N, C, H, W) -> (N, C, H', W'), notes 4.3.2: max_P over each K x K window.

    `stride` defaults to `kernel_size`; padding counts as -∞ (at most half the kernel), as in
    `torch.nn.functional.max_pool2d`.
    """
    return max_pool2d_with_indices(x, kernel_size, stride, padding)[0]


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """dL/dx of `max_pool2d`: each window routes its gradient to the position of its maximum."""
    out, argmax = max_pool2d_with_indices(x, kernel_size, stride, padding)
    dout = _check_dout(dout, out.shape)
    dx = np.zeros(np.shape(x), dtype=np.float64)
    _max_pool_bwd(dout, argmax, dx)
    return dx


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Average pooling of x (N, C, H, W), notes 4.3.3: (1/K²) Σ over each K x K window.

    As `torch.nn.functional.avg_pool2d` with its defaults (padding counts as zeros in the mean).
    """
    x, KH, KW, sh, sw, ph, pw, OH, OW = _validate(x, kernel_size, stride, padding)
    out = np.empty((x.shape[0], x.shape[1], OH, OW))
    _avg_pool_fwd(x, KH, KW, sh, sw, ph, pw, out)
    return out


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """dL/dx of `avg_pool2d`: each window spreads its gradient evenly, 1/K² to each pixel."""
    x, KH, KW, sh, sw, ph, pw, OH, OW = _validate(x, kernel_size, stride, padding)
    dout = _check_dout(dout, (x.shape[0], x.shape[1], OH, OW))
    dx = np.zeros(x.shape)
    _avg_pool_bwd(dout, KH, KW, sh, sw, ph, pw, dx)
    return dx
