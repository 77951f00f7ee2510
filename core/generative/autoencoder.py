"""A small MLP autoencoder / VAE on flattened images, with its hand-written backward and Adam.

The layers are those of the dataflowr VAE (after Kingma & Welling 2014), named as in PyTorch:

    encoder  h = relu(fc1 x)          μ = fc2 h          log σ² = fc3 h   (VAE only)
    code     z = μ (autoencoder)  or  z = μ + σ ⊙ ε, ε ~ N(0, I) (VAE)
    decoder  logits = fc5 relu(fc4 z),   x̂ = sigmoid(logits)

Loss per sample: the binary cross-entropy Σⱼ BCE(x̂ⱼ, xⱼ) = −log p(x | z), plus β KL for the VAE;
a batch's loss is the mean over its samples. A denoising autoencoder feeds x + noise (clipped to
[0, 1]) to the encoder and still compares with the clean x (Vincent et al. 2008).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.generative.vae import _bernoulli_ll_rows, _gaussian_kl_rows
from core.nn.layers import _linear_bwd, _linear_fwd
from core.optim.steps import OPTIMIZER_CODES, apply_step, make_hyper

__all__ = ["DigitAutoencoder", "Checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    """Everything a training step depends on: the parameters, Adam's moments, the step count."""

    theta: np.ndarray
    opt_state: np.ndarray
    t: int


def _sigmoid(v: np.ndarray) -> np.ndarray:
    out = np.empty_like(v)
    pos = v >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-v[pos]))
    e = np.exp(v[~pos])
    out[~pos] = e / (1.0 + e)
    return out


