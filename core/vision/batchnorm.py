"""`BatchNorm`: batch normalization with running statistics, train/eval modes and folding."""

from __future__ import annotations

import numpy as np

from core.vision._checks import as_array, as_float, as_int
from core.vision.norm import _backward, _forward


class BatchNorm:
    """Batch normalization over (N, C) or (N, C, H, W) batches, as `torch.nn.BatchNorm2d`.

    Training mode (the default) normalizes with the batch's own μ and σ² and updates the running
    statistics: running = (1 - momentum) · running + momentum · batch (the variance unbiased,
    N·H·W / (N·H·W - 1) times the biased one); `momentum=None` keeps a cumulative average.
    Eval mode normalizes with the running statistics: a fixed affine map per channel
    (notes 4.5.2), which `fold` merges into the preceding conv or linear layer.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1):
        self.num_features = as_int(num_features, "num_features", 1)
        self.eps = as_float(eps, "eps", minimum=0.0)
        self.momentum = None if momentum is None else as_float(momentum, "momentum", 0.0, 1.0)
        self.gamma = np.ones(self.num_features)
        self.beta = np.zeros(self.num_features)
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0
        self.training = True
        self._last_x: np.ndarray | None = None
        self._last_training = True

    def train(self, mode: bool = True) -> BatchNorm:
        """Switch to training mode (or eval mode with `mode=False`); returns self."""
        self.training = bool(mode)
        return self

    def eval(self) -> BatchNorm:
        """Switch to eval (inference) mode; returns self."""
        return self.train(False)

    def _check(self, x) -> np.ndarray:
        x = as_array(x, "x", (2, 3, 4))
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"x has {x.shape[1]} channels (axis 1) but this BatchNorm has {self.num_features}"
            )
        return x

    def _bshape(self, ndim: int) -> tuple[int, ...]:
        return (1, self.num_features) + (1,) * (ndim - 2)

    def scale_shift(self) -> tuple[np.ndarray, np.ndarray]:
        """The eval-mode map y = scale · x + shift per channel: scale = γ / √(running σ² + ε)."""
        scale = self.gamma / np.sqrt(self.running_var + self.eps)
        return scale, self.beta - self.running_mean * scale

    def __call__(self, x) -> np.ndarray:
        return self.forward(x)

    def forward(self, x) -> np.ndarray:
        """Normalize x; in training mode also update the running statistics."""
        x = self._check(x)
        self._last_x, self._last_training = x, self.training
        if not self.training:
            scale, shift = self.scale_shift()
            b = self._bshape(x.ndim)
            return x * scale.reshape(b) + shift.reshape(b)
        y, mean, var = _forward("batch", x, self.gamma, self.beta, self.eps)
        count = x.size // self.num_features
        self.num_batches_tracked += 1
        factor = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        unbiased = var * count / (count - 1)
        self.running_mean = (1 - factor) * self.running_mean + factor * mean
        self.running_var = (1 - factor) * self.running_var + factor * unbiased
        return y

    def backward(self, dout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dx, dgamma, dbeta) for the last `forward` call, in the mode it ran in."""
        if self._last_x is None:
            raise ValueError("call forward before backward")
        x = self._last_x
        if self._last_training:
            return _backward("batch", dout, x, self.gamma, self.beta, self.eps)
        dout = as_array(dout, "dout", x.ndim)
        if dout.shape != x.shape:
            raise ValueError(f"dout must have x's shape {x.shape}, got {dout.shape}")
        b = self._bshape(x.ndim)
        axes = tuple(i for i, s in enumerate(b) if s == 1)
        inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
        xhat = (x - self.running_mean.reshape(b)) * inv_std.reshape(b)
        dx = dout * (self.gamma * inv_std).reshape(b)
        return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)

    def fold(self, w, b=None) -> tuple[np.ndarray, np.ndarray]:
        """Merge this layer (in its eval form) into the preceding layer's weights.

        w is a conv kernel (C_out, C, K, K) or a linear weight (out, in) with C_out = out =
        num_features; returns (w', b') with w' = w · s and b' = (b - μ) · s + β, where
        s = γ / √(σ² + ε) uses the running statistics: conv(x, w', b') = bn(conv(x, w, b)).
        """
        return fold_batchnorm(w, b, self)


def fold_batchnorm(w, b, bn: BatchNorm) -> tuple[np.ndarray, np.ndarray]:
    """See `BatchNorm.fold`."""
    w = as_array(w, "w", (2, 4))
    if w.shape[0] != bn.num_features:
        raise ValueError(
            f"w has {w.shape[0]} output channels but the BatchNorm has {bn.num_features}"
        )
    b = np.zeros(w.shape[0]) if b is None else as_array(b, "b", 1)
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    scale, shift = bn.scale_shift()
    w_folded = w * scale.reshape((-1,) + (1,) * (w.ndim - 1))
    return w_folded, b * scale + shift
