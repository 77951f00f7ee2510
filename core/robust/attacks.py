"""Gradient attacks on a classifier's input: FGSM (one signed step) and PGD (projected ascent)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from core.robust._checks import (
    as_clip,
    as_float,
    as_inputs,
    as_int,
    as_labels,
    check_labels_fit,
)

NORMS = ("inf", "2")

#: Below this L2 norm a gradient counts as zero (no direction to step in).
_TINY = 1e-300


def _norm_name(norm) -> str:
    if isinstance(norm, str) and norm.lower() in ("inf", "linf", "l_inf"):
        return "inf"
    if isinstance(norm, str) and norm.lower() in ("2", "l2"):
        return "2"
    if not isinstance(norm, (bool, str)) and norm in (np.inf, 2):
        return "inf" if norm == np.inf else "2"
    raise ValueError(f"norm must be \"inf\" or \"2\", got {norm!r}")


def per_sample_losses(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cross-entropy of each row: logsumexp(z) − z_y, computed stably. (N, C), (N,) -> (N,)."""
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return lse - logits[np.arange(len(y)), y]


def logits_of(model, x) -> np.ndarray:
    """The model's logits (N, C) for inputs x (N, D...), without recording a graph."""
    from core.tensor import no_grad, tensor

    x = as_inputs(x)
    with no_grad():
        out = model(tensor(x))
    return np.array(out.data, dtype=np.float64)


@contextmanager
def frozen(model):
    """The model's parameters stop requiring gradients for a while (an attack differentiates
    the input only: no weight gradient is computed), then get back their flags and `.grad`."""
    params = list(model.parameters())
    saved = [(p.requires_grad, p.grad) for p in params]
    for p in params:
        if p.requires_grad:
            p.requires_grad_(False)
    try:
        yield
    finally:
        for p, (flag, grad) in zip(params, saved):
            if flag:
                p.requires_grad_(True)
            p.grad = grad


#: Layers the direct path computes itself (Dropout only in eval mode: the identity).
_DIRECT = {"Linear", "ReLU", "Tanh", "Sigmoid", "Dropout"}


def _direct_layers(model):
    """The layers of a plain Sequential the attacks can differentiate directly, else None."""
    if type(model).__name__ != "Sequential":
        return None
    layers = list(iter(model))
    for layer in layers:
        kind = type(layer).__name__
        if kind not in _DIRECT or (kind == "Dropout" and layer.training and layer.p > 0):
            return None
    return layers


