"""A recurrent network with a linear read-out, its cross-entropy loss, and an Adam trainer.

    hₜ = cell(xₜ, hₜ₋₁)          logitsₜ = W_out hₜ + b_out

The parameters live in one flat vector `theta` (views give each weight its PyTorch shape), so
one optimizer update (`core.optim.apply_step`) and one clipping norm cover them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np

from core.optim.steps import OPTIMIZER_CODES, apply_step, make_hyper
from core.recurrent.cells import PARAM_NAMES, Unrolled, bptt, init_weights, unroll
from core.recurrent.kernels import matmul, matmul_tn


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, computed with log-sum-exp."""
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class RecurrentNet:
    """`cell` (rnn, lstm, gru) of `hidden_size` units reading `input_size` features, and a
    linear layer to `output_size` logits. PyTorch's initialisation, seeded.

    `named_parameters()` gives PyTorch's names for `nn.RNN/LSTM/GRU` (layer 0) and a
    `nn.Linear` called `out`.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int,
                 activation: str = "tanh", seed: int = 0) -> None:
        cell_w = init_weights(cell, input_size, hidden_size, seed)
        rng = np.random.default_rng([seed, 1])
        k = 1.0 / np.sqrt(hidden_size)
        shapes = {f"{n}_l0": cell_w[n].shape for n in PARAM_NAMES}
        shapes["out.weight"] = (output_size, hidden_size)
        shapes["out.bias"] = (output_size,)
        self.cell, self.activation = cell, activation
        self.sizes = (input_size, hidden_size, output_size)
        self.theta = np.empty(sum(int(np.prod(s)) for s in shapes.values()))
        self._layout: list[tuple[str, int, tuple]] = []
        at = 0
        for name, shape in shapes.items():
            self._layout.append((name, at, shape))
            at += int(np.prod(shape))
        self.params: dict[str, np.ndarray] = self.views(self.theta)
        for n in PARAM_NAMES:
            self.params[f"{n}_l0"][...] = cell_w[n]
        self.params["out.weight"][...] = rng.uniform(-k, k, shapes["out.weight"])
        self.params["out.bias"][...] = rng.uniform(-k, k, shapes["out.bias"])

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Each parameter's shaped view into a flat vector laid out like theta."""
        return {name: flat[at:at + int(np.prod(shape))].reshape(shape)
                for name, at, shape in self._layout}

    def named_parameters(self):
        return list(self.params.items())

    def cell_weights(self) -> dict[str, np.ndarray]:
        return {n: self.params[f"{n}_l0"] for n in PARAM_NAMES}

    def unroll(self, x, h0=None, c0=None, mask=None) -> Unrolled:
        """The cell over x (T, B, D)."""
        return unroll(self.cell, self.cell_weights(), x, h0, c0, self.activation, mask)

    def logits(self, h: np.ndarray) -> np.ndarray:
        """W_out h + b_out for h (..., H)."""
        return matmul(h, self.params["out.weight"].T) + self.params["out.bias"]

    def loss_and_grad(self, x, targets, every_step: bool = False, mask=None):
        """Mean cross-entropy and its gradient (flat, like theta).

        every_step=False: one label per sequence, targets (B,), read from the last state
        (with a mask: each sequence's last real step). every_step=True: targets (T, B), the
        loss averaged over the real steps. Returns (loss, grad, run, grads) with grads the
        `bptt` result (∂ℒ/∂hₜ for every t in grads.dh).
        """
        run = self.unroll(x, mask=mask)
        steps, batch, hidden = run.h.shape[0] - 1, run.h.shape[1], run.h.shape[2]
        targets = np.asarray(targets)
        dh_out = np.zeros((steps, batch, hidden))
        w_out = self.params["out.weight"]
        grad = np.zeros_like(self.theta)
        g = self.views(grad)
        if every_step:
            weight = np.ones((steps, batch)) if mask is None else np.asarray(mask, dtype=np.float64)
            count = max(weight.sum(), 1.0)
            hs = run.h[1:]
            lp = log_softmax(self.logits(hs))
            picked = np.take_along_axis(lp, targets[..., None], axis=-1)[..., 0]
            loss = float(-(picked * weight).sum() / count)
            dlogits = np.exp(lp)
            np.put_along_axis(dlogits, targets[..., None],
                              np.take_along_axis(dlogits, targets[..., None], -1) - 1.0, -1)
            dlogits *= (weight / count)[..., None]
            dh_out = matmul(dlogits, w_out)
            flat_h = hs.reshape(-1, hidden)
            g["out.weight"][...] = matmul_tn(dlogits.reshape(-1, dlogits.shape[-1]), flat_h)
            g["out.bias"][...] = dlogits.reshape(-1, dlogits.shape[-1]).sum(axis=0)
        else:
            last = run.h[-1]
            lp = log_softmax(self.logits(last))
            loss = float(-lp[np.arange(batch), targets].mean())
            dlogits = np.exp(lp)
            dlogits[np.arange(batch), targets] -= 1.0
            dlogits /= batch
            dh_out[-1] = matmul(dlogits, w_out)
            g["out.weight"][...] = matmul_tn(dlogits, last)
            g["out.bias"][...] = dlogits.sum(axis=0)
        grads = bptt(run, dh_out, need_dx=False)
        for n in PARAM_NAMES:
            g[f"{n}_l0"][...] = grads.weights[n]
        return loss, grad, run, grads


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> float:
    """Rescale grad in place to norm at most max_norm (as torch.nn.utils.clip_grad_norm_);
    returns the norm before clipping."""
    norm = float(np.sqrt(np.sum(grad * grad)))  # not np.dot: no BLAS threads for one norm
    if np.isfinite(norm) and norm > max_norm:
        grad *= max_norm / (norm + 1e-6)
    return norm


