"""The multi-layer perceptron (notes 1.3): linear layers and activations composed, forward and back.

The network's parameters live in one flat float64 vector `theta` (W1, b1, W2, b2, ... in
order, each W of shape (out, in) as `torch.nn.Linear`), so an optimizer of `core.optim` updates
them all at once; `parameters()` returns views into it. The fused kernels below run a whole
forward or forward + backward pass in compiled code by composing the layer primitives of
`core.nn.layers` and the losses of `core.nn.losses`.
"""

from __future__ import annotations

import numpy as np

from core._jit import kernel
from core.nn.layers import ACTIVATIONS, _act_bwd, _act_fwd, _linear_bwd, _linear_fwd
from core.nn.losses import LOSSES, _ce_fwd_bwd, _mse_fwd_bwd, check_labels

_EX_SIZES = np.array([2, 3, 2], dtype=np.int64)
_EX_THETA_LEN = 2 * 3 + 3 + 3 * 2 + 2


@kernel(example=lambda: (np.zeros(_EX_THETA_LEN), _EX_SIZES, 0, np.zeros((4, 2)), np.zeros((4, 2))))
def _mlp_forward(theta, sizes, act, x, out):
    """x (N, sizes[0]) -> out (N, sizes[-1]): zₗ = aₗ₋₁ Wₗᵀ + bₗ, aₗ = act(zₗ), none after the last."""
    n = x.shape[0]
    n_layers = sizes.shape[0] - 1
    a_prev = x
    off = 0
    for layer in range(n_layers):
        d_in, d_out = sizes[layer], sizes[layer + 1]
        w = theta[off : off + d_out * d_in].reshape((d_out, d_in))
        off += d_out * d_in
        b = theta[off : off + d_out]
        off += d_out
        if layer == n_layers - 1:
            _linear_fwd(a_prev, w, b, out)
        else:
            z = np.empty((n, d_out))
            _linear_fwd(a_prev, w, b, z)
            a = np.empty((n, d_out))
            _act_fwd(z, act, a)
            a_prev = a


def _ex_value_and_grad():
    x = np.zeros((4, 2))
    return [
        (np.zeros(_EX_THETA_LEN), _EX_SIZES, 0, x, np.zeros((4, 2)), np.zeros(1, np.int64), 0,
         np.zeros(_EX_THETA_LEN)),
        (np.zeros(_EX_THETA_LEN), _EX_SIZES, 1, x, np.zeros((1, 1)), np.zeros(4, np.int64), 1,
         np.zeros(_EX_THETA_LEN)),
    ]


@kernel(example=_ex_value_and_grad)
def _mlp_value_and_grad(theta, sizes, act, x, target, labels, loss_code, grad):
    """Loss of the network on (x, target or labels) and ∂L/∂θ written into grad (same layout as θ).

    Forward keeps every zₗ and aₗ; backward walks the layers in reverse, each turning the
    upstream gradient into the downstream one (linear: dW = δᵀ aₗ₋₁, db = Σ δ, δ ← δ W; then
    the activation: δ ← δ · act'(zₗ₋₁)). loss_code 0: MSE against target (N, out);
    1: cross-entropy against labels (N,).
    """
    n = x.shape[0]
    n_layers = sizes.shape[0] - 1
    width = 0
    for layer in range(1, n_layers + 1):
        width += sizes[layer]
    zbuf = np.empty(n * width)
    abuf = np.empty(n * width)
    # forward
    a_prev = x
    off = 0
    col = 0
    for layer in range(n_layers):
        d_in, d_out = sizes[layer], sizes[layer + 1]
        w = theta[off : off + d_out * d_in].reshape((d_out, d_in))
        off += d_out * d_in
        b = theta[off : off + d_out]
        off += d_out
        z = zbuf[col * n : (col + d_out) * n].reshape((n, d_out))
        a = abuf[col * n : (col + d_out) * n].reshape((n, d_out))
        col += d_out
        _linear_fwd(a_prev, w, b, z)
        if layer < n_layers - 1:
            _act_fwd(z, act, a)
        a_prev = a
    # loss and its gradient with respect to the scores (the last z)
    d_last = sizes[n_layers]
    out = zbuf[(col - d_last) * n : col * n].reshape((n, d_last))
    delta = np.empty((n, d_last))
    if loss_code == 0:
        loss = _mse_fwd_bwd(out, target, delta)
    else:
        loss = _ce_fwd_bwd(out, labels, delta)
    # backward
    for layer in range(n_layers - 1, -1, -1):
        d_in, d_out = sizes[layer], sizes[layer + 1]
        off -= d_out
        db = grad[off : off + d_out]
        off -= d_out * d_in
        w = theta[off : off + d_out * d_in].reshape((d_out, d_in))
        dw = grad[off : off + d_out * d_in].reshape((d_out, d_in))
        col -= d_out
        if layer == 0:
            _linear_bwd(delta, x, w, delta, dw, db, False)
        else:
            prev = col - d_in
            z_in = zbuf[prev * n : col * n].reshape((n, d_in))
            a_in = abuf[prev * n : col * n].reshape((n, d_in))
            da = np.empty((n, d_in))
            _linear_bwd(delta, a_in, w, da, dw, db, True)
            dz = np.empty((n, d_in))
            _act_bwd(da, z_in, a_in, act, dz)
            delta = dz
    return loss


