"""A tiny MLP over one flat parameter vector, with a hand-written backward (GAN and flow nets).

The networks of chapters 10 and 11 are small (2-D points, a few dozen units): one fused numba
kernel for the forward pass and one for the backward beat both a general autodiff and NumPy's
BLAS (whose threads only add overhead on 16 x 16 matrices), and the flat vector lets
`core.optim.apply_step` (the notes' update equations) train them in place.
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import kernel

ACTIVATIONS = ("relu", "tanh", "leaky_relu")
ACT_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}
LEAK = 0.2

_EX_SIZES = np.array([2, 3, 1], dtype=np.int64)
_EX_N = 2 * 3 + 3 + 3 + 1


@kernel(example=lambda: (np.zeros(_EX_N), _EX_SIZES, 0, np.zeros((4, 2)), np.zeros((4, 3)),
                         np.zeros((4, 1))))
def _net_fwd(theta, sizes, act, x, hidden, out):
    """x (N, sizes[0]) -> out (N, sizes[-1]); hidden (N, Σ hidden widths) receives every hidden
    layer's activation aₗ = act(aₗ₋₁ Wₗᵀ + bₗ) (act 0 ReLU, 1 tanh, 2 leaky ReLU 0.2)."""
    n = x.shape[0]
    n_layers = sizes.shape[0] - 1
    cur = np.empty(256)
    nxt = np.empty(256)
    for i in range(n):
        for j in range(sizes[0]):
            cur[j] = x[i, j]
        off = 0
        col = 0
        for layer in range(n_layers):
            d_in, d_out = sizes[layer], sizes[layer + 1]
            boff = off + d_out * d_in
            for o in range(d_out):
                acc = theta[boff + o]
                row = off + o * d_in
                for j in range(d_in):
                    acc += theta[row + j] * cur[j]
                nxt[o] = acc
            off = boff + d_out
            if layer == n_layers - 1:
                for o in range(d_out):
                    out[i, o] = nxt[o]
            else:
                for o in range(d_out):
                    v = nxt[o]
                    if act == 0:
                        v = v if v > 0.0 else 0.0
                    elif act == 1:
                        v = math.tanh(v)
                    else:
                        v = v if v > 0.0 else 0.2 * v
                    cur[o] = v
                    hidden[i, col + o] = v
                col += d_out


def _ex_bwd():
    return (np.zeros(_EX_N), _EX_SIZES, 0, np.zeros((4, 2)), np.zeros((4, 3)), np.zeros((4, 1)),
            np.zeros(_EX_N), np.zeros((4, 2)), 1)


@kernel(example=_ex_bwd)
def _net_bwd(theta, sizes, act, x, hidden, dout, dtheta, dx, need_dx):
    """Backward of `_net_fwd`: dtheta (same layout as theta, overwritten) and, if need_dx,
    dx (N, sizes[0]) for the upstream gradient dout (N, sizes[-1]).

    Per layer, from the last: db = Σᵢ δ, dW = δᵀ aₗ₋₁, δ ← (δ W) ⊙ act'(aₗ₋₁), where act' is
    read from the activation itself (ReLU 1[a > 0], tanh 1 − a², leaky 1 or 0.2)."""
    n = x.shape[0]
    n_layers = sizes.shape[0] - 1
    dtheta[:] = 0.0
    offs = np.empty(n_layers, dtype=np.int64)
    cols = np.empty(n_layers, dtype=np.int64)  # hidden column of each layer's input (-1: x)
    off = 0
    col = -1
    nxt_col = 0
    for layer in range(n_layers):
        offs[layer] = off
        cols[layer] = col
        off += sizes[layer + 1] * sizes[layer] + sizes[layer + 1]
        if layer < n_layers - 1:
            col = nxt_col
            nxt_col += sizes[layer + 1]
    delta = np.empty(256)
    prev = np.empty(256)
    inp = np.empty(256)
    for i in range(n):
        for o in range(sizes[n_layers]):
            delta[o] = dout[i, o]
        for layer in range(n_layers - 1, -1, -1):
            d_in, d_out = sizes[layer], sizes[layer + 1]
            base = offs[layer]
            boff = base + d_out * d_in
            c = cols[layer]
            if c < 0:
                for j in range(d_in):
                    inp[j] = x[i, j]
            else:
                for j in range(d_in):
                    inp[j] = hidden[i, c + j]
            for o in range(d_out):
                g = delta[o]
                dtheta[boff + o] += g
                row = base + o * d_in
                for j in range(d_in):
                    dtheta[row + j] += g * inp[j]
            if layer == 0 and need_dx == 0:
                break
            for j in range(d_in):
                prev[j] = 0.0
            for o in range(d_out):
                g = delta[o]
                row = base + o * d_in
                for j in range(d_in):
                    prev[j] += g * theta[row + j]
            if layer == 0:
                for j in range(d_in):
                    dx[i, j] = prev[j]
            else:
                for j in range(d_in):
                    a = inp[j]
                    if act == 0:
                        local = 1.0 if a > 0.0 else 0.0
                    elif act == 1:
                        local = 1.0 - a * a
                    else:
                        local = 1.0 if a > 0.0 else 0.2
                    delta[j] = prev[j] * local


