"""2-D convolution layers: conv2d (cross-correlation, as PyTorch), its backward, padding modes,
and the notes' flipped-kernel convolve2d."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.vision import _conv_kernels as _k
from core.vision._checks import as_array, as_pair, check_size

PADDING_MODES = ("zeros", "replicate", "reflect", "circular")
METHODS = ("auto", "direct", "im2col")


def pad_indices(n: int, p: int, mode: str) -> np.ndarray:
    """For each of the n + 2p padded positions, the source index in [0, n), or -1 for a zero.

    zeros: -1 outside; replicate: the nearest edge; reflect: mirrored without repeating the edge
    (needs p < n); circular: wrapped around (needs p <= n).
    """
    idx = np.arange(-p, n + p, dtype=np.int64)
    if mode == "zeros":
        return np.where((idx >= 0) & (idx < n), idx, -1)
    if mode == "replicate":
        return np.clip(idx, 0, n - 1)
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(idx)
        period = 2 * (n - 1)
        m = np.mod(idx, period)
        return np.where(m < n, m, period - m)
    if mode == "circular":
        return np.mod(idx, n)
    raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}; got {mode!r}")


def _check_mode(mode: str, h: int, w: int, ph: int, pw: int) -> None:
    if mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}; got {mode!r}")
    if mode == "reflect" and (ph >= h or pw >= w) and (ph or pw):
        raise ValueError(
            f"reflect padding must be smaller than the input: padding ({ph}, {pw}), input {h}x{w}"
        )
    if mode == "circular" and (ph > h or pw > w):
        raise ValueError(
            f"circular padding must be at most the input size: padding ({ph}, {pw}), input {h}x{w}"
        )


def pad2d(x, padding, mode: str = "zeros") -> np.ndarray:
    """Pad the last two axes of x (N, C, H, W) by `padding` (int or (rows, cols)) with `mode`."""
    x = as_array(x, "x", 4)
    ph, pw = as_pair(padding, "padding", 0)
    _check_mode(mode, x.shape[2], x.shape[3], ph, pw)
    return _pad(x, ph, pw, mode)


def _pad(x: np.ndarray, ph: int, pw: int, mode: str) -> np.ndarray:
    N, C, H, W = x.shape
    check_size((N, C, H + 2 * ph, W + 2 * pw), "the padded input")
    out = np.empty((N, C, H + 2 * ph, W + 2 * pw))
    _k._gather_pad(x, pad_indices(H, ph, mode), pad_indices(W, pw, mode), out)
    return out


def _output_hw(H, W, KH, KW, sh, sw, ph, pw) -> tuple[int, int]:
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(
            f"the kernel ({KH}x{KW}) is larger than the padded input "
            f"({H + 2 * ph}x{W + 2 * pw}); use a smaller kernel or more padding"
        )
    return (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


def _validate(x, w, b, stride, padding, padding_mode, method):
    x = as_array(x, "x", 4)
    w = as_array(w, "w", 4)
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w has {w.shape[1]} input channels but x has {x.shape[1]}: "
            f"expected w of shape (C_out, {x.shape[1]}, K, K), got {w.shape}"
        )
    if 0 in w.shape or 0 in x.shape:
        raise ValueError(f"empty arrays: x {x.shape}, w {w.shape}")
    if b is None:
        b = np.zeros(w.shape[0])
    else:
        b = as_array(b, "b", 1)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape ({w.shape[0]},) (one per kernel), got {b.shape}")
    sh, sw = as_pair(stride, "stride", 1)
    ph, pw = as_pair(padding, "padding", 0)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    _check_mode(padding_mode, x.shape[2], x.shape[3], ph, pw)
    OH, OW = _output_hw(x.shape[2], x.shape[3], w.shape[2], w.shape[3], sh, sw, ph, pw)
    check_size((x.shape[0], w.shape[0], OH, OW), "the output")
    return x, w, b, sh, sw, ph, pw, OH, OW


#: The largest im2col matrix (elements) built; beyond it the direct loops run (no extra memory).
_IM2COL_LIMIT = 1 << 25


#: Threads that share the im2col / col2im copies of large batches (the kernels release the GIL;
#: BLAS threads the matrix products itself).
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None


#: Work (multiply-adds, roughly) below which a batch is not split across threads.
_SPLIT_WORK = 1 << 18
#: Fewest samples a thread gets: on the busy 2-core box, waking a thread for 2-4 samples cost
#: more than it saved (forward + backward, median: (4, 1, 32, 32) x 6x5x5 0.32 -> 0.22 ms,
#: (8, 8, 28, 28) x 8x8x3x3 1.98 -> 1.37 ms with this floor; batches of 16+ unchanged).
_MIN_SLICE = 8


def _pool() -> ThreadPoolExecutor:
    """The conv threads, started on first use."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="conv2d")
    return _POOL


