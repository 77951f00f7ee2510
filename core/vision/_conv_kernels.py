"""numba kernels of 2-D cross-correlation: per-sample im2col / col2im, direct loops, padding maps.

Every kernel here works on an input that is already padded (the wrappers pad with
`_gather_pad`), so the loops have no bounds tests and index with plain non-negative
expressions, which is what lets LLVM vectorize them.
"""

from __future__ import annotations

import numpy as np

from core._jit import kernel


def _ex_direct():
    x, w = np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3))
    return (x, w, np.zeros(1), 1, 1, np.zeros((1, 1, 2, 2)), 0, 1)


def _ex_direct_bwd():
    x, w = np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3))
    return (np.zeros((1, 1, 2, 2)), x, w, 1, 1, np.zeros_like(x), np.zeros_like(w), 0, 1)


def _ex_im2col_batched():
    return (np.zeros((1, 1, 4, 4)), 3, 3, 1, 1, 2, 2, np.zeros((1, 9, 4)), 0, 1)


def _ex_col2im_batched():
    return (np.zeros((1, 9, 4)), 3, 3, 1, 1, 2, 2, np.zeros((1, 1, 4, 4)), 0, 1)


def _ex_pad():
    idx = np.array([-1, 0, 1, -1], dtype=np.int64)
    return (np.zeros((1, 1, 2, 2)), idx, idx, np.zeros((1, 1, 4, 4)))


def _ex_unpad():
    idx = np.array([-1, 0, 1, -1], dtype=np.int64)
    return (np.zeros((1, 1, 4, 4)), idx, idx, np.zeros((1, 1, 2, 2)))


@kernel(example=_ex_im2col_batched)
def _im2col_batched(xp, KH, KW, sh, sw, OH, OW, cols, n0, n1):
    """cols[n − n0, (c·KH + u)·KW + v, i·OW + j] = xp[n, c, i·sh + u, j·sw + v], n0 ≤ n < n1.

    One (C·KH·KW, OH·OW) patch matrix per sample, for a chunk of samples small enough to stay
    in L2: `np.matmul(w2, cols, out=y[n0:n1])` then writes the output in (N, C_out, OH·OW)
    order directly, with no transpose and no pass through main memory.
    """
    C = xp.shape[1]
    for n in range(n0, n1):
        for c in range(C):
            for u in range(KH):
                for v in range(KW):
                    t = (c * KH + u) * KW + v
                    for i in range(OH):
                        r = i * sh + u
                        if sw == 1:
                            for j in range(OW):
                                cols[n - n0, t, i * OW + j] = xp[n, c, r, j + v]
                        else:
                            for j in range(OW):
                                cols[n - n0, t, i * OW + j] = xp[n, c, r, j * sw + v]


@kernel(example=_ex_col2im_batched)
def _col2im_batched(dcols, KH, KW, sh, sw, OH, OW, dxp, n0, n1):
    """The adjoint of `_im2col_batched`: dxp[n, c, i·sh + u, j·sw + v] += dcols[n − n0, t, i·OW + j]."""
    C = dxp.shape[1]
    for n in range(n0, n1):
        for c in range(C):
            for u in range(KH):
                for v in range(KW):
                    t = (c * KH + u) * KW + v
                    for i in range(OH):
                        r = i * sh + u
                        if sw == 1:
                            for j in range(OW):
                                dxp[n, c, r, j + v] += dcols[n - n0, t, i * OW + j]
                        else:
                            for j in range(OW):
                                dxp[n, c, r, j * sw + v] += dcols[n - n0, t, i * OW + j]


@kernel(example=_ex_direct, fastmath={"contract"})
def _conv2d_direct(xp, w, b, sh, sw, out, n0, n1):
    """out[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v w[o, c, u, v] · xp[n, c, i·sh + u, j·sw + v].

    xp (N, C, Hp, Wp) padded input, w (C_out, C, KH, KW), b (C_out,), out (N, C_out, OH, OW).
    One output row of every kernel is accumulated in a small buffer (C_out x OW, in L1) while
    each input row is read once per tap: the inner loop is a contiguous axpy that vectorizes
    for stride 1. Best when a patch has few taps (one channel, small K); needs no big matrix.
    """
    C = xp.shape[1]
    CO, _, KH, KW = w.shape
    OH, OW = out.shape[2], out.shape[3]
    acc = np.empty((CO, OW))
    for n in range(n0, n1):
        for i in range(OH):
            for o in range(CO):
                for j in range(OW):
                    acc[o, j] = b[o]
            for c in range(C):
                for u in range(KH):
                    xrow = xp[n, c, i * sh + u]
                    for v in range(KW):
                        for o in range(CO):
                            wv = w[o, c, u, v]
                            if sw == 1:
                                for j in range(OW):
                                    acc[o, j] += wv * xrow[j + v]
                            else:
                                for j in range(OW):
                                    acc[o, j] += wv * xrow[j * sw + v]
            for o in range(CO):
                for j in range(OW):
                    out[n, o, i, j] = acc[o, j]


@kernel(example=_ex_direct_bwd, fastmath={"contract", "reassoc"})
def _conv2d_direct_bwd(dout, xp, w, sh, sw, dxp, dw, n0, n1):
    """Accumulate dxp (N, C, Hp, Wp) and dw (C_out, C, KH, KW) from dout (N, C_out, OH, OW).

    dw[o, c, u, v] = Σ_n Σ_i Σ_j dout[n, o, i, j] · xp[n, c, i·sh + u, j·sw + v] and
    dxp[n, c, i·sh + u, j·sw + v] += dout[n, o, i, j] · w[o, c, u, v], row by row as the forward,
    for samples n0 ≤ n < n1 (threads splitting a batch each pass their own dw).
    """
    C = xp.shape[1]
    CO, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    for n in range(n0, n1):
        for i in range(OH):
            for c in range(C):
                for u in range(KH):
                    xrow = xp[n, c, i * sh + u]
                    dxrow = dxp[n, c, i * sh + u]
                    for o in range(CO):
                        g = dout[n, o, i]
                        for v in range(KW):
                            wv = w[o, c, u, v]
                            acc = 0.0
                            if sw == 1:
                                for j in range(OW):
                                    acc += g[j] * xrow[j + v]
                                    dxrow[j + v] += wv * g[j]
                            else:
                                for j in range(OW):
                                    acc += g[j] * xrow[j * sw + v]
                                    dxrow[j * sw + v] += wv * g[j]
                            dw[o, c, u, v] += acc


@kernel(example=_ex_pad)
def _gather_pad(x, rows, cols, out):
    """out[n, c, i, j] = x[n, c, rows[i], cols[j]], or 0 where rows[i] or cols[j] is -1."""
    N, C = x.shape[0], x.shape[1]
    for n in range(N):
        for c in range(C):
            for i in range(rows.shape[0]):
                r = rows[i]
                for j in range(cols.shape[0]):
                    s = cols[j]
                    out[n, c, i, j] = x[n, c, r, s] if (r >= 0 and s >= 0) else 0.0


@kernel(example=_ex_unpad)
def _scatter_pad(dpadded, rows, cols, dx):
    """The adjoint of `_gather_pad`: dx[n, c, rows[i], cols[j]] += dpadded[n, c, i, j]."""
    N, C = dx.shape[0], dx.shape[1]
    for n in range(N):
        for c in range(C):
            for i in range(rows.shape[0]):
                r = rows[i]
                if r < 0:
                    continue
                for j in range(cols.shape[0]):
                    s = cols[j]
                    if s >= 0:
                        dx[n, c, r, s] += dpadded[n, c, i, j]