MAX_PARAMETERS = 20_000_000
"""The most weights and biases an `MLP` may have (160 MB of float64)."""
MAX_LAYERS = 1_000
"""The most layer sizes an `MLP` may have."""


class MLP:
    """A multi-layer perceptron: sizes [d₀, d₁, ..., d_L], Linear(dₗ₋₁, dₗ) layers with an
    activation between them (none after the last), as `nn.Sequential(nn.Linear, nn.ReLU, ...)`.

    Weights and biases start uniform in ±1/√(fan_in) (PyTorch's default for `nn.Linear`),
    drawn from `seed`, so `reset()` always returns to the same starting point.
    """

    def __init__(self, sizes, activation: str = "relu", seed: int = 0) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes needs an input and an output size at least, got {sizes}")
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
                raise ValueError(f"every layer size must be a positive whole number, got {sizes}")
        sizes = [int(s) for s in sizes]
        if len(sizes) > MAX_LAYERS:
            raise ValueError(f"at most MAX_LAYERS = {MAX_LAYERS} sizes, got {len(sizes)}")
        n_parameters = sum(o * i + o for i, o in zip(sizes, sizes[1:]))
        if n_parameters > MAX_PARAMETERS:
            raise ValueError(f"sizes {sizes} need {n_parameters:,} parameters; at most "
                             f"MAX_PARAMETERS = {MAX_PARAMETERS:,}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be a whole number, got {seed!r}")
        self.sizes = tuple(int(s) for s in sizes)
        self.activation = activation
        self.seed = int(seed)
        self._sizes = np.array(self.sizes, dtype=np.int64)
        self._act = ACTIVATIONS[activation]
        self.theta = np.empty(sum(o * i + o for i, o in zip(self.sizes, self.sizes[1:])))
        self.reset()

    # --- structure -----------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        """The number of linear layers."""
        return len(self.sizes) - 1

    @property
    def n_parameters(self) -> int:
        """Σₗ (dₗ₋₁ + 1) dₗ: every weight and bias."""
        return int(self.theta.size)

    def _slices(self) -> list[tuple[slice, tuple[int, ...]]]:
        out, off = [], 0
        for d_in, d_out in zip(self.sizes, self.sizes[1:]):
            out.append((slice(off, off + d_out * d_in), (d_out, d_in)))
            off += d_out * d_in
            out.append((slice(off, off + d_out), (d_out,)))
            off += d_out
        return out

    def parameters(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, ...]: views into `theta` (writing them changes the model)."""
        return [self.theta[s].reshape(shape) for s, shape in self._slices()]

    def unflatten(self, flat) -> list[np.ndarray]:
        """Split a vector laid out like `theta` (a gradient, say) into per-parameter arrays."""
        flat = np.asarray(flat, dtype=np.float64)
        if flat.shape != self.theta.shape:
            raise ValueError(f"expected a vector of {self.theta.size} numbers, got shape {flat.shape}")
        return [flat[s].reshape(shape).copy() for s, shape in self._slices()]

    def set_parameters(self, values) -> None:
        """Load parameters: a flat vector like `theta` or a list shaped like `parameters()`."""
        if isinstance(values, np.ndarray) and values.ndim == 1:
            flat = np.asarray(values, dtype=np.float64)
        else:
            values = list(values)
            expected = [p.shape for p in self.parameters()]
            got = [np.shape(v) for v in values]
            if got != expected:
                raise ValueError(f"expected parameters of shapes {expected}, got {got}")
            flat = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
        if flat.shape != self.theta.shape:
            raise ValueError(f"expected {self.theta.size} numbers, got {flat.size}")
        if not np.all(np.isfinite(flat)):
            raise ValueError("parameters must be finite")
        self.theta[:] = flat

    def reset(self) -> None:
        """Back to the initial weights of `seed`: U(-1/√fan_in, 1/√fan_in) for W and b."""
        rng = np.random.default_rng(self.seed)
        slices = self._slices()
        for layer, d_in in enumerate(self.sizes[:-1]):
            bound = 1.0 / np.sqrt(d_in)
            for s, shape in slices[2 * layer : 2 * layer + 2]:
                self.theta[s] = rng.uniform(-bound, bound, int(np.prod(shape)))

    def copy(self) -> "MLP":
        """An independent model with the same structure, seed and current weights."""
        twin = MLP(self.sizes, self.activation, self.seed)
        twin.theta[:] = self.theta
        return twin

    def __repr__(self) -> str:
        shape = "-".join(map(str, self.sizes))
        return f"MLP({shape}, activation={self.activation!r}, parameters={self.n_parameters})"

    # --- computing --------------------------------------------------------------------------
    def check_inputs(self, X) -> np.ndarray:
        """X as a C-contiguous float64 (N, sizes[0]) array of finite numbers, or ValueError."""
        x = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
        if x.ndim == 1 and self.sizes[0] == x.shape[0]:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (N, {self.sizes[0]}), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("X must contain only finite numbers (found NaN or infinity)")
        return x

    def forward(self, X) -> np.ndarray:
        """The outputs (N, sizes[-1]) for inputs X (N, sizes[0])."""
        x = self.check_inputs(X)
        out = np.empty((x.shape[0], self.sizes[-1]))
        _mlp_forward(self.theta, self._sizes, self._act, x, out)
        return out

    __call__ = forward

    def layer_outputs(self, X) -> list[np.ndarray]:
        """[z₁, a₁, z₂, a₂, ..., z_L]: every layer's pre-activation and activation (for views)."""
        from core.nn.layers import activation, linear

        a = self.check_inputs(X)
        params = self.parameters()
        outs = []
        for layer in range(self.n_layers):
            z = linear(a, params[2 * layer], params[2 * layer + 1])
            outs.append(z)
            if layer < self.n_layers - 1:
                a = activation(z, self.activation)
                outs.append(a)
        return outs


