"""A tiny MLP over one flat parameter vector, with a hand-written backward (GAN and flow nets).

The networks of chapters 10 and 11 are small (2-D points, a few dozen units): NumPy's BLAS
matmuls plus a backward written out by hand beat a general autodiff at this size, and the flat
vector lets `core.optim.apply_step` (the notes' update equations) train them in place.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "tanh", "leaky_relu")
LEAK = 0.2


def _act(z: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    return np.where(z > 0, z, LEAK * z)


def _act_grad(z: np.ndarray, a: np.ndarray, name: str) -> np.ndarray:
    """d act / d z, from the pre-activation z and the activation a."""
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "tanh":
        return 1.0 - a * a
    return np.where(z > 0, 1.0, LEAK)


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
        self.activation = activation
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
        """(output (N, out), cache for `backward`)."""
        cache = [x]
        h = x
        last = len(self.layers) - 1
        for k, (w, b) in enumerate(self.layers):
            z = h @ w.T + b
            if k == last:
                return z, cache
            h = _act(z, self.activation)
            cache.append((z, h))
        raise AssertionError("unreachable")

    def backward(self, cache, dout: np.ndarray, need_dx: bool = True):
        """(dtheta flat like `theta`, dx (N, in) or None) for the upstream gradient dout."""
        grads: list[np.ndarray] = []
        g = dout
        last = len(self.layers) - 1
        for k in range(last, -1, -1):
            w, _ = self.layers[k]
            h_in = cache[0] if k == 0 else cache[k][1]
            grads.append(g.sum(axis=0))
            grads.append((g.T @ h_in).ravel())
            if k == 0 and not need_dx:
                return np.concatenate(grads[::-1]), None
            g = g @ w
            if k > 0:
                z, a = cache[k]
                g = g * _act_grad(z, a, self.activation)
        return np.concatenate(grads[::-1]), g
