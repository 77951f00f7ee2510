"""core.tensor.optim: optimizers over a model's parameters, on core.optim's update kernel `apply_step`.

Each step calls `apply_step` once per parameter on flat views of its data and gradient, with
per-parameter state (3, n) and step count, so the update equations are the notes' (3.5) exactly
as `core.optim` runs them (ε inside the square root for AdaGrad/RMSProp, AMSGrad's max
without bias correction; see `core.optim.steps.apply_step` for where PyTorch differs).
"""

from __future__ import annotations

import numpy as np

from core import _jit
from core.optim.steps import DEFAULTS, OPTIMIZER_CODES, _example, apply_step, make_hyper
from core.tensor._tensor import Tensor

# Warming up "tensor" also compiles the update kernel these optimizers call (it lives in
# core.optim), so a lab that lists only "tensor" in CORE_PACKAGES never compiles on first use.
_jit._REGISTRY.append(_jit.Kernel("core.tensor.optim.apply_step", apply_step, _example))

__all__ = ["Optimizer", "SGD", "Adam", "AMSGrad", "AdaGrad", "Adagrad", "RMSProp", "RMSprop"]


class Optimizer:
    """Updates `params` (Tensors that require grad) in place from their `.grad` on `step()`.

    weight_decay λ adds λ θ to each gradient first (L2 regularisation, as torch's SGD/Adam).
    `lr` can be changed between steps (a schedule).
    """

    def __init__(self, params, name: str, weight_decay: float = 0.0, **hyper):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters; expected at least one")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(
                    f"{type(self).__name__}: parameter {i} is not a Tensor that requires grad"
                )
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: got weight_decay={weight_decay!r}; expected a number >= 0")
        self.name = name
        self.code = OPTIMIZER_CODES[name]
        self.hyper = make_hyper(name, **hyper)
        self.weight_decay = float(weight_decay)
        self.state = [np.zeros((3, p.data.size)) for p in self.params]
        self.steps = [0] * len(self.params)

    @property
    def lr(self) -> float:
        return float(self.hyper[0])

    @lr.setter
    def lr(self, value: float) -> None:
        self.hyper = make_hyper(self.name, **{**dict(zip(("lr", "gamma", "beta1", "beta2", "eps"), self.hyper)), "lr": value})

    def zero_grad(self) -> None:
        """Set every parameter's grad to None."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        code, hyper, wd = self.code, self.hyper, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            data = p.data
            state = self.state[i]
            if data.size != state.shape[1] or g.shape != data.shape:
                raise ValueError(
                    f"{type(self).__name__}: parameter {i} has data {data.shape} and grad "
                    f"{g.shape}; expected equal shapes with {state.shape[1]} elements"
                )
            flat_g = g.reshape(-1)
            contiguous = data.flags.c_contiguous and data.dtype == np.float64
            theta = data.reshape(-1) if contiguous else np.ascontiguousarray(data, dtype=np.float64).reshape(-1)
            if wd:
                flat_g = flat_g + wd * theta
            elif not flat_g.flags.c_contiguous:
                flat_g = np.ascontiguousarray(flat_g)
            self.steps[i] += 1
            apply_step(code, theta, flat_g, state, self.steps[i], hyper)
            if not contiguous:
                p.data[...] = theta.reshape(data.shape)


class SGD(Optimizer):
    """θ ← θ − η g; with momentum γ: v ← γ v + η g, θ ← θ − v (3.5.1); nesterov=True: (3.5.2)."""

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        if nesterov and not momentum:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        name = "nesterov" if nesterov else ("momentum" if momentum else "sgd")
        super().__init__(params, name, weight_decay, lr=lr, gamma=momentum)


class Adam(Optimizer):
    """Adam (3.5.5) with bias correction; amsgrad=True switches to `AMSGrad` (3.5.6)."""

    def __init__(self, params, lr: float = DEFAULTS["adam"]["lr"], betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        b1, b2 = betas
        super().__init__(params, "amsgrad" if amsgrad else "adam", weight_decay, lr=lr, beta1=b1, beta2=b2, eps=eps)


class AMSGrad(Adam):
    """AMSGrad as the notes write it (3.5.6): Adam's moments, v̂ = max(v̂, v), no bias correction."""

    def __init__(self, params, lr: float = DEFAULTS["amsgrad"]["lr"], betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=True)


class AdaGrad(Optimizer):
    """s ← s + g²; θ ← θ − η/√(s + ε) g (3.5.3)."""

    def __init__(self, params, lr: float = DEFAULTS["adagrad"]["lr"], eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, "adagrad", weight_decay, lr=lr, eps=eps)


class RMSProp(Optimizer):
    """s ← γ s + (1 − γ) g²; θ ← θ − η/√(s + ε) g (3.5.4); `alpha` is γ (torch's name)."""

    def __init__(self, params, lr: float = DEFAULTS["rmsprop"]["lr"], alpha: float = 0.9, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, "rmsprop", weight_decay, lr=lr, gamma=alpha, eps=eps)


Adagrad = AdaGrad
RMSprop = RMSProp
