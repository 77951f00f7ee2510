"""Generative adversarial networks on 2-D points, and the bilinear game (chapter 10).

Notation of Goodfellow et al. (2014): the discriminator D(x) ∈ (0, 1) is the probability that
x is real, the generator G maps noise z ~ N(0, I) to points, and the value is

    V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))],

maximised by D and minimised by G. D is computed from a logit l (D = σ(l)) so every loss is a
softplus, stable for any logit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core._jit import kernel
from core.generative._mlp import ACTIVATIONS, Net
from core.optim.steps import OPTIMIZER_CODES, apply_step, make_hyper

MODES = ("simultaneous", "alternating", "extragradient")
G_LOSSES = ("nonsaturating", "minimax")


# --- the bilinear game ----------------------------------------------------------------------
def _finite(name: str, value) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative whole number, got {value!r}")
    return int(value)


@kernel(example=lambda: (1.0, 1.0, 0.1, 1, np.zeros((3, 2))))
def _bilinear_gda(x, y, eta, mode, out):
    """Fill out (steps + 1, 2) with iterates on x·y from (x, y); mode 0 simultaneous GDA,
    1 alternating GDA, 2 extragradient."""
    out[0, 0] = x
    out[0, 1] = y
    for t in range(1, out.shape[0]):
        if mode == 1:
            x = x - eta * y
            y = y + eta * x
        elif mode == 2:
            xh, yh = x - eta * y, y + eta * x  # look-ahead step
            x, y = x - eta * yh, y + eta * xh  # update with the look-ahead's gradients
        else:
            x, y = x - eta * y, y + eta * x
        out[t, 0] = x
        out[t, 1] = y


def bilinear_game(x0, y0, lr, steps, mode: str = "simultaneous") -> np.ndarray:
    """Gradient descent-ascent on min_x max_y f(x, y) = x·y; the (steps + 1, 2) trajectory.

    simultaneous: x ← x − η y,  y ← y + η x  (both from the old point): the matrix
    [[1, −η], [η, 1]] = √(1 + η²) × a rotation, so the radius grows by √(1 + η²) each step.
    alternating:  x ← x − η y,  then y ← y + η x (the new x): determinant 1, so for η < 2
    the iterates cycle on an ellipse (x² − η x y + y² stays constant) and never converge.
    extragradient: a look-ahead step (x̂, ŷ) = (x − η y, y + η x), then the update with the
    look-ahead's gradients, x ← x − η ŷ, y ← y + η x̂: the radius shrinks by
    √(1 − η² + η⁴) each step, so for 0 < η < 1 it converges to (0, 0).
    """
    x, y = _finite("x0", x0), _finite("y0", y0)
    eta = _finite("lr", lr)
    if eta <= 0:
        raise ValueError(f"lr must be > 0, got {eta}")
    steps = _count("steps", steps)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    out = np.empty((steps + 1, 2))
    _bilinear_gda(x, y, eta, MODES.index(mode), out)
    return out


# --- the optimal discriminator ----------------------------------------------------------------
def _densities(p_data, p_model) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_data, dtype=np.float64)
    q = np.asarray(p_model, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p_data and p_model must have the same shape, got {p.shape} and {q.shape}")
    for name, a in (("p_data", p), ("p_model", q)):
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"{name} must hold finite non-negative densities")
    return p, q


def optimal_discriminator(p_data, p_model) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_model(x)), elementwise; 1/2 where both are 0.

    For a fixed G the value V is maximised pointwise by D* (Goodfellow et al. 2014, Prop. 1).
    """
    p, q = _densities(p_data, p_model)
    total = p + q
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), 0.5)


