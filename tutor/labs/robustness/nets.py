"""The lab's networks: seeded core.tensor MLPs and one training loop with the chapter's options
(weight decay, dropout, adversarial examples, spectral normalization), Adam from core.optim."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.optim.steps import OPTIMIZER_CODES, apply_step
from core.robust import fgsm, per_sample_losses, pgd
from core.tensor import no_grad, tensor
from core.tensor import functional as F
from core.tensor import nn as tnn


class Cancelled(Exception):
    """Training was stopped from outside (the lab that asked for it went away)."""


#: Per thread: a function returning True when the training running in that thread should
#: stop (a UI worker sets it to its `is_cancelled`); checked between training steps.
_stop = threading.local()


def stop_when(check: Callable[[], bool] | None) -> None:
    """Make every `train` in this thread stop (raising Cancelled) once `check()` is True."""
    _stop.check = check


def check_stop() -> None:
    """Raise Cancelled when this thread's stop check (see `stop_when`) says so."""
    check = getattr(_stop, "check", None)
    if check is not None and check():
        raise Cancelled


def make_mlp(sizes: list[int], seed: int, dropout: float = 0.0) -> tnn.Sequential:
    """Linear-ReLU-...-Linear with torch's default initialization (seeded), and a Dropout(p)
    after each ReLU when dropout > 0."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(tnn.Linear(a, b, seed=rng))
        if i < len(sizes) - 2:
            layers.append(tnn.ReLU())
            if dropout > 0:
                layers.append(tnn.Dropout(dropout, seed=rng))
    return tnn.Sequential(*layers)


def linears(model) -> list:
    """The Linear layers of a Sequential, in order."""
    return [m for m in model if type(m).__name__ == "Linear"]


def evaluate(model, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode."""
    was = model.training
    model.eval()
    with no_grad():
        z = np.asarray(model(tensor(X)).data)
    model.train(was)
    return float(per_sample_losses(z, y).mean()), float(np.mean(z.argmax(axis=1) == y))


def attacker(kind: str, eps: float, alpha: float, steps: int, norm: str = "inf",
             clip=None) -> Callable | None:
    """`attack(model, x, y) -> x_adv` for adversarial training (None: no attack)."""
    if kind == "none" or eps <= 0:
        return None
    if kind == "fgsm":
        return lambda model, x, y: fgsm(model, x, y, eps, clip=clip)
    return lambda model, x, y: pgd(model, x, y, eps, alpha, steps, norm=norm, clip=clip)


@dataclass
class TrainLog:
    """Losses and accuracies recorded every `every` steps (index 0 = before training)."""

    every: int
    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)

    def record(self, step, model, X, y, Xt, yt) -> None:
        a, b = evaluate(model, X, y)
        c, d = evaluate(model, Xt, yt)
        self.steps.append(step)
        self.train_loss.append(a)
        self.train_acc.append(b)
        self.test_loss.append(c)
        self.test_acc.append(d)


class _Spectral:
    """Miyato et al.'s reparametrization W_SN = W / σ(W), σ from one power iteration per step
    (u kept from step to step), the gradient flowing through σ with u, v held fixed, as
    torch.nn.utils.spectral_norm."""

    def __init__(self, layer, rng) -> None:
        self.layer = layer
        self.raw = np.array(layer.weight.data)
        u = rng.standard_normal(self.raw.shape[0])
        self.u = u / np.linalg.norm(u)
        self.v = np.zeros(self.raw.shape[1])
        self.sigma = 1.0

    def normalize(self) -> None:
        v = self.raw.T @ self.u
        self.v = v / max(np.linalg.norm(v), 1e-12)
        u = self.raw @ self.v
        self.u = u / max(np.linalg.norm(u), 1e-12)
        self.sigma = max(float(self.u @ self.raw @ self.v), 1e-12)
        self.layer.weight.data[...] = self.raw / self.sigma

    def raw_grad(self, g: np.ndarray) -> np.ndarray:
        """∂J/∂W from ∂J/∂W_SN: (G − (uᵀGv) u vᵀ) / σ."""
        return (g - float(self.u @ g @ self.v) * np.outer(self.u, self.v)) / self.sigma


def train(model, X, y, Xt, yt, *, steps: int, lr: float, batch_size: int, seed: int,
          weight_decay: float = 0.0, attack: Callable | None = None, spectral: bool = False,
          every: int = 0) -> TrainLog:
    """Mini-batch Adam (core.optim's update) on the mean cross-entropy, in place.

    weight_decay adds λθ to every gradient (torch's `Adam(weight_decay=λ)`); `attack(model,
    x, y)` replaces each batch by its adversarial examples (Madry et al.'s min-max);
    `spectral` trains W / σ(W) instead of W. Records the losses every `every` steps.
    """
    rng = np.random.default_rng(seed)
    params = list(model.parameters())
    spec = {id(m.weight): _Spectral(m, rng) for m in linears(model)} if spectral else {}
    states = [np.zeros((3, p.data.size)) for p in params]
    hyper = np.array([lr, 0.9, 0.9, 0.999, 1e-8])
    code = OPTIMIZER_CODES["adam"]
    log = TrainLog(every)
    n = len(y)
    order = rng.permutation(n)
    pos = 0
    for s in spec.values():
        s.normalize()
    if every:
        log.record(0, model, X, y, Xt, yt)
    model.train()
    check = getattr(_stop, "check", None)
    for t in range(1, steps + 1):
        if check is not None and check():
            raise Cancelled
        if pos + batch_size > n:
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        xb, yb = X[idx], y[idx]
        if attack is not None:
            model.eval()
            xb = attack(model, xb, yb)
            model.train()
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(tensor(xb)), yb)
        loss.backward()
        for p, state in zip(params, states):
            s = spec.get(id(p))
            g = p.grad if p.grad is not None else np.zeros_like(p.data)
            if s is not None:
                g = s.raw_grad(g)
                target = s.raw
            else:
                target = p.data
            if weight_decay:
                g = g + weight_decay * target
            flat = target.reshape(-1)  # a view: the kernel updates the weights in place
            apply_step(code, flat, np.ascontiguousarray(g, dtype=np.float64).reshape(-1), state,
                       t, hyper)
        for s in spec.values():
            s.normalize()
        if every and t % every == 0:
            log.record(t, model, X, y, Xt, yt)
    model.eval()
    return log
