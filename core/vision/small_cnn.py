"""A small CNN (conv -> BatchNorm? -> ReLU -> max pool -> linear) trained by SGD (notes 4.5.4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vision._checks import as_array, as_float, as_int
from core.vision.batchnorm import BatchNorm
from core.vision.conv import conv2d, conv2d_backward
from core.vision.norm import batch_norm_backward
from core.vision.pool import _max_pool_bwd, max_pool2d_with_indices

#: Learning rates beyond this are refused (the lab's fields stay well inside it).
MAX_LR = 100.0
MAX_STEPS = 100_000


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy with log-sum-exp and its gradient softmax − one-hot, divided by N."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_z
    loss = -float(log_p[np.arange(n), labels].mean())
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1.0
    return loss, grad / n


class SmallCNN:
    """conv(C₀ → `channels`, K x K, padding K // 2) -> [BatchNorm] -> ReLU -> max pool 2 -> linear.

    Input (N, C₀, H, W) with H, W even; output (N, classes) logits. Weights are drawn as
    `torch.nn`'s defaults do (uniform in ±1/√fan_in) from `seed`; BatchNorm starts at γ = 1,
    β = 0 with running statistics (momentum 0.1) used in eval mode, as `torch.nn.BatchNorm2d`.
    `params` holds the arrays by PyTorch's names: conv.weight (C, C₀, K, K), conv.bias (C,),
    bn.weight, bn.bias (C,) when batch_norm, fc.weight (classes, C·H/2·W/2), fc.bias.
    """

    def __init__(self, in_shape: tuple[int, int, int], classes: int = 10, channels: int = 8,
                 kernel_size: int = 3, batch_norm: bool = False, seed: int = 0):  # fmt: skip
        c0, h, w = (as_int(v, "input dimension", 1) for v in in_shape)
        if h % 2 or w % 2 or h < 2 or w < 2:
            raise ValueError(f"the image height and width must be even (max pool 2), got {h}x{w}")
        self.classes = as_int(classes, "classes", 2)
        self.channels = as_int(channels, "channels", 1)
        k = as_int(kernel_size, "kernel_size", 1)
        if k % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same-size padding), got {k}")
        self.in_shape, self.kernel_size, self.padding = (c0, h, w), k, k // 2
        self.features = self.channels * (h // 2) * (w // 2)
        rng = np.random.default_rng(as_int(seed, "seed", 0))

        def uniform(shape, fan_in):
            bound = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, size=shape)

        fan_conv = c0 * k * k
        self.params: dict[str, np.ndarray] = {
            "conv.weight": uniform((self.channels, c0, k, k), fan_conv),
            "conv.bias": uniform(self.channels, fan_conv),
            "fc.weight": uniform((self.classes, self.features), self.features),
            "fc.bias": uniform(self.classes, self.features),
        }
        self.bn: BatchNorm | None = None
        if batch_norm:
            self.bn = BatchNorm(self.channels)
            self.params["bn.weight"] = self.bn.gamma
            self.params["bn.bias"] = self.bn.beta

    @property
    def batch_norm(self) -> bool:
        return self.bn is not None

    def train(self, mode: bool = True) -> SmallCNN:
        """Training mode (batch statistics) or, with mode=False, eval mode (running statistics)."""
        if self.bn is not None:
            self.bn.train(mode)
        return self

    def eval(self) -> SmallCNN:
        return self.train(False)

    def _check_x(self, X) -> np.ndarray:
        X = as_array(X, "X", 4)
        if X.shape[1:] != self.in_shape or X.shape[0] < 1:
            raise ValueError(f"X must have shape (N, {', '.join(map(str, self.in_shape))}), got {X.shape}")
        return X

    def _forward(self, X: np.ndarray):
        p = self.params
        z = conv2d(X, p["conv.weight"], p["conv.bias"], padding=self.padding)
        a = self.bn.forward(z) if self.bn is not None else z
        r = np.maximum(a, 0.0)
        pooled, argmax = max_pool2d_with_indices(r, 2)
        logits = pooled.reshape(len(X), -1) @ p["fc.weight"].T + p["fc.bias"]
        return logits, (X, z, a, argmax, pooled)

    def __call__(self, X) -> np.ndarray:
        """Logits (N, classes) in the current mode (batch statistics while training)."""
        X = self._check_x(X)
        with np.errstate(all="ignore"):
            return self._forward(X)[0]

    def loss_and_grads(self, X, y) -> tuple[float, dict[str, np.ndarray]]:
        """Mean cross-entropy of a batch and its gradient for every parameter (by name).

        Backward, layer by layer: dlogits = (softmax − onehot)/N; fc; pooling routes to each
        window's max; ReLU passes where a > 0; batch norm's backward; conv's backward. In
        training mode this forward also updates BatchNorm's running statistics.
        """
        X = self._check_x(X)
        y = np.asarray(y, dtype=np.int64)
        p = self.params
        with np.errstate(all="ignore"):
            logits, (X, z, a, argmax, pooled) = self._forward(X)
            loss, dlogits = _cross_entropy(logits, y)
            grads = {
                "fc.weight": dlogits.T @ pooled.reshape(len(X), -1),
                "fc.bias": dlogits.sum(axis=0),
            }
            dpooled = (dlogits @ p["fc.weight"]).reshape(pooled.shape)
            dr = np.zeros(a.shape)
            _max_pool_bwd(dpooled, argmax, dr)  # max_pool2d_backward with the forward's argmax
            da = dr * (a > 0)
            if self.bn is not None:
                if self.bn.training:
                    dz, grads["bn.weight"], grads["bn.bias"] = batch_norm_backward(
                        da, z, self.bn.gamma, self.bn.beta, self.bn.eps
                    )
                else:
                    dz, grads["bn.weight"], grads["bn.bias"] = self.bn.backward(da)
            else:
                dz = da
            _, grads["conv.weight"], grads["conv.bias"] = conv2d_backward(
                dz, X, p["conv.weight"], padding=self.padding
            )
        return loss, grads

    def predict(self, X) -> np.ndarray:
        """The class with the largest logit, (N,) int64, in the current mode."""
        return np.argmax(self(X), axis=1).astype(np.int64)


@dataclass
class SmallCNNResult:
    """What `train_small_cnn` returns: the loss of every step as it came (inf/NaN once diverged),
    the held-out accuracy (eval mode), the step at which the loss first went non-finite (None if
    never) and the trained model."""

    losses: np.ndarray
    accuracy: float
    diverged_at: int | None
    model: SmallCNN


class SmallCNNTrainer:
    """Train a `SmallCNN` on 80% of (X, y) by plain SGD, one step at a time (for a live lab).

    The split is a seeded permutation: the first 80% train, the rest is held out. Each step
    takes the next `batch_size` training examples of a reshuffled epoch, computes the mean
    cross-entropy and its gradient, and applies θ ← θ − η ∇ℒ(θ) to every parameter. A step
    whose loss is not finite is recorded as it came; the parameters then stay non-finite, and
    later losses are NaN (nothing is hidden, nothing raises).
    """

    def __init__(self, X, y, batch_norm: bool = False, lr: float = 0.05, batch_size: int = 64,
                 seed: int = 0, channels: int = 8):  # fmt: skip
        X = as_array(X, "X", 4, finite=True)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0] or y.dtype.kind not in "iu":
            raise ValueError(f"y must be integer labels of shape ({X.shape[0]},), got {y.dtype} {y.shape}")
        if X.shape[0] < 10:
            raise ValueError(f"X needs at least 10 examples (8 to train, 2 held out), got {X.shape[0]}")
        if y.min() < 0:
            raise ValueError("labels must be non-negative")
        self.lr = as_float(lr, "lr", minimum=0.0, maximum=MAX_LR)
        self.batch_size = as_int(batch_size, "batch_size", 2)
        self.seed = as_int(seed, "seed", 0)
        classes = max(2, int(y.max()) + 1)
        self.model = SmallCNN(X.shape[1:], classes=classes, channels=channels,
                              batch_norm=bool(batch_norm), seed=self.seed)  # fmt: skip
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(X.shape[0])
        n_train = int(round(0.8 * X.shape[0]))
        self.X_train, self.y_train = X[order[:n_train]], y[order[:n_train]].astype(np.int64)
        self.X_test, self.y_test = X[order[n_train:]], y[order[n_train:]].astype(np.int64)
        self._rng = rng
        self._epoch: np.ndarray = np.empty(0, dtype=np.int64)
        self._pos = 0
        self.losses: list[float] = []
        self.diverged_at: int | None = None

    def _next_batch(self) -> np.ndarray:
        b = min(self.batch_size, len(self.X_train))
        if self._pos + b > len(self._epoch):
            self._epoch = self._rng.permutation(len(self.X_train))
            self._pos = 0
        idx = self._epoch[self._pos : self._pos + b]
        self._pos += b
        return idx

    def step(self) -> float:
        """One SGD step on the next mini-batch; returns its loss (before the update)."""
        idx = self._next_batch()
        self.model.train()
        loss, grads = self.model.loss_and_grads(self.X_train[idx], self.y_train[idx])
        with np.errstate(all="ignore"):
            for name, g in grads.items():
                self.model.params[name] -= self.lr * g  # in place: BatchNorm shares γ and β
        if self.diverged_at is None and not np.isfinite(loss):
            self.diverged_at = len(self.losses)
        self.losses.append(loss)
        return loss

    def run(self, steps: int) -> np.ndarray:
        """`steps` more steps; returns their losses."""
        return np.array([self.step() for _ in range(as_int(steps, "steps", 0))])

    def accuracy(self, X=None, y=None, training: bool = False, batch_size: int | None = None) -> float:
        """Accuracy on (X, y) (default: the held-out 20%), in eval mode unless `training`.

        In training mode batch norm normalizes with the statistics of the batch being
        classified (the train/eval bug): `batch_size` splits (X, y) into batches of that size
        (default: one batch), so `batch_size=1` normalizes every image by its own statistics.
        The running statistics are left untouched either way.
        """
        X = self.X_test if X is None else as_array(X, "X", 4)
        y = self.y_test if y is None else np.asarray(y)
        size = len(X) if batch_size is None else as_int(batch_size, "batch_size", 1)
        bn = self.model.bn
        saved = None if bn is None else (bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked)
        self.model.train(training)
        try:
            pred = np.concatenate([self.model.predict(X[i : i + size]) for i in range(0, len(X), size)])
        finally:
            self.model.train()
            if bn is not None:
                bn.running_mean, bn.running_var, bn.num_batches_tracked = saved
        return float(np.mean(pred == y))

    def result(self) -> SmallCNNResult:
        return SmallCNNResult(np.array(self.losses), self.accuracy(), self.diverged_at, self.model)


def train_small_cnn(X, y, batch_norm: bool = False, lr: float = 0.05, steps: int = 300,
                    batch_size: int = 64, seed: int = 0) -> SmallCNNResult:  # fmt: skip
    """Train conv(8 filters 3x3) -> [BatchNorm] -> ReLU -> max pool 2 -> linear by SGD (4.5.4).

    X (N, C, H, W) with H, W even, y (N,) integer labels; 80% train, 20% held out (seeded).
    Returns `losses` (steps,) — each step's training loss as it came, inf or NaN once a run
    diverges — `accuracy` on the held-out 20% in eval mode, `diverged_at` and the `model`.
    """
    steps = as_int(steps, "steps", 1)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS}, got {steps}")
    trainer = SmallCNNTrainer(X, y, batch_norm=batch_norm, lr=lr, batch_size=batch_size, seed=seed)
    trainer.run(steps)
    return trainer.result()
