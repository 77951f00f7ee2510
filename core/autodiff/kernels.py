"""The tape's numba kernels: forward, backward, ancestor marking, batched forward.

Each walks the tape arrays in order (no recursion): op, in0, in1 (n,) int64 and const (n,)
float64, as built by `tape.Graph`. They never raise: IEEE arithmetic (error_model="numpy").
"""

from __future__ import annotations

import numpy as np

from core._jit import kernel
from core.autodiff.ops import CONST, INPUT, MUL, apply_op


def _tiny_tape():
    """x, 2.0, x * 2.0 as tape arrays (for compiling the kernels)."""
    op = np.array([INPUT, CONST, MUL], dtype=np.int64)
    in0 = np.array([-1, -1, 0], dtype=np.int64)
    in1 = np.array([-1, -1, 1], dtype=np.int64)
    const = np.array([0.0, 2.0, 0.0])
    return op, in0, in1, const


def _forward_example():
    op, in0, in1, const = _tiny_tape()
    return (op, in0, in1, const, np.ones(1), np.zeros(3), np.zeros((3, 2)), 2)


def _backward_example():
    op, in0, in1, _ = _tiny_tape()
    return (op, in0, in1, np.ones((3, 2)), np.zeros(3), np.zeros(3, dtype=np.int64), 2)


def _batch_example():
    op, in0, in1, const = _tiny_tape()
    return (op, in0, in1, const, np.ones((2, 1)), 2)


@kernel(example=_forward_example, error_model="numpy")
def _forward(op, in0, in1, const, xs, value, local, out):
    """Forward pass over tape nodes 0..out: value[i] and local[i, k] = ∂value[i]/∂(input k).

    op, in0, in1 (n,) int64: op codes and input node indices (-1: none); const (n,): a
    constant's value, POW's exponent, or an INPUT's slot in xs (k,); value (n,), local (n, 2).
    """
    for i in range(out + 1):
        code = op[i]
        if code == INPUT:
            value[i] = xs[np.int64(const[i])]
            local[i, 0] = 0.0
            local[i, 1] = 0.0
        elif code == CONST:
            value[i] = const[i]
            local[i, 0] = 0.0
            local[i, 1] = 0.0
        else:
            a = value[in0[i]]
            b = value[in1[i]] if in1[i] >= 0 else 0.0
            v, ga, gb = apply_op(code, a, b, const[i])
            value[i] = v
            local[i, 0] = ga
            local[i, 1] = gb


@kernel(example=_backward_example, error_model="numpy")
def _backward(op, in0, in1, local, grad, mark, out):
    """Backward pass: grad[i] = ∂value[out]/∂value[i], accumulated over every in-edge.

    Walks the tape from `out` down, only through ancestors of `out` (mark[i] = 1), so a node
    the output does not use never contributes (not even 0 · inf = nan). For each edge i -> j:
    downstream grad[j] += upstream grad[i] × local[i, k].
    """
    grad[:] = 0.0
    mark[:] = 0
    grad[out] = 1.0
    mark[out] = 1
    for i in range(out, -1, -1):
        if mark[i] == 0 or op[i] == INPUT or op[i] == CONST:
            continue
        g = grad[i]
        j = in0[i]
        grad[j] += g * local[i, 0]
        mark[j] = 1
        j = in1[i]
        if j >= 0:
            grad[j] += g * local[i, 1]
            mark[j] = 1


def _ancestors_example():
    op, in0, in1, _ = _tiny_tape()
    return (op, in0, in1, np.zeros(3, dtype=np.int64), 2)


@kernel(example=_ancestors_example)
def _mark_ancestors(op, in0, in1, mark, out):
    """mark[i] = 1 for every node `out` depends on (itself included), else 0: one reverse sweep."""
    mark[:] = 0
    mark[out] = 1
    for i in range(out, -1, -1):
        if mark[i] == 1 and op[i] != INPUT and op[i] != CONST:
            mark[in0[i]] = 1
            if in1[i] >= 0:
                mark[in1[i]] = 1


@kernel(example=_batch_example, error_model="numpy")
def _forward_batch(op, in0, in1, const, xs, out):
    """value[out] for every row of xs (B, k) of input values: (B,). For finite differences."""
    rows = xs.shape[0]
    result = np.empty(rows)
    value = np.empty(out + 1)
    for r in range(rows):
        for i in range(out + 1):
            code = op[i]
            if code == INPUT:
                value[i] = xs[r, np.int64(const[i])]
            elif code == CONST:
                value[i] = const[i]
            else:
                b = value[in1[i]] if in1[i] >= 0 else 0.0
                value[i] = apply_op(code, value[in0[i]], b, const[i])[0]
        result[r] = value[out]
    return result