def _direct_grad(layers, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_grad_of_loss` for a Sequential of Linear layers and activations, written out: the same
    products as core.tensor's backward, without building a graph or any weight gradient."""
    a = x.reshape(x.shape[0], -1) if x.ndim > 2 else x
    saved = []
    for layer in layers:
        kind = type(layer).__name__
        if kind == "Linear":
            w = layer.weight.data
            if a.shape[-1] != w.shape[1]:
                raise ValueError(f"linear: got input {a.shape} and weight {w.shape}; expected "
                                 "input (..., in) and weight (out, in)")
            out = a @ w.T
            if layer.bias is not None:
                out += layer.bias.data
        elif kind == "ReLU":
            out = np.maximum(a, 0.0)
        elif kind == "Tanh":
            out = np.tanh(a)
        elif kind == "Sigmoid":
            out = 1.0 / (1.0 + np.exp(-a))
        else:
            out = a
        saved.append((kind, layer, a, out))
        a = out
    z = a
    check_labels_fit(y, z)
    rows = np.arange(len(y))
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(axis=1, keepdims=True)
    losses = np.log(total[:, 0]) - shifted[rows, y]  # logsumexp(z) − z_y
    p /= total
    p[rows, y] -= 1.0
    g = p / len(y)
    for kind, layer, inp, out in reversed(saved):
        if kind == "Linear":
            g = g @ layer.weight.data
        elif kind == "ReLU":
            g = g * (inp > 0)
        elif kind == "Tanh":
            g = g * (1.0 - out * out)
        elif kind == "Sigmoid":
            g = g * out * (1.0 - out)
    return losses, g.reshape(x.shape)


def _grad_of_loss(model, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per-sample losses (N,), ∇ₓ J (N, D...)) with J the mean cross-entropy of model(x).

    The parameters' `.grad` are left as they were (the attack only differentiates x). A
    Sequential of Linear layers and ReLU / tanh / sigmoid is differentiated directly (the same
    products, no graph); any other core.tensor module through its backward().
    """
    layers = _direct_layers(model)
    if layers is not None:
        return _direct_grad(layers, x, y)
    return _graph_grad(model, x, y)


def _graph_grad(model, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_grad_of_loss` through core.tensor's autodiff, for any module."""
    from core.tensor import tensor
    from core.tensor import functional as F

    xt = tensor(x, requires_grad=True)
    with frozen(model):
        logits = model(xt)
        z = np.asarray(logits.data, dtype=np.float64)
        check_labels_fit(y, z)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        grad = np.array(xt.grad, dtype=np.float64).reshape(x.shape)
    return per_sample_losses(z, y), grad


def input_gradient(model, x, y) -> tuple[float, np.ndarray]:
    """(J, ∇ₓ J) for J = mean cross-entropy of `model(x)` against integer labels y.

    x (N, D...) float, y (N,) integer labels in [0, C); the gradient has x's shape.
    """
    x = as_inputs(x)
    y = as_labels(y, x.shape[0])
    losses, grad = _grad_of_loss(model, x, y)
    return float(losses.mean()), grad


def fgsm(model, x, y, eps, clip=None) -> np.ndarray:
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size ε in L∞.

    x̃ = x + ε · sign(∇ₓ J(θ, x, y)), then clipped to [lo, hi] when `clip = (lo, hi)`.

    `model` maps a `core.tensor` Tensor (N, D...) to logits (N, C); J is the mean
    cross-entropy against integer labels y (N,). Returns x̃ with x's shape (float64).
    """
    x = as_inputs(x)
    y = as_labels(y, x.shape[0])
    eps = as_float(eps, "eps")
    box = as_clip(clip, x)
    _, grad = _grad_of_loss(model, x, y)
    adv = x + eps * np.sign(grad)
    if box is not None:
        np.clip(adv, box[0], box[1], out=adv)
    return adv


def project(delta: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """The perturbations δ (N, D...) projected onto the ε-ball of `norm` ("inf" or "2")."""
    if norm == "inf":
        return np.clip(delta, -eps, eps)
    flat = delta.reshape(delta.shape[0], -1)
    size = np.sqrt(np.einsum("ij,ij->i", flat, flat))
    scale = np.minimum(1.0, eps / np.maximum(size, _TINY))
    return (flat * scale[:, None]).reshape(delta.shape)


def ascent_direction(grad: np.ndarray, norm: str) -> np.ndarray:
    """The steepest-ascent unit step for `norm`: sign(g) in L∞, g / ‖g‖₂ (per sample) in L2."""
    if norm == "inf":
        return np.sign(grad)
    flat = grad.reshape(grad.shape[0], -1)
    size = np.sqrt(np.einsum("ij,ij->i", flat, flat))
    unit = np.where(size[:, None] > _TINY, flat / np.maximum(size, _TINY)[:, None], 0.0)
    return unit.reshape(grad.shape)


def uniform_in_ball(x: np.ndarray, eps: float, norm: str, seed: int) -> np.ndarray:
    """A uniform random point of the ε-ball around each sample (L∞: a cube; L2: a ball)."""
    rng = np.random.default_rng(seed)
    if norm == "inf":
        return rng.uniform(-eps, eps, size=x.shape)
    n, d = x.shape[0], int(np.prod(x.shape[1:]))
    direction = rng.standard_normal((n, d))
    direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), _TINY)
    radius = eps * rng.uniform(0.0, 1.0, size=(n, 1)) ** (1.0 / d)
    return (direction * radius).reshape(x.shape)


def _check_pgd(x, y, eps, alpha, steps, norm, seed, clip):
    x = as_inputs(x)
    y = as_labels(y, x.shape[0])
    eps = as_float(eps, "eps")
    alpha = as_float(alpha, "alpha", strict=True)
    steps = as_int(steps, "steps", 0)
    if steps > 100_000:
        raise ValueError(f"steps must be at most 100000, got {steps}")
    return x, y, eps, alpha, steps, _norm_name(norm), as_int(seed, "seed", 0), as_clip(clip, x)


def _iterates(model, x, y, eps, alpha, steps, norm, start, seed, box):
    """Yield (xₜ, per-sample losses at xₜ) for t = 0 ... steps."""
    delta = uniform_in_ball(x, eps, norm, seed) if start else np.zeros_like(x)
    current = x + delta
    if box is not None:
        np.clip(current, box[0], box[1], out=current)
    for _ in range(steps):
        loss, grad = _grad_of_loss(model, current, y)
        yield current, loss
        delta = project(current + alpha * ascent_direction(grad, norm) - x, eps, norm)
        current = x + delta
        if box is not None:  # x is inside the box: clipping only shrinks |δᵢ|, staying in the ball
            np.clip(current, box[0], box[1], out=current)
    yield current, per_sample_losses(logits_of(model, current), y)


def pgd_path(model, x, y, eps, alpha, steps, norm="inf", random_start=False, seed=0,
             clip=None) -> tuple[list[np.ndarray], np.ndarray]:
    """Every iterate of `pgd`: ([x₀, x₁, ..., x_steps], per-sample losses (steps + 1, N))."""
    x, y, eps, alpha, steps, norm, seed, box = _check_pgd(x, y, eps, alpha, steps, norm, seed,
                                                          clip)
    path = list(_iterates(model, x, y, eps, alpha, steps, norm, random_start, seed, box))
    return [p for p, _ in path], np.array([loss for _, loss in path])


def pgd(model, x, y, eps, alpha, steps, norm="inf", random_start=False, seed=0,
        clip=None) -> np.ndarray:
    """Projected gradient descent on the loss (Madry et al. 2018), as an ascent in the ε-ball.

    xₜ₊₁ = Π_{B(x, ε)}(xₜ + α · sign(∇ₓ J(xₜ)))        (norm = "inf")

    xₜ₊₁ = Π_{B(x, ε)}(xₜ + α · ∇ₓ J(xₜ) / ‖∇ₓ J(xₜ)‖₂)  (norm = "2", per sample)

    x₀ = x, or a uniform point of the ball with `random_start` (seeded: deterministic either
    way); with `clip = (lo, hi)` each iterate is also clipped to the box (x must be inside it).
    Returns, for each sample, the iterate among x₁ ... x_steps with the largest loss, so one
    more step never lowers a sample's loss, and steps = 1, α = ε, norm = "inf" is exactly
    FGSM. steps = 0 returns x₀. Shapes: x (N, D...), y (N,) -> x's shape.
    """
    x, y, eps, alpha, steps, norm, seed, box = _check_pgd(x, y, eps, alpha, steps, norm, seed,
                                                          clip)
    best, best_loss = None, None
    for t, (current, loss) in enumerate(_iterates(model, x, y, eps, alpha, steps, norm,
                                                  random_start, seed, box)):
        if t == 0 and steps > 0:
            continue
        if best is None:
            best, best_loss = current.copy(), loss.copy()
            continue
        better = loss > best_loss
        best[better] = current[better]
        best_loss = np.where(better, loss, best_loss)
    return best