def prepare_targets(model: MLP, x: np.ndarray, y, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """(target (N, out) float, labels (N,) int64) for the kernels; the unused one is a stub.

    Cross-entropy wants integer labels. MSE wants targets (N, out); a 1-D y is taken as (N, 1)
    when the network has one output, and as class labels one-hot encoded otherwise.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    n, d_out = x.shape[0], model.sizes[-1]
    if n == 0:
        raise ValueError("X must contain at least one row")
    if loss == "cross_entropy":
        if d_out < 2:
            raise ValueError("cross_entropy needs a network with at least 2 outputs (one per class)")
        return np.zeros((1, 1)), check_labels(y, n, d_out)
    t = np.asarray(y, dtype=np.float64) if np.asarray(y).dtype.kind != "O" else None
    if t is None:
        raise ValueError("y must be numeric")
    if t.ndim == 1 and t.shape[0] == n:
        if d_out == 1:
            t = t.reshape(n, 1)
        else:
            labels = check_labels(y, n, d_out)
            t = np.zeros((n, d_out))
            t[np.arange(n), labels] = 1.0
    if t.shape != (n, d_out):
        raise ValueError(f"for mse, y must have shape ({n}, {d_out}) (or ({n},) labels), got {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("y must contain only finite numbers")
    return np.ascontiguousarray(t), np.zeros(1, dtype=np.int64)


def value_and_grad(model: MLP, X, y, loss: str = "mse") -> tuple[float, list[np.ndarray]]:
    """The mean loss of `model` on (X, y) and its gradient for each parameter, in
    `parameters()` order (each the shape of its parameter), by one forward and one backward pass."""
    if not isinstance(model, MLP):
        raise ValueError(f"model must be an MLP, got {type(model).__name__}")
    x = model.check_inputs(X)
    target, labels = prepare_targets(model, x, y, loss)
    grad = np.empty_like(model.theta)
    value = _mlp_value_and_grad(model.theta, model._sizes, model._act, x, target, labels,
                                LOSSES[loss], grad)
    return float(value), model.unflatten(grad)