@dataclass(frozen=True)
class Checkpoint:
    """Everything a trainer needs to resume: weights, Adam's moments and the step count."""

    theta: np.ndarray
    state: np.ndarray
    t: int


@dataclass(frozen=True)
class StepInfo:
    """What one training step measured, on its batch, before the update: the loss, the
    accuracy of the predictions, the gradient's norm (before clipping), and how much of
    ∂ℒ/∂h_T reaches h₁ (mean over the batch of ‖∂ℒ/∂h₁‖ / ‖∂ℒ/∂h_T‖; every-step losses: the
    last step's share is not separable, so it is ‖∂ℒ/∂h₁‖ / mean ‖∂ℒ/∂hₜ‖)."""

    loss: float
    accuracy: float
    grad_norm: float
    reach: float


class Trainer:
    """Adam on a `RecurrentNet`, one batch per step; `batch_fn(step) -> (x, targets, mask)`
    makes the batch of each step (seeded by the step number, so replays are identical).
    `clip` > 0 clips the gradient's global norm first (torch.nn.utils.clip_grad_norm_)."""

    def __init__(self, net: RecurrentNet, batch_fn, every_step: bool = False, lr: float = 0.01,
                 clip: float = 0.0) -> None:
        self.net, self.batch_fn, self.every_step = net, batch_fn, every_step
        self.hyper = make_hyper("adam", lr=lr)
        self.clip = float(clip)
        self.state = np.zeros((3, net.theta.size))
        self.t = 0

    def step(self) -> StepInfo:
        """One update on the batch of step t (a non-finite gradient skips the update)."""
        x, targets, mask = self.batch_fn(self.t)
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad, run, grads = self.net.loss_and_grad(x, targets, self.every_step, mask)
            norms = np.linalg.norm(grads.dh, axis=2)  # (T, B)
            if self.every_step:
                reach = float(np.mean(norms[0] / np.maximum(norms.mean(axis=0), 1e-300)))
                pred = self.net.logits(run.h[1:]).argmax(axis=-1)
            else:
                reach = float(np.mean(norms[0] / np.maximum(norms[-1], 1e-300)))
                pred = self.net.logits(run.h[-1]).argmax(axis=-1)
        accuracy = float(np.mean(pred == targets))
        norm = clip_grad_norm(grad, self.clip if self.clip > 0 else math.inf)
        self.t += 1
        if np.isfinite(loss) and np.all(np.isfinite(grad)):
            apply_step(OPTIMIZER_CODES["adam"], self.net.theta, grad, self.state, self.t, self.hyper)
        return StepInfo(loss, accuracy, norm, reach)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.net.theta.copy(), self.state.copy(), self.t)

    def restore(self, cp: Checkpoint) -> None:
        self.net.theta[...] = cp.theta
        self.state[...] = cp.state
        self.t = cp.t


def open_gate(net: RecurrentNet, bias: float) -> None:
    """Add `bias` to the LSTM's forget gate f (GRU: update gate z) in bias_hh: a gate that
    starts open keeps the state, and its gradient, over many steps (Gers et al. 2000). The
    vanilla RNN has no gate: nothing changes."""
    if net.cell != "rnn":
        H = net.sizes[1]
        net.params["bias_hh_l0"][H:2 * H] += bias
