"""Mini-batch training of an MLP with any optimizer of core.optim (notes 2.2.3, 3.3-3.5).

The network's parameters are one flat vector θ, so each step is: draw a mini-batch, compute
∂L/∂θ with the fused forward + backward kernel, and hand θ and the gradient to
`core.optim.steps.apply_step`, the one place the update equations live. Newton's method
(θ ← θ - η H⁻¹ g) uses the Hessian of the mini-batch loss, by central differences of the
exact gradient, so it is meant for small networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core._jit import kernel
from core.nn.losses import LOSSES
from core.nn.mlp import MLP, _mlp_value_and_grad, prepare_targets
from core.optim.steps import DEFAULTS, OPTIMIZER_CODES, apply_step, make_hyper

#: The optimizers `train` accepts: every first-order one of core.optim, and newton.
OPTIMIZERS = tuple(OPTIMIZER_CODES) + ("newton",)

#: Networks with more parameters than this are refused by newton (its Hessian is n x n).
NEWTON_MAX_PARAMETERS = 1500


def _ex_train_steps():
    sizes = np.array([2, 3, 2], dtype=np.int64)
    n_theta = 2 * 3 + 3 + 3 * 2 + 2
    x = np.zeros((4, 2))
    idx = np.zeros((1, 4), dtype=np.int64)
    return [
        (np.zeros(n_theta), sizes, 0, x, np.zeros((4, 2)), np.zeros(1, np.int64), 0, code,
         np.zeros((3, n_theta)), 1, make_hyper("sgd"), idx, np.zeros(1))
        for code in (0,)
    ] + [
        (np.zeros(n_theta), sizes, 1, x, np.zeros((1, 1)), np.zeros(4, np.int64), 1, 5,
         np.zeros((3, n_theta)), 1, make_hyper("adam"), idx, np.zeros(1))
    ]


@kernel(example=_ex_train_steps)
def _train_steps(theta, sizes, act, x, target, labels, loss_code, opt_code, state, t0, hyper,
                 batches, losses):
    """Run len(batches) optimizer steps; batches (k, B) holds each step's row indices.

    Step j: gather the rows, L, g = value and ∂L/∂θ on them, then `apply_step(opt_code, θ, g,
    state, t0 + j, hyper)`. losses[j] = L before the update. Stops at the first non-finite
    loss (θ untouched by that step) and returns the number of steps done. A dead unit (its
    gradients all 0) with eps = 0 is simply not moved (`apply_step`), never a division by zero.
    """
    k, b = batches.shape
    d_in = x.shape[1]
    xb = np.empty((b, d_in))
    use_target = loss_code == 0
    tb = np.empty((b, target.shape[1])) if use_target else target
    lb = np.empty(b, dtype=np.int64) if not use_target else labels
    grad = np.empty_like(theta)
    for j in range(k):
        for r in range(b):
            src = batches[j, r]
            for c in range(d_in):
                xb[r, c] = x[src, c]
            if use_target:
                for c in range(target.shape[1]):
                    tb[r, c] = target[src, c]
            else:
                lb[r] = labels[src]
        loss = _mlp_value_and_grad(theta, sizes, act, xb, tb, lb, loss_code, grad)
        if not np.isfinite(loss):
            return j
        finite = True
        for i in range(grad.shape[0]):
            if not np.isfinite(grad[i]):
                finite = False
                break
        if not finite:
            return j
        losses[j] = loss
        apply_step(opt_code, theta, grad, state, t0 + j, hyper)
    return k


@dataclass(frozen=True)
class Checkpoint:
    """Everything a training run needs to resume exactly: θ, optimizer state, steps taken."""

    theta: np.ndarray
    state: np.ndarray
    t: int


class Trainer:
    """Trains `model` in place on (X, y), one mini-batch step (or many) at a time.

    Batches: each epoch shuffles the rows with the generator seeded by (seed, epoch) and takes
    consecutive slices of `batch_size` (the last one smaller); `batch_size=None` or ≥ N is
    full-batch gradient descent. Because the shuffle depends only on (seed, epoch), restoring a
    `checkpoint()` and stepping again replays the same batches.
    """

    def __init__(self, model: MLP, X, y, loss: str = "cross_entropy", optimizer: str = "sgd",
                 lr: float | None = None, batch_size: int | None = None, seed: int = 0,
                 **hyper) -> None:
        if not isinstance(model, MLP):
            raise ValueError(f"model must be an MLP, got {type(model).__name__}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
        if lr is not None:
            hyper["lr"] = lr
        self.hyper = make_hyper(optimizer, **hyper)
        self.model = model
        self.x = model.check_inputs(X)
        self.loss = loss
        self.target, self.labels = prepare_targets(model, self.x, y, loss)
        self.loss_code = LOSSES[loss]
        n = self.x.shape[0]
        if batch_size is None:
            batch_size = n
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")
        self.batch_size = int(min(batch_size, n))
        self.seed = int(seed)
        self.optimizer = optimizer
        if optimizer == "newton" and model.n_parameters > NEWTON_MAX_PARAMETERS:
            raise ValueError(
                f"newton needs the {model.n_parameters}² Hessian; use at most "
                f"{NEWTON_MAX_PARAMETERS} parameters or a first-order optimizer"
            )
        self.code = OPTIMIZER_CODES.get(optimizer, -1)
        self.state = np.zeros((3, model.n_parameters))
        self.t = 0
        self.diverged = False
        self._perm_epoch = -1
        self._perm = np.arange(n)

    @property
    def batches_per_epoch(self) -> int:
        return -(-self.x.shape[0] // self.batch_size)

    def batch_indices(self, step: int) -> np.ndarray:
        """The row indices of 0-based step `step`."""
        n = self.x.shape[0]
        if self.batch_size >= n:
            return np.arange(n)
        epoch, k = divmod(step, self.batches_per_epoch)
        if epoch != self._perm_epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(n)
            self._perm_epoch = epoch
        return self._perm[k * self.batch_size : (k + 1) * self.batch_size]

    def run(self, steps: int) -> np.ndarray:
        """Take up to `steps` steps; return their mini-batch losses (shorter if it diverged)."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ValueError(f"steps must be a non-negative whole number, got {steps!r}")
        out = []
        remaining = int(steps)
        while remaining > 0 and not self.diverged:
            k = min(remaining, 256)
            out.append(self._run_chunk(k))
            remaining -= k
        return np.concatenate(out) if out else np.zeros(0)

    def step(self) -> float:
        """One step; its mini-batch loss (NaN once the run has diverged)."""
        losses = self.run(1)
        return float(losses[0]) if losses.size else float("nan")

    def _run_chunk(self, k: int) -> np.ndarray:
        if self.optimizer == "newton":
            return self._newton(k)
        idx = [self.batch_indices(self.t + j) for j in range(k)]
        losses = []
        start = 0
        while start < k:  # the kernel wants equal batches: a ragged last batch is its own call
            end = start + 1
            while end < k and idx[end].size == idx[start].size:
                end += 1
            part = np.empty(end - start)
            with np.errstate(over="ignore", invalid="ignore"):  # only matters without the JIT
                done = _train_steps(self.model.theta, self.model._sizes, self.model._act, self.x,
                                    self.target, self.labels, self.loss_code, self.code, self.state,
                                    self.t + 1, self.hyper, np.stack(idx[start:end]), part)
            self.t += done
            losses.append(part[:done])
            if done < end - start:
                self.diverged = True
                break
            start = end
        return np.concatenate(losses)

    def _grad(self, theta, idx) -> tuple[float, np.ndarray]:
        grad = np.empty_like(theta)
        target = self.target[idx] if self.loss_code == 0 else self.target
        labels = self.labels[idx] if self.loss_code == 1 else self.labels
        x = np.ascontiguousarray(self.x[idx])
        value = _mlp_value_and_grad(theta, self.model._sizes, self.model._act, x,
                                    np.ascontiguousarray(target), np.ascontiguousarray(labels),
                                    self.loss_code, grad)
        return value, grad

    def _newton(self, k: int) -> np.ndarray:
        """θ ← θ - η H⁻¹ g with H by central differences of g (least squares when singular)."""
        theta = self.model.theta
        losses = []
        for _ in range(k):
            idx = self.batch_indices(self.t)
            value, g = self._grad(theta, idx)
            if not (np.isfinite(value) and np.all(np.isfinite(g))):
                self.diverged = True
                break
            n, h = theta.size, 1e-5
            hess = np.empty((n, n))
            probe = theta.copy()
            for i in range(n):
                probe[i] = theta[i] + h
                gp = self._grad(probe, idx)[1]
                probe[i] = theta[i] - h
                gm = self._grad(probe, idx)[1]
                probe[i] = theta[i]
                hess[:, i] = (gp - gm) / (2 * h)
            hess = 0.5 * (hess + hess.T)
            direction = np.linalg.lstsq(hess, g, rcond=None)[0]
            if not np.all(np.isfinite(direction)):
                self.diverged = True
                break
            theta -= self.hyper[0] * direction
            losses.append(value)
            self.t += 1
        return np.array(losses)

    def checkpoint(self) -> Checkpoint:
        """A copy of the current θ, optimizer state and step count."""
        return Checkpoint(self.model.theta.copy(), self.state.copy(), self.t)

    def restore(self, cp: Checkpoint) -> None:
        """Return to `cp` (the model's weights included)."""
        self.model.theta[:] = cp.theta
        self.state[:] = cp.state
        self.t = cp.t
        self.diverged = False

    def evaluate(self, X=None, y=None) -> float:
        """The full loss (not a mini-batch) on (X, y), the training set by default."""
        from core.nn.mlp import value_and_grad

        if X is None:
            X, y = self.x, (self.labels if self.loss_code == 1 else self.target)
        return value_and_grad(self.model, X, y, self.loss)[0]


def train(model: MLP, X, y, loss: str = "cross_entropy", optimizer: str = "sgd",
          lr: float | None = None, steps: int = 100, batch_size: int | None = None,
          seed: int = 0, **hyper) -> np.ndarray:
    """Train `model` in place by mini-batch steps; return the loss of each step's batch.

    `optimizer`: any of sgd, momentum, nesterov, adagrad, rmsprop, adam, amsgrad, newton, with
    `lr` and `**hyper` (gamma, beta1, beta2, eps) defaulting to core.optim's `DEFAULTS`.
    `batch_size=None` uses every row each step. A run whose loss becomes NaN or infinite stops
    early: the history is then shorter than `steps`.
    """
    trainer = Trainer(model, X, y, loss, optimizer, lr, batch_size, seed, **hyper)
    return trainer.run(steps)


def default_hyper(optimizer: str) -> dict[str, float]:
    """The default hyperparameters of `optimizer` (core.optim's `DEFAULTS`)."""
    if optimizer not in DEFAULTS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
    return dict(DEFAULTS[optimizer])