def check_sizes(sizes, what: str = "sizes") -> tuple[int, ...]:
    """Layer widths as a tuple of positive ints (ValueError otherwise)."""
    try:
        out = tuple(int(s) for s in sizes)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a list of whole numbers, got {sizes!r}") from None
    if len(out) < 2 or any(s < 1 for s in out) or any(float(s) != float(o) for s, o in zip(sizes, out)):
        raise ValueError(f"{what} must be at least two positive whole numbers, got {list(sizes)!r}")
    return out


class Net:
    """x (N, sizes[0]) -> (N, sizes[-1]): Linear, activation, ..., Linear (none after the last).

    Weights W (out, in) and biases as `torch.nn.Linear`, initialised like it (uniform in
    ±1/√in), all views into the flat vector `theta` so an optimizer can update it in place.
    `out_scale` multiplies the last layer's initial weights (0 starts a flow layer at the
    identity).
    """

    def __init__(self, sizes, activation: str = "relu", rng=None, out_scale: float = 1.0) -> None:
        self.sizes = check_sizes(sizes)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if max(self.sizes) > 256:
            raise ValueError(f"layers wider than 256 are not supported, got {list(self.sizes)}")
        self.activation = activation
        self._act = ACT_CODES[activation]
        self._sizes = np.array(self.sizes, dtype=np.int64)
        self._hidden_width = sum(self.sizes[1:-1])
        rng = np.random.default_rng(0) if rng is None else rng
        self.n_parameters = sum(o * i + o for i, o in zip(self.sizes[:-1], self.sizes[1:]))
        self.bind(np.empty(self.n_parameters))
        for k, ((w, b), i) in enumerate(zip(self.layers, self.sizes[:-1])):
            bound = 1.0 / np.sqrt(i)
            w[:] = rng.uniform(-bound, bound, size=w.shape)
            b[:] = rng.uniform(-bound, bound, size=b.shape)
            if k == len(self.sizes) - 2:
                w *= out_scale
                b *= out_scale

    def bind(self, theta: np.ndarray) -> None:
        """Keep the parameters in `theta` (a view into a larger vector; values copied over)."""
        if theta.shape != (self.n_parameters,):
            raise ValueError(f"theta must have shape ({self.n_parameters},), got {theta.shape}")
        if hasattr(self, "theta"):
            theta[:] = self.theta
        self.theta = theta
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        at = 0
        for i, o in zip(self.sizes[:-1], self.sizes[1:]):
            w = theta[at: at + o * i].reshape(o, i)
            at += o * i
            self.layers.append((w, theta[at: at + o]))
            at += o

    def parameters(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, ...] as views into `theta` (PyTorch's order and shapes)."""
        return [p for layer in self.layers for p in layer]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[0]

    def forward(self, x: np.ndarray):
        """(output (N, out), cache for `backward`); x (N, in) float64."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        hidden = np.empty((len(x), self._hidden_width))
        out = np.empty((len(x), self.sizes[-1]))
        _net_fwd(self.theta, self._sizes, self._act, x, hidden, out)
        return out, (x, hidden)

    def backward(self, cache, dout: np.ndarray, need_dx: bool = True):
        """(dtheta flat like `theta`, dx (N, in) or None) for the upstream gradient dout."""
        x, hidden = cache
        dtheta = np.empty(self.n_parameters)
        dx = np.empty((len(x), self.sizes[0]) if need_dx else (0, self.sizes[0]))
        _net_bwd(self.theta, self._sizes, self._act, x, hidden,
                 np.ascontiguousarray(dout, dtype=np.float64), dtheta, dx, int(need_dx))
        return dtheta, (dx if need_dx else None)