def _distribution(name: str, a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a 1-D probability vector")
    if not np.all(np.isfinite(a)) or np.any(a < 0) or abs(a.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must be non-negative and sum to 1, got sum {a.sum():.6g}")
    return a


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def js_divergence(p, q) -> float:
    """JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q)/2, natural log; in [0, log 2]."""
    p, q = _distribution("p", p), _distribution("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same length, got {p.size} and {q.size}")
    m = (p + q) / 2
    return 0.5 * _kl(p, m) + 0.5 * _kl(q, m)


def gan_value(p, q, d) -> float:
    """V(D, G) = Σ p log D + Σ q log(1 − D) for discrete p (data) and q (generator)."""
    p, q = _distribution("p", p), _distribution("q", q)
    d = np.asarray(d, dtype=np.float64)
    if d.shape != p.shape or q.shape != p.shape:
        raise ValueError("p, q and d must have the same length")
    if np.any((d < 0) | (d > 1)) or not np.all(np.isfinite(d)):
        raise ValueError("d must hold probabilities in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(d), 0.0)
        b = np.where(q > 0, q * np.log1p(-d), 0.0)
    return float(a.sum() + b.sum())


# --- losses on logits ---------------------------------------------------------------------------
def softplus(l: np.ndarray) -> np.ndarray:
    """log(1 + exp(l)), stable for any l."""
    return np.logaddexp(0.0, l)


def sigmoid(l: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * l))


def discriminator_loss(l_real: np.ndarray, l_fake: np.ndarray) -> float:
    """−E[log D(x)] − E[log(1 − D(G(z)))] = mean softplus(−l_real) + mean softplus(l_fake)."""
    return float(softplus(-l_real).mean() + softplus(l_fake).mean())


def generator_loss(l_fake: np.ndarray, loss: str = "nonsaturating") -> float:
    """minimax: E[log(1 − D(G(z)))] = −mean softplus(l);  nonsaturating: −E[log D(G(z))]."""
    if loss == "minimax":
        return float(-softplus(l_fake).mean())
    return float(softplus(-l_fake).mean())


def generator_loss_grad(l_fake: np.ndarray, loss: str = "nonsaturating") -> np.ndarray:
    """d (generator loss) / d l for each fake logit (before the 1/N of the mean).

    minimax: −σ(l) = −D, which vanishes where D confidently rejects (D → 0);
    nonsaturating: −σ(−l) = −(1 − D), close to −1 exactly there.
    """
    return -sigmoid(l_fake) if loss == "minimax" else -sigmoid(-l_fake)


# --- a GAN trainer ------------------------------------------------------------------------------
class _Adam:
    """An optimizer of core.optim over one flat vector (state copied for the lab's history)."""

    def __init__(self, name: str, n: int, lr: float, beta1: float = 0.5) -> None:
        if name not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be sgd or adam, got {name!r}")
        self.code = OPTIMIZER_CODES[name]
        self.hyper = make_hyper(name, lr=lr, beta1=beta1) if name == "adam" else make_hyper(name, lr=lr)
        self.state = np.zeros((3, n))
        self.t = 0

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.t += 1
        apply_step(self.code, theta, grad, self.state, self.t, self.hyper)


@dataclass(frozen=True)
class GanCheckpoint:
    """Everything a GAN step reads: weights, optimizer states, counters and the random state."""

    theta_g: np.ndarray
    theta_d: np.ndarray
    opt_g: tuple
    opt_d: tuple
    rng: dict
    d_steps: int
    g_steps: int


def _points(name: str, x, min_n: int = 2) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {x.shape}")
    if len(x) < min_n:
        raise ValueError(f"{name} needs at least {min_n} points, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return np.ascontiguousarray(x)


def _hidden(name: str, hidden) -> list[int]:
    out = []
    for h in hidden:
        if isinstance(h, bool) or float(h) != int(h) or not 1 <= int(h) <= 256:
            raise ValueError(f"{name} widths must be whole numbers from 1 to 256, got {h!r}")
        out.append(int(h))
    if len(out) > 4:
        raise ValueError(f"{name}: at most 4 hidden layers, got {len(out)}")
    return out


class GAN:
    """A generator and a discriminator MLP on 2-D data, trained k:1 (Goodfellow et al. 2014, Alg. 1).

    G: z (N, latent) ~ N(0, I) -> x (N, 2); D: x -> logit l, D(x) = σ(l). Each `d_step` takes a
    batch of real points and of fresh z and descends the discriminator loss; each `g_step`
    draws fresh z and descends the generator loss (`g_loss` "minimax" or "nonsaturating")
    through the fixed D. `step()` is k D steps then one G step. Separate learning rates;
    Adam (β₁ = 0.5, as usual for GANs) or SGD from `core.optim`.
    """

    def __init__(self, data, latent: int = 2, g_hidden=(16, 16), d_hidden=(16, 16),
                 activation: str = "relu", g_lr: float = 1e-3, d_lr: float = 1e-3, k: int = 1,
                 g_loss: str = "nonsaturating", optimizer: str = "adam", batch_size: int = 64,
                 seed: int = 0) -> None:
        self.data = _points("data", data)
        if isinstance(latent, bool) or not isinstance(latent, (int, np.integer)) or not 1 <= latent <= 16:
            raise ValueError(f"latent must be a whole number from 1 to 16, got {latent!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if g_loss not in G_LOSSES:
            raise ValueError(f"g_loss must be one of {', '.join(G_LOSSES)}, got {g_loss!r}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 100:
            raise ValueError(f"k must be a whole number from 1 to 100, got {k!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        for name, lr in (("g_lr", g_lr), ("d_lr", d_lr)):
            if _finite(name, lr) <= 0:
                raise ValueError(f"{name} must be > 0, got {lr}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")
        self.latent, self.k, self.g_loss = int(latent), int(k), g_loss
        self.batch_size = int(batch_size)
        init = np.random.default_rng(seed)
        self.G = Net([self.latent, *_hidden("g_hidden", g_hidden), 2], activation, init)
        self.D = Net([2, *_hidden("d_hidden", d_hidden), 1], activation, init)
        self.opt_g = _Adam(optimizer, self.G.n_parameters, float(g_lr))
        self.opt_d = _Adam(optimizer, self.D.n_parameters, float(d_lr))
        self.rng = np.random.default_rng(seed + 1)
        self.d_steps = 0
        self.g_steps = 0

    # --- checkpoints (the lab's history) ---
    def checkpoint(self) -> GanCheckpoint:
        return GanCheckpoint(self.G.theta.copy(), self.D.theta.copy(),
                             (self.opt_g.state.copy(), self.opt_g.t),
                             (self.opt_d.state.copy(), self.opt_d.t),
                             self.rng.bit_generator.state, self.d_steps, self.g_steps)

    def restore(self, c: GanCheckpoint) -> None:
        self.G.theta[:] = c.theta_g
        self.D.theta[:] = c.theta_d
        self.opt_g.state[:], self.opt_g.t = c.opt_g[0], c.opt_g[1]
        self.opt_d.state[:], self.opt_d.t = c.opt_d[0], c.opt_d[1]
        self.rng.bit_generator.state = c.rng
        self.d_steps, self.g_steps = c.d_steps, c.g_steps

    # --- evaluation ---
    def noise(self, n: int) -> np.ndarray:
        return self.rng.standard_normal((n, self.latent))

    def generate(self, z) -> np.ndarray:
        """G(z) (N, 2) for noise z (N, latent)."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.latent:
            raise ValueError(f"z must have shape (N, {self.latent}), got {z.shape}")
        return self.G(z)

    def discriminate(self, x) -> np.ndarray:
        """D(x) (N,) in (0, 1) for points x (N, 2)."""
        return sigmoid(self.D(_points("x", x, 0))[:, 0])

    def generator_gradients(self, z) -> tuple[np.ndarray, np.ndarray]:
        """(G(z) (N, 2), ∂(generator loss)/∂x at each generated point (N, 2), per point).

        −gradient is the direction the generator's update pulls each sample (GAN Lab's arrows).
        """
        x = self.generate(z)
        l, cache = self.D.forward(x)
        dl = generator_loss_grad(l[:, 0], self.g_loss)[:, None]
        _, dx = self.D.backward(cache, dl)
        return x, dx

    # --- training ---
    def _real_batch(self) -> np.ndarray:
        n = len(self.data)
        idx = self.rng.choice(n, size=self.batch_size, replace=self.batch_size > n)
        return self.data[idx]

    def d_step(self) -> float:
        """One discriminator update on a real batch and a fresh fake batch; the loss before it."""
        real = self._real_batch()
        fake = self.G(self.noise(self.batch_size))
        both = np.vstack([real, fake])
        l, cache = self.D.forward(both)
        l = l[:, 0]
        n = self.batch_size
        loss = discriminator_loss(l[:n], l[n:])
        dl = np.concatenate([-sigmoid(-l[:n]), sigmoid(l[n:])]) / n  # d loss / d l
        grad, _ = self.D.backward(cache, dl[:, None], need_dx=False)
        self.opt_d.step(self.D.theta, grad)
        self.d_steps += 1
        return loss

    def g_step(self) -> float:
        """One generator update through the fixed D on fresh noise; the loss before it."""
        z = self.noise(self.batch_size)
        x, g_cache = self.G.forward(z)
        l, d_cache = self.D.forward(x)
        l = l[:, 0]
        loss = generator_loss(l, self.g_loss)
        dl = generator_loss_grad(l, self.g_loss)[:, None] / self.batch_size
        _, dx = self.D.backward(d_cache, dl)
        grad, _ = self.G.backward(g_cache, dx, need_dx=False)
        self.opt_g.step(self.G.theta, grad)
        self.g_steps += 1
        return loss

    def step(self) -> tuple[float, float]:
        """k discriminator steps, then one generator step: (last D loss, G loss)."""
        d = float("nan")
        for _ in range(self.k):
            d = self.d_step()
        return d, self.g_step()
