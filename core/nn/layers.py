"""Layer primitives of a multi-layer perceptron: each a numba forward and its hand-written backward.

Every backward follows the modularity of notes 2.4.4: it receives the upstream gradient
∂L/∂out and returns the downstream gradients (∂L/∂x, and ∂L/∂W, ∂L/∂b for a linear layer)
from local information only. The `_..._fwd` / `_..._bwd` helpers are what the fused network
kernels in `core.nn.mlp` compose; the public wrappers below validate and call them.
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import jit, kernel

#: Activation names and the integer codes the kernels dispatch on.
ACTIVATIONS = {"relu": 0, "tanh": 1, "sigmoid": 2}

#: The matrix loops may reorder their sums (so they vectorise) and fuse multiply-adds; NaN and
#: infinity keep their IEEE meaning (no "nnan"/"ninf"), so divergence is still detected.
_MATMUL_MATH = {"reassoc", "contract"}


# --- linear layer: out = x Wᵀ + b ---------------------------------------------------------------
@jit(fastmath=_MATMUL_MATH)
def _linear_fwd(x, w, b, out):
    """x (N, in), w (out, in), b (out,) -> out (N, out) = x Wᵀ + b, written in place."""
    n, d_in = x.shape
    d_out = w.shape[0]
    for i in range(n):
        for o in range(d_out):
            acc = b[o]
            for k in range(d_in):
                acc += x[i, k] * w[o, k]
            out[i, o] = acc


@jit(fastmath=_MATMUL_MATH)
def _linear_bwd(dout, x, w, dx, dw, db, need_dx):
    """Upstream dout (N, out) -> dW = doutᵀ x (out, in), db = Σₙ dout, dx = dout W (N, in)."""
    n, d_in = x.shape
    d_out = w.shape[0]
    dw[:, :] = 0.0
    db[:] = 0.0
    if need_dx:
        dx[:, :] = 0.0
    for i in range(n):
        for o in range(d_out):
            g = dout[i, o]
            db[o] += g
            for k in range(d_in):
                dw[o, k] += g * x[i, k]
            if need_dx:
                for k in range(d_in):
                    dx[i, k] += g * w[o, k]


# --- activations, element-wise -----------------------------------------------------------------
@jit
def _sigmoid(z):
    """σ(z) = 1 / (1 + e^(-z)), computed without overflow for large |z|."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@jit
def _act_fwd(z, code, out):
    """out = act(z) element-wise for 2-D z; code 0 ReLU, 1 tanh, 2 sigmoid."""
    n, d = z.shape
    for i in range(n):
        for j in range(d):
            v = z[i, j]
            if code == 0:
                out[i, j] = v if v > 0.0 else 0.0
            elif code == 1:
                out[i, j] = math.tanh(v)
            else:
                out[i, j] = _sigmoid(v)


@jit
def _act_bwd(dout, z, a, code, dz):
    """dz = dout · act'(z): ReLU 1[z > 0], tanh 1 - a², sigmoid a (1 - a), with a = act(z)."""
    n, d = z.shape
    for i in range(n):
        for j in range(d):
            if code == 0:
                local = 1.0 if z[i, j] > 0.0 else 0.0
            elif code == 1:
                local = 1.0 - a[i, j] * a[i, j]
            else:
                local = a[i, j] * (1.0 - a[i, j])
            dz[i, j] = dout[i, j] * local


# --- registered kernels behind the public wrappers ----------------------------------------------
def _ex_linear():
    return (np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(4), np.zeros((2, 4)))


@kernel(example=_ex_linear)
def _linear_kernel(x, w, b, out):
    """Public linear forward: x (N, in), w (out, in), b (out,) -> out (N, out)."""
    _linear_fwd(x, w, b, out)


@kernel(example=lambda: (np.zeros((2, 4)), np.zeros((2, 3)), np.zeros((4, 3)),
                         np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(4)))
def _linear_backward_kernel(dout, x, w, dx, dw, db):
    """Public linear backward: fills dx (N, in), dw (out, in), db (out,)."""
    _linear_bwd(dout, x, w, dx, dw, db, True)


@kernel(example=lambda: (np.zeros((2, 3)), 0, np.zeros((2, 3))))
def _activation_kernel(z, code, out):
    """Public activation forward on a 2-D array."""
    _act_fwd(z, code, out)


@kernel(example=lambda: (np.zeros((2, 3)), np.zeros((2, 3)), 0, np.zeros((2, 3))))
def _activation_backward_kernel(dout, z, code, dz):
    """Public activation backward: dz = dout · act'(z) (recomputes act(z) itself)."""
    a = np.empty_like(z)
    _act_fwd(z, code, a)
    _act_bwd(dout, z, a, code, dz)


# --- public wrappers -------------------------------------------------------------------------------
def _matrix(name: str, a, ndim: int = 2) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    return arr


def linear(x, weight, bias) -> np.ndarray:
    """A linear layer, as `torch.nn.functional.linear`: x (N, in), weight (out, in), bias (out,)
    -> x Wᵀ + b of shape (N, out)."""
    x, w, b = _matrix("x", x), _matrix("weight", weight), _matrix("bias", bias, 1)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {w.shape[1]} input columns but x has {x.shape[1]} features")
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"bias must have {w.shape[0]} entries (one per output), got {b.shape[0]}")
    out = np.empty((x.shape[0], w.shape[0]))
    _linear_kernel(x, w, b, out)
    return out


def linear_backward(dout, x, weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linear layer's backward: upstream dout (N, out) -> (dx (N, in), dW (out, in), db (out,)).

    dx = dout W, dW = doutᵀ x, db = Σ over the batch of dout (notes 2.5.2: J = W)."""
    dout, x, w = _matrix("dout", dout), _matrix("x", x), _matrix("weight", weight)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {w.shape[1]} input columns but x has {x.shape[1]} features")
    if dout.shape != (x.shape[0], w.shape[0]):
        raise ValueError(f"dout must have shape {(x.shape[0], w.shape[0])}, got {dout.shape}")
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty(w.shape[0])
    _linear_backward_kernel(dout, x, w, dx, dw, db)
    return dx, dw, db


def _activation_code(name: str) -> int:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    return ACTIVATIONS[name]


def _as_2d(name: str, a) -> tuple[np.ndarray, tuple]:
    arr = np.asarray(a, dtype=np.float64)
    shape = arr.shape
    return np.ascontiguousarray(arr.reshape(1, -1) if arr.ndim != 2 else arr), shape


def activation(z, name: str) -> np.ndarray:
    """Apply "relu", "tanh" or "sigmoid" element-wise to an array of any shape."""
    code = _activation_code(name)
    z2, shape = _as_2d("z", z)
    out = np.empty_like(z2)
    _activation_kernel(z2, code, out)
    return out.reshape(shape)


def activation_backward(dout, z, name: str) -> np.ndarray:
    """∂L/∂z = ∂L/∂a · act'(z) for a = act(z) (the local gradient times the upstream one)."""
    code = _activation_code(name)
    z2, shape = _as_2d("z", z)
    d2, dshape = _as_2d("dout", dout)
    if dshape != shape:
        raise ValueError(f"dout must have the shape of z {shape}, got {dshape}")
    dz = np.empty_like(z2)
    _activation_backward_kernel(d2, z2, code, dz)
    return dz.reshape(shape)


def relu(z) -> np.ndarray:
    """max(0, z) element-wise."""
    return activation(z, "relu")


def tanh(z) -> np.ndarray:
    """tanh(z) element-wise."""
    return activation(z, "tanh")


def sigmoid(z) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(-z)) element-wise."""
    return activation(z, "sigmoid")
