"""The variational autoencoder's pieces: Gaussian KL, the reparameterization, the ELBO (Kingma & Welling 2014).

Each function takes NumPy arrays (validated, float64, a numba kernel inside) or `core.tensor`
Tensors (built from the tensor's own operations, so `backward()` differentiates through them,
e.g. through z = μ + σ ⊙ ε to μ and log σ²).
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import kernel

__all__ = ["gaussian_kl", "reparameterize", "bernoulli_log_likelihood", "elbo"]

_LOG_2PI = math.log(2.0 * math.pi)


def _is_tensor(x) -> bool:
    """A `core.tensor.Tensor` (checked by module name, so core.tensor is not imported here)."""
    return type(x).__module__.startswith("core.tensor")


def _array(name: str, value, ndim_choices=(1, 2)) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if arr.ndim not in ndim_choices:
        raise ValueError(f"{name} must be (N, k) (one row per sample) or (k,), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; expected at least one sample and one dimension")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; expected finite numbers")
    return np.ascontiguousarray(arr)


def _same_shape(names: tuple[str, ...], arrays: tuple[np.ndarray, ...]) -> None:
    for name, arr in zip(names[1:], arrays[1:]):
        if arr.shape != arrays[0].shape:
            raise ValueError(f"{names[0]} and {name} must have the same shape, got "
                             f"{arrays[0].shape} and {arr.shape}")


# --- KL(N(μ, σ²) ‖ N(0, I)) -------------------------------------------------------------------
@kernel(example=lambda: (np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(2)))
def _gaussian_kl_rows(mu, logvar, out):
    """mu, logvar (N, k) -> out (N,): −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²), written in place."""
    n, k = mu.shape
    for i in range(n):
        acc = 0.0
        for j in range(k):
            lv = logvar[i, j]
            acc += 1.0 + lv - mu[i, j] * mu[i, j] - math.exp(lv)
        out[i] = -0.5 * acc


def gaussian_kl(mu, logvar):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per sample, with log σ² = `logvar`, summed over the latent dims.

    KL = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²)   (Kingma & Welling 2014, appendix B)

    mu, logvar: (N, k) -> (N,), one value per sample ((k,) -> a float). Always ≥ 0, and 0 only
    at μ = 0, σ = 1. With Tensors, returns a Tensor (N,) that backward() differentiates.
    """
    if _is_tensor(mu) or _is_tensor(logvar):
        return ((mu * mu) + logvar.exp() - logvar - 1.0).sum(axis=-1) * 0.5
    m, lv = _array("mu", mu), _array("logvar", logvar)
    _same_shape(("mu", "logvar"), (m, lv))
    if np.any(lv > 700.0):
        raise ValueError("logvar above 700 overflows exp(logvar); expected log-variances of a "
                         "reasonable size")
    rows = m.reshape(1, -1) if m.ndim == 1 else m
    out = np.empty(rows.shape[0])
    _gaussian_kl_rows(rows, lv.reshape(rows.shape), out)
    return float(out[0]) if m.ndim == 1 else out


# --- z = μ + σ ⊙ ε ---------------------------------------------------------------------------
@kernel(example=lambda: (np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)))
def _reparameterize_flat(mu, logvar, eps, out):
    """mu, logvar, eps, out (n,): out = mu + exp(logvar / 2) * eps."""
    for i in range(mu.shape[0]):
        out[i] = mu[i] + math.exp(0.5 * logvar[i]) * eps[i]


def reparameterize(mu, logvar, eps):
    """z = μ + σ ⊙ ε with σ = exp(log σ² / 2) and ε ~ N(0, I) given by the caller.

    The randomness sits in ε, outside the network, so z is a differentiable function of μ and
    log σ²: ∂z/∂μ = 1, ∂z/∂(log σ²) = σ ε / 2. mu, logvar, eps: the same shape, (N, k) or (k,).
    """
    if _is_tensor(mu) or _is_tensor(logvar):
        return mu + (logvar * 0.5).exp() * eps
    m, lv, e = _array("mu", mu), _array("logvar", logvar), _array("eps", eps)
    _same_shape(("mu", "logvar", "eps"), (m, lv, e))
    if np.any(lv > 1400.0):
        raise ValueError("logvar above 1400 overflows exp(logvar / 2)")
    out = np.empty(m.size)
    _reparameterize_flat(m.ravel(), lv.ravel(), e.ravel(), out)
    return out.reshape(m.shape)


