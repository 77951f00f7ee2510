"""A LeNet-5 forward pass (notes 4.4) built from conv2d, ReLU, pooling and linear layers."""

from __future__ import annotations

import numpy as np

from core.vision._checks import as_array
from core.vision.conv import conv2d
from core.vision.pool import avg_pool2d, max_pool2d
from core.vision.shapes import lenet5_layers


class LeNet5:
    """LeNet-5 on (N, 1, 32, 32) inputs -> (N, 10) scores; `activations` keeps every layer.

    Weights are drawn as `torch.nn`'s defaults do (uniform in ±1/√fan_in) from `seed`; the
    network is untrained, which is enough to follow the shapes and see the activation maps.
    `pool` is "max" (default) or "avg", `activation` "relu" (default) or "tanh" (as in 1998).
    """

    def __init__(self, seed: int = 0, pool: str = "max", activation: str = "relu"):
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        self.pool, self.activation = pool, activation
        rng = np.random.default_rng(seed)

        def uniform(shape, fan_in):
            bound = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, size=shape)

        self.conv1_w, self.conv1_b = uniform((6, 1, 5, 5), 25), uniform(6, 25)
        self.conv2_w, self.conv2_b = uniform((16, 6, 5, 5), 150), uniform(16, 150)
        self.fc1_w, self.fc1_b = uniform((120, 400), 400), uniform(120, 400)
        self.fc2_w, self.fc2_b = uniform((84, 120), 120), uniform(84, 120)
        self.fc3_w, self.fc3_b = uniform((10, 84), 84), uniform(10, 84)

    def parameters(self) -> list[np.ndarray]:
        """[conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b, fc3_w, fc3_b]."""
        return [
            self.conv1_w, self.conv1_b, self.conv2_w, self.conv2_b,
            self.fc1_w, self.fc1_b, self.fc2_w, self.fc2_b, self.fc3_w, self.fc3_b,
        ]  # fmt: skip

    def _act(self, a: np.ndarray) -> np.ndarray:
        return np.maximum(a, 0.0) if self.activation == "relu" else np.tanh(a)

    def _pool(self, a: np.ndarray) -> np.ndarray:
        return max_pool2d(a, 2) if self.pool == "max" else avg_pool2d(a, 2)

    def activations(self, x) -> list[np.ndarray]:
        """The output of every layer of `lenet5_layers()` in order, for x (N, 1, 32, 32)."""
        x = as_array(x, "x", 4)
        if x.shape[1:] != (1, 32, 32):
            raise ValueError(f"LeNet-5 takes (N, 1, 32, 32) inputs, got {x.shape}")
        c1 = self._act(conv2d(x, self.conv1_w, self.conv1_b))
        s2 = self._pool(c1)
        c3 = self._act(conv2d(s2, self.conv2_w, self.conv2_b))
        s4 = self._pool(c3)
        flat = s4.reshape(x.shape[0], -1)
        f5 = self._act(flat @ self.fc1_w.T + self.fc1_b)
        f6 = self._act(f5 @ self.fc2_w.T + self.fc2_b)
        out = f6 @ self.fc3_w.T + self.fc3_b
        return [c1, s2, c3, s4, flat, f5, f6, out]

    def __call__(self, x) -> np.ndarray:
        return self.forward(x)

    def forward(self, x) -> np.ndarray:
        """The 10 class scores (N, 10)."""
        return self.activations(x)[-1]

    @staticmethod
    def num_parameters() -> int:
        """61,706 learnable numbers, the sum of the layer table."""
        return sum(layer.params for layer in lenet5_layers())