def _batch_bounds(N: int, work: int) -> list[int]:
    """Slice bounds 0 = b₀ < b₁ < … = N of a batch: up to _THREADS slices of at least
    _MIN_SLICE samples when there is enough work, else one."""
    parts = max(1, min(_THREADS, N // _MIN_SLICE)) if work >= _SPLIT_WORK else 1
    return [N * k // parts for k in range(parts + 1)]


def _run_slices(fn, arg_lists) -> None:
    """fn(*args) for each argument tuple, in the thread pool when there are several."""
    if len(arg_lists) == 1:
        fn(*arg_lists[0])
        return
    for f in [_pool().submit(fn, *args) for args in arg_lists]:
        f.result()


def _split_batch(fn, N: int, work: int, *args) -> None:
    """Run fn(*args, n0, n1) over [0, N), in up to _THREADS slices when there is enough work."""
    bounds = _batch_bounds(N, work)
    _run_slices(fn, [(*args, a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a])


#: Patches with at most this many taps (C·K·K) go to the direct loops (benchmarks/vision.py:
#: they win on one-channel inputs such as (64, 1, 32, 32) x 5x5, im2col + BLAS on 6 x 5x5).
_DIRECT_TAPS = 32


def _direct_bwd_split(dout, xp, w, sh, sw, dxp, work: int) -> np.ndarray:
    """The direct backward over slices of the batch in threads, each with its own dw."""
    bounds = _batch_bounds(xp.shape[0], work)
    dws = [np.zeros(w.shape) for _ in bounds[1:]]
    _run_slices(_k._conv2d_direct_bwd, [(dout, xp, w, sh, sw, dxp, dws[k], bounds[k], bounds[k + 1])
                                        for k in range(len(dws))])
    return dws[0] if len(dws) == 1 else np.sum(dws, axis=0)


#: Elements of one chunk of per-sample patch matrices (512 KB): small enough to stay in L2
#: between the im2col copy and the matrix product that reads it.
_CHUNK_ELEMS = 1 << 16


def _im2col_gemm(xp, w2, KH, KW, sh, sw, OH, OW, out, n0: int, n1: int) -> None:
    """out[n] = w2 @ patches(xp[n]) for n0 ≤ n < n1, a few samples at a time.

    Building the whole (C·K·K, N·OH·OW) matrix first sent it through main memory twice (the
    copy, then BLAS) and needed a transpose of the output; per chunk, both stay in cache and
    `np.matmul` writes each sample's (C_out, OH·OW) block in place (it releases the GIL, so
    threads can share a batch).
    """
    taps, P = w2.shape[1], OH * OW
    nb = max(1, min(n1 - n0, _CHUNK_ELEMS // max(taps * P, 1)))
    cols = np.empty((nb, taps, P))
    for a in range(n0, n1, nb):
        e = min(n1, a + nb)
        chunk = cols[: e - a]
        _k._im2col_batched(xp, KH, KW, sh, sw, OH, OW, chunk, a, e)
        np.matmul(w2, chunk, out=out[a:e])


def _im2col_gemm_bwd(xp, w2t, g, KH, KW, sh, sw, OH, OW, dxp, dw2, n0: int, n1: int) -> None:
    """The backward of `_im2col_gemm` for samples n0 ≤ n < n1, chunk by chunk: dw2 (C_out,
    C·K·K) += Σ_n g[n] @ patches[n]ᵀ and dxp += col2im(w2ᵀ @ g[n]); g is dout (N, C_out, OH·OW)."""
    taps, P = w2t.shape[0], OH * OW
    nb = max(1, min(n1 - n0, _CHUNK_ELEMS // max(taps * P, 1)))
    cols, dcols = np.empty((nb, taps, P)), np.empty((nb, taps, P))
    for a in range(n0, n1, nb):
        e = min(n1, a + nb)
        chunk, dchunk = cols[: e - a], dcols[: e - a]
        _k._im2col_batched(xp, KH, KW, sh, sw, OH, OW, chunk, a, e)
        dw2 += np.matmul(g[a:e], chunk.transpose(0, 2, 1)).sum(axis=0)
        np.matmul(w2t, g[a:e], out=dchunk)
        _k._col2im_batched(dchunk, KH, KW, sh, sw, OH, OW, dxp, a, e)


def _use_im2col(w: np.ndarray, taps: int, positions: int, method: str) -> bool:
    """Direct loops for small patches (and for patch matrices too large to build), im2col +
    BLAS for many taps per output."""
    if method != "auto":
        return method == "im2col"
    return taps > _DIRECT_TAPS and taps * positions <= _IM2COL_LIMIT


def conv2d(x, w, b=None, stride=1, padding=0, *, padding_mode: str = "zeros", method: str = "auto"):
    """Cross-correlation of x (N, C, H, W) with kernels w (C_out, C, K, K) -> (N, C_out, H', W').

    y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v w[o, c, u, v] · x[n, c, i·S + u - P, j·S + v - P],
    exactly `torch.nn.functional.conv2d`; H' = ⌊(H - K + 2P) / S⌋ + 1 (notes 4.2.3).
    `stride` and `padding` take an int or a (rows, cols) pair; `padding_mode` is zeros,
    replicate, reflect or circular (as `torch.nn.Conv2d`). `method` picks the kernel
    (im2col + BLAS, direct loops, or auto by size); all give the same values.
    """
    x, w, b, sh, sw, ph, pw, OH, OW = _validate(x, w, b, stride, padding, padding_mode, method)
    xp = _pad(x, ph, pw, padding_mode) if (ph or pw) else x
    N = x.shape[0]
    CO, C, KH, KW = w.shape
    taps, positions = C * KH * KW, N * OH * OW
    if _use_im2col(w, taps, positions, method):
        check_size((taps, positions), "the im2col matrix")
        out = np.empty((N, CO, OH * OW))
        _split_batch(_im2col_gemm, N, taps * positions, xp, w.reshape(CO, taps), KH, KW, sh, sw, OH, OW, out)
        out += b[None, :, None]
        return out.reshape(N, CO, OH, OW)
    out = np.empty((N, CO, OH, OW))
    _split_batch(_k._conv2d_direct, N, taps * positions * CO, xp, w, b, sh, sw, out)
    return out


def conv2d_backward(
    dout, x, w, stride=1, padding=0, *, padding_mode: str = "zeros", method: str = "auto"
):
    """Gradients of `conv2d` given dL/dy `dout` (N, C_out, H', W') -> (dx, dw, db).

    dw[o, c, u, v] = Σ_n Σ_i Σ_j dout[n, o, i, j] · x[n, c, i·S + u - P, j·S + v - P],
    db[o] = Σ dout[:, o], and dx is the transposed convolution of dout with w (the padding's
    gradient is folded back onto the pixels it copied).
    """
    x, w, _, sh, sw, ph, pw, OH, OW = _validate(x, w, None, stride, padding, padding_mode, method)
    dout = as_array(dout, "dout", 4)
    N, C, H, W = x.shape
    CO, _, KH, KW = w.shape
    if dout.shape != (N, CO, OH, OW):
        raise ValueError(f"dout must have the output's shape {(N, CO, OH, OW)}, got {dout.shape}")
    xp = _pad(x, ph, pw, padding_mode) if (ph or pw) else x
    db = dout.sum(axis=(0, 2, 3))
    dxp = np.zeros(xp.shape)
    taps, positions = C * KH * KW, N * OH * OW
    if _use_im2col(w, taps, positions, method):
        check_size((taps, positions), "the im2col matrix")
        g = dout.reshape(N, CO, OH * OW)
        w2t = np.ascontiguousarray(w.reshape(CO, taps).T)
        bounds = _batch_bounds(N, taps * positions)
        dws = [np.zeros((CO, taps)) for _ in bounds[1:]]
        args = (xp, w2t, g, KH, KW, sh, sw, OH, OW, dxp)
        _run_slices(_im2col_gemm_bwd, [(*args, dws[k], bounds[k], bounds[k + 1]) for k in range(len(dws))])
        dw = (dws[0] if len(dws) == 1 else np.sum(dws, axis=0)).reshape(w.shape)
    else:
        dw = _direct_bwd_split(dout, xp, w, sh, sw, dxp, taps * positions * CO)
    if not (ph or pw):
        return dxp, dw, db
    dx = np.zeros((N, C, H, W))
    _k._scatter_pad(dxp, pad_indices(H, ph, padding_mode), pad_indices(W, pw, padding_mode), dx)
    return dx, dw, db


def convolve2d(image, kernel) -> np.ndarray:
    """The notes' convolution (4.2.1) of a 2-D image with a 2-D kernel, "valid" output.

    out[i, j] = Σ_u Σ_v k[K-1-u, L-1-v] · image[i + u, j + v]: the kernel is flipped, so this
    equals `conv2d` (cross-correlation) with the kernel rotated by 180°.
    """
    image = as_array(image, "image", 2)
    kernel = as_array(kernel, "kernel", 2)
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])
    return conv2d(image[None, None], flipped[None, None])[0, 0]