# --- log p(x | z) for pixels in [0, 1] -------------------------------------------------------
@kernel(example=lambda: (np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(2)))
def _bernoulli_ll_rows(x, logits, out):
    """x, logits (N, D) -> out (N,): Σⱼ xⱼ lⱼ − softplus(lⱼ), softplus computed stably."""
    n, d = x.shape
    for i in range(n):
        acc = 0.0
        for j in range(d):
            l = logits[i, j]
            softplus = max(l, 0.0) + math.log1p(math.exp(-abs(l)))
            acc += x[i, j] * l - softplus
        out[i] = acc


def bernoulli_log_likelihood(x, logits):
    """log p(x | z) = Σⱼ [xⱼ log x̂ⱼ + (1 − xⱼ) log(1 − x̂ⱼ)], x̂ = sigmoid(logits), per sample.

    The negative of `binary_cross_entropy_with_logits(logits, x, reduction="sum")` per row,
    computed from the logits with a stable softplus. x in [0, 1]; x, logits (N, D) -> (N,).
    """
    if _is_tensor(logits) or _is_tensor(x):
        softplus = logits.relu() + ((-logits.abs()).exp() + 1.0).log()
        return (x * logits - softplus).sum(axis=-1)
    xs, ls = _array("x", x), _array("logits", logits)
    _same_shape(("x", "logits"), (xs, ls))
    if np.any((xs < 0.0) | (xs > 1.0)):
        raise ValueError("x must hold pixel values in [0, 1] for a Bernoulli likelihood")
    rows = xs.reshape(1, -1) if xs.ndim == 1 else xs
    out = np.empty(rows.shape[0])
    _bernoulli_ll_rows(rows, ls.reshape(rows.shape), out)
    return float(out[0]) if xs.ndim == 1 else out


def elbo(x, x_out, mu, logvar, beta: float = 1.0, likelihood: str = "bernoulli"):
    """The evidence lower bound per sample, with the KL weighted by β (β = 1: the true bound).

    ELBO(x) = E_q(z|x)[log p(x | z)] − β · KL(q(z | x) ‖ p(z)) ≤ log p(x)   (for β = 1)

    estimated with the one sample z = μ + σ ⊙ ε that produced `x_out` (the decoder's output for
    z). q(z|x) = N(μ, diag exp(logvar)), p(z) = N(0, I).
    - likelihood "bernoulli": x_out are the decoder's logits, log p(x|z) =
      `bernoulli_log_likelihood(x, x_out)` (the binary cross-entropy, negated);
    - likelihood "gaussian": x_out is the decoder's mean x̂ and p(x|z) = N(x̂, I), so
      log p(x|z) = −½ ‖x − x̂‖² − (D/2) log 2π.
    x, x_out (N, D); mu, logvar (N, k) -> (N,). Training minimises −mean(ELBO).
    """
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not math.isfinite(beta) \
            or beta < 0:
        raise ValueError(f"beta must be a finite number ≥ 0, got {beta!r}")
    if likelihood not in ("bernoulli", "gaussian"):
        raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
    if likelihood == "bernoulli":
        rec = bernoulli_log_likelihood(x, x_out)
    elif any(_is_tensor(v) for v in (x, x_out)):
        diff = x - x_out
        rec = (diff * diff).sum(axis=-1) * -0.5 - 0.5 * x_out.shape[-1] * _LOG_2PI
    else:
        xs, xo = _array("x", x), _array("x_out", x_out)
        _same_shape(("x", "x_out"), (xs, xo))
        rec = -0.5 * np.sum((xs - xo) ** 2, axis=-1) - 0.5 * xs.shape[-1] * _LOG_2PI
    kl = gaussian_kl(mu, logvar)
    if not any(_is_tensor(v) for v in (x, x_out, mu, logvar)):
        n_x = 1 if np.ndim(rec) == 0 else len(rec)
        n_z = 1 if np.ndim(kl) == 0 else len(kl)
        if n_x != n_z:
            raise ValueError(f"x has {n_x} samples but mu has {n_z}; expected one latent row "
                             "per sample")
    return rec - kl * beta