class DigitAutoencoder:
    """An MLP autoencoder (`kind="ae"`) or VAE (`kind="vae"`) D -> hidden -> latent -> hidden -> D.

    Parameters live in one flat float64 vector `theta` (views per layer in `params`), initialised
    like `torch.nn.Linear` (uniform ±1/√fan_in for weights and biases) from `seed`. `step(...)`
    is one Adam step on a mini-batch drawn from the step number, so the same steps replay the same
    numbers; `checkpoint()` / `restore()` save and return to a state exactly.
    """

    def __init__(self, d: int, hidden: int = 64, latent: int = 2, kind: str = "ae",
                 seed: int = 0) -> None:
        for name, value, lo in (("d", d, 1), ("hidden", hidden, 1), ("latent", latent, 1),
                                ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
                raise ValueError(f"{name} must be a whole number ≥ {lo}, got {value!r}")
        if kind not in ("ae", "vae"):
            raise ValueError(f"kind must be 'ae' or 'vae', got {kind!r}")
        self.d, self.hidden, self.latent, self.kind = int(d), int(hidden), int(latent), kind
        shapes = [("fc1", (hidden, d)), ("fc2", (latent, hidden))]
        if kind == "vae":
            shapes.append(("fc3", (latent, hidden)))
        shapes += [("fc4", (hidden, latent)), ("fc5", (d, hidden))]
        self.layers = [name for name, _ in shapes]
        sizes = []
        for name, (out, inp) in shapes:
            sizes += [(f"{name}.weight", (out, inp)), (f"{name}.bias", (out,))]
        total = sum(int(np.prod(s)) for _, s in sizes)
        self.theta = np.zeros(total)
        self.params: dict[str, np.ndarray] = {}
        offset = 0
        rng = np.random.default_rng(seed)
        for name, shape in sizes:
            size = int(np.prod(shape))
            view = self.theta[offset: offset + size].reshape(shape)
            fan_in = shapes[[n for n, _ in shapes].index(name.split(".")[0])][1][1]
            view[...] = rng.uniform(-1.0, 1.0, size).reshape(shape) / math.sqrt(fan_in)
            self.params[name] = view
            offset += size
        self.opt_state = np.zeros((3, total))
        self.t = 0
        self._checked = None  # (the last data set `step` got, the validated array)

    @property
    def n_parameters(self) -> int:
        return self.theta.size

    # --- state -----------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.theta.copy(), self.opt_state.copy(), self.t)

    def restore(self, ckpt: Checkpoint) -> None:
        self.theta[:] = ckpt.theta
        self.opt_state[:] = ckpt.opt_state
        self.t = ckpt.t

    # --- forward ---------------------------------------------------------------------------
    def _lin(self, name: str, x: np.ndarray) -> np.ndarray:
        """x Wᵀ + b with core.nn's compiled linear layer (single-threaded and GIL-free: a
        multi-threaded BLAS on a busy machine was 10-100 times slower for these small sizes)."""
        w = self.params[f"{name}.weight"]
        out = np.empty((x.shape[0], w.shape[0]))
        _linear_fwd(np.ascontiguousarray(x), w, self.params[f"{name}.bias"], out)
        return out

    def _lin_bwd(self, name: str, dout: np.ndarray, x: np.ndarray, grads: dict,
                 need_dx: bool = True) -> np.ndarray | None:
        """Store ∂L/∂W = doutᵀ x and ∂L/∂b = Σ dout in `grads`; return ∂L/∂x = dout W."""
        w = self.params[f"{name}.weight"]
        dw, db = np.empty_like(w), np.empty(w.shape[0])
        dx = np.empty_like(x) if need_dx else np.empty((1, 1))
        _linear_bwd(np.ascontiguousarray(dout), np.ascontiguousarray(x), w, dx, dw, db, need_dx)
        grads[f"{name}.weight"], grads[f"{name}.bias"] = dw, db
        return dx if need_dx else None

    def _check_images(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        X = X.reshape(X.shape[0], -1) if X.ndim > 2 else X
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"expected images (N, {self.d}) (or (N, 1, H, W) with H W = "
                             f"{self.d}), got shape {np.shape(X)}")
        if not np.all(np.isfinite(X)):
            raise ValueError("images contain NaN or infinity")
        return X

    def encode(self, X) -> tuple[np.ndarray, np.ndarray | None]:
        """(μ (N, latent), log σ² (N, latent) or None for the plain autoencoder) of images X."""
        h = np.maximum(self._lin("fc1", self._check_images(X)), 0.0)
        return self._lin("fc2", h), (self._lin("fc3", h) if self.kind == "vae" else None)

    def decode_logits(self, Z) -> np.ndarray:
        """The decoder's logits (N, D) at codes Z (N, latent)."""
        Z = np.asarray(Z, dtype=np.float64).reshape(-1, self.latent)
        if not np.all(np.isfinite(Z)):
            raise ValueError("codes contain NaN or infinity")
        return self._lin("fc5", np.maximum(self._lin("fc4", Z), 0.0))

    def decode(self, Z) -> np.ndarray:
        """Decoded images x̂ = sigmoid(logits) (N, D) in [0, 1] at codes Z (N, latent)."""
        return _sigmoid(self.decode_logits(Z))

    def reconstruct(self, X) -> np.ndarray:
        """x̂ from the code μ(x) (no sampling, also for the VAE) (N, D)."""
        return self.decode(self.encode(X)[0])

    # --- loss and gradient -----------------------------------------------------------------
    def loss_terms(self, x_in, x_target, eps=None, beta: float = 1.0) -> dict:
        """The batch means {"recon", "kl", "loss"} without the gradient (forward pass only)."""
        x_in, x_t = self._check_images(x_in), self._check_images(x_target)
        mu, logvar = self.encode(x_in)
        z = mu
        kl_mean = 0.0
        if self.kind == "vae":
            if eps is None:
                raise ValueError("a VAE needs eps (N, latent), the noise of z = μ + σ ⊙ ε")
            logvar = np.clip(logvar, -30.0, 30.0)
            z = mu + np.exp(0.5 * logvar) * np.asarray(eps, dtype=np.float64).reshape(mu.shape)
            kl = np.empty(len(mu))
            _gaussian_kl_rows(np.ascontiguousarray(mu), np.ascontiguousarray(logvar), kl)
            kl_mean = float(kl.mean())
        ll = np.empty(len(mu))
        _bernoulli_ll_rows(np.ascontiguousarray(x_t), self.decode_logits(z), ll)
        recon = float(-ll.mean())
        return {"recon": recon, "kl": kl_mean, "loss": recon + beta * kl_mean}

    def loss_and_grad(self, x_in, x_target, eps=None, beta: float = 1.0):
        """Mean over the batch of −log p(x|z) (+ β KL) and its gradient with respect to `theta`.

        x_in: what the encoder sees (N, D); x_target: what the decoder must give back (N, D),
        pixels in [0, 1]; eps (N, latent): the VAE's noise (required for kind "vae").
        Returns ({"recon", "kl", "loss"} batch means, grad (n_parameters,)).
        """
        x_in, x_t = self._check_images(x_in), self._check_images(x_target)
        n = x_in.shape[0]
        if x_t.shape[0] != n:
            raise ValueError(f"x_in has {n} rows but x_target has {x_t.shape[0]}")
        pre1 = self._lin("fc1", x_in)
        h1 = np.maximum(pre1, 0.0)
        mu = self._lin("fc2", h1)
        if self.kind == "vae":
            if eps is None:
                raise ValueError("a VAE needs eps (N, latent), the noise of z = μ + σ ⊙ ε")
            eps = np.asarray(eps, dtype=np.float64)
            if eps.shape != mu.shape:
                raise ValueError(f"eps must be {mu.shape}, got {eps.shape}")
            logvar = np.clip(self._lin("fc3", h1), -30.0, 30.0)
            sigma = np.exp(0.5 * logvar)
            z = mu + sigma * eps
        else:
            z = mu
        pre4 = self._lin("fc4", z)
        h4 = np.maximum(pre4, 0.0)
        logits = self._lin("fc5", h4)
        ll = np.empty(n)
        _bernoulli_ll_rows(np.ascontiguousarray(x_t), np.ascontiguousarray(logits), ll)
        recon = float(-ll.mean())
        kl_mean = 0.0
        grads = {}
        # backward, every gradient already divided by the batch size
        dlogits = (_sigmoid(logits) - x_t) / n
        dpre4 = self._lin_bwd("fc5", dlogits, h4, grads) * (pre4 > 0)
        dz = self._lin_bwd("fc4", dpre4, z, grads)
        if self.kind == "vae":
            kl = np.empty(n)
            _gaussian_kl_rows(np.ascontiguousarray(mu), np.ascontiguousarray(logvar), kl)
            kl_mean = float(kl.mean())
            dmu = dz + beta * mu / n
            dlogvar = dz * 0.5 * sigma * eps + beta * 0.5 * (np.exp(logvar) - 1.0) / n
            dh1 = self._lin_bwd("fc3", dlogvar, h1, grads)
        else:
            dmu = dz
            dh1 = 0.0
        dh1 = dh1 + self._lin_bwd("fc2", dmu, h1, grads)
        self._lin_bwd("fc1", dh1 * (pre1 > 0), x_in, grads, need_dx=False)
        flat = np.concatenate([grads[name].ravel() for name in self.params])
        terms = {"recon": recon, "kl": kl_mean, "loss": recon + beta * kl_mean}
        return terms, flat

    # --- training --------------------------------------------------------------------------
    def batch(self, X: np.ndarray, batch_size: int, noise: float = 0.0, seed: int = 0):
        """(x_in, x_target, eps) of step `self.t + 1`, drawn from (seed, t): the same step number
        always draws the same batch, the same noise and the same ε."""
        rng = np.random.default_rng([seed, self.t + 1])
        n = X.shape[0]
        idx = rng.choice(n, size=min(batch_size, n), replace=False)
        x = X[idx]
        x_in = np.clip(x + noise * rng.standard_normal(x.shape), 0.0, 1.0) if noise > 0 else x
        eps = rng.standard_normal((len(idx), self.latent)) if self.kind == "vae" else None
        return x_in, x, eps

    def step(self, X, batch_size: int = 64, lr: float = 1e-3, noise: float = 0.0,
             beta: float = 1.0, seed: int = 0) -> dict:
        """One Adam step (PyTorch's Adam, β₁ 0.9, β₂ 0.999, ε 1e-8) on a mini-batch of X (N, D).

        noise > 0: a denoising step (Gaussian noise of that standard deviation on the input,
        clipped to [0, 1]). Returns the batch's {"recon", "kl", "loss"} before the update.
        """
        if self._checked is not None and X is self._checked[0]:
            X = self._checked[1]  # a data set is validated once, not at every step
        else:
            checked = self._check_images(X)
            self._checked = (X, checked) if isinstance(X, np.ndarray) else None
            X = checked
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number ≥ 1, got {batch_size!r}")
        for name, value in (("noise", noise), ("beta", beta)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
        hyper = make_hyper("adam", lr=lr)
        x_in, x_t, eps = self.batch(X, int(batch_size), noise, seed)
        terms, grad = self.loss_and_grad(x_in, x_t, eps, beta)
        self.t += 1
        apply_step(OPTIMIZER_CODES["adam"], self.theta, grad, self.opt_state, self.t, hyper)
        return terms

    def evaluate(self, X, noise: float = 0.0, beta: float = 1.0, seed: int = 0) -> dict:
        """The loss terms on all of X with a fixed draw of ε (and noise) from `seed` (no update)."""
        X = self._check_images(X)
        rng = np.random.default_rng([seed, 0])
        x_in = np.clip(X + noise * rng.standard_normal(X.shape), 0.0, 1.0) if noise > 0 else X
        eps = rng.standard_normal((X.shape[0], self.latent)) if self.kind == "vae" else None
        return self.loss_terms(x_in, X, eps, beta)
