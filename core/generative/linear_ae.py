"""The linear autoencoder trained by gradient descent, and the principal subspace it finds (Baldi & Hornik 1989).

x̂ = W_d W_e x with an encoder W_e (k, D) and a decoder W_d (D, k), trained on centred data by
plain gradient descent on the mean squared reconstruction error. Every local minimum is global
and there the decoder's columns span the top-k principal subspace of the data (when the top k+1
eigenvalues of the covariance are distinct); the other critical points are saddles.
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import kernel

__all__ = ["train_linear_autoencoder", "linear_autoencoder_steps", "principal_subspace",
           "principal_angles"]


def _example():
    return (np.zeros((3, 2)), np.zeros((1, 2)), np.zeros((2, 1)), 0.1, 2, np.zeros(3))


@kernel(example=_example)
def _linear_ae_gd(X, enc, dec, lr, steps, losses):
    """Gradient descent on L = 1/(N D) Σₙ ‖xₙ − W_d W_e xₙ‖², in place.

    X (N, D) centred, enc (k, D), dec (D, k), losses (steps + 1,): the loss before each step and
    after the last. With Z = X W_eᵀ (N, k) and R = Z W_dᵀ − X (N, D), c = 2 / (N D):
        ∂L/∂W_d = c Rᵀ Z        ∂L/∂W_e = c W_dᵀ Rᵀ X = c (R W_d)ᵀ X
    """
    n, d = X.shape
    k = enc.shape[0]
    c = 2.0 / (n * d)
    Z = np.empty((n, k))
    R = np.empty((n, d))
    RW = np.empty((n, k))
    g_dec = np.empty((d, k))
    g_enc = np.empty((k, d))
    for step in range(steps + 1):
        loss = 0.0
        for i in range(n):
            for a in range(k):
                acc = 0.0
                for j in range(d):
                    acc += X[i, j] * enc[a, j]
                Z[i, a] = acc
            for j in range(d):
                acc = -X[i, j]
                for a in range(k):
                    acc += Z[i, a] * dec[j, a]
                R[i, j] = acc
                loss += acc * acc
            for a in range(k):  # R W_d, so that ∂L/∂W_e = c (R W_d)ᵀ X costs N D k, not N D²
                acc = 0.0
                for j in range(d):
                    acc += R[i, j] * dec[j, a]
                RW[i, a] = acc
        losses[step] = loss / (n * d)
        if step == steps:
            break
        g_dec[:, :] = 0.0
        g_enc[:, :] = 0.0
        for i in range(n):  # both gradients with the weights before the update
            for a in range(k):
                z = Z[i, a]
                rw = RW[i, a]
                for j in range(d):
                    g_dec[j, a] += R[i, j] * z
                    g_enc[a, j] += rw * X[i, j]
        for j in range(d):
            for a in range(k):
                dec[j, a] -= lr * c * g_dec[j, a]
        for a in range(k):
            for m in range(d):
                enc[a, m] -= lr * c * g_enc[a, m]


def _data(X) -> np.ndarray:
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("X must be an array of numbers (N, D)") from None
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"X must be (N, D) with at least 2 samples, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity; expected finite numbers")
    return np.ascontiguousarray(X - X.mean(axis=0))


def _positive_int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be a whole number ≥ {lo}, got {value!r}")
    return int(value)


def _lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    return float(lr)


def linear_autoencoder_steps(X, encoder, decoder, lr: float, steps: int):
    """Continue gradient descent from (encoder (k, D), decoder (D, k)) for `steps` steps.

    X (N, D) is centred here (its mean subtracted). Returns (encoder, decoder, losses) with new
    arrays (the inputs are not changed) and losses (steps + 1,): the mean squared reconstruction
    1/(N D) Σ ‖x − W_d W_e x‖² before each step and after the last.
    """
    Xc = _data(X)
    d = Xc.shape[1]
    enc = np.array(encoder, dtype=np.float64, copy=True, order="C")
    dec = np.array(decoder, dtype=np.float64, copy=True, order="C")
    if enc.ndim != 2 or enc.shape[1] != d or not 1 <= enc.shape[0] <= d:
        raise ValueError(f"encoder must be (k, {d}) with 1 ≤ k ≤ {d}, got shape {enc.shape}")
    if dec.shape != (d, enc.shape[0]):
        raise ValueError(f"decoder must be ({d}, {enc.shape[0]}), got shape {dec.shape}")
    if not (np.all(np.isfinite(enc)) and np.all(np.isfinite(dec))):
        raise ValueError("encoder and decoder must be finite")
    steps = _positive_int("steps", steps, 0)
    losses = np.empty(steps + 1)
    _linear_ae_gd(Xc, enc, dec, _lr(lr), steps, losses)
    return enc, dec, losses


def init_linear_autoencoder(d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded Gaussian initial weights: encoder (k, d) with std 1/√d, decoder (d, k) with 1/√k."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0 / math.sqrt(d), (k, d)), rng.normal(0.0, 1.0 / math.sqrt(k), (d, k))


def train_linear_autoencoder(X, k: int, steps: int, lr: float, seed: int = 0):
    """Train x̂ = W_d W_e x on centred X (N, D) by gradient descent from seeded weights.

    Returns (encoder (k, D), decoder (D, k), history) where history (steps + 1,) is the mean
    squared reconstruction error 1/(N D) Σ ‖x − W_d W_e x‖² before each step and after the last.
    After enough steps the decoder's column space is the top-k principal subspace of the centred
    X (`principal_angles(decoder, principal_subspace(X, k))` near 0) and the loss is the sum of
    the discarded covariance eigenvalues divided by D.
    """
    Xc = _data(X)
    d = Xc.shape[1]
    k = _positive_int("k", k, 1)
    if k > d:
        raise ValueError(f"k must be at most D = {d} (the code cannot be wider than the data), got {k}")
    _positive_int("steps", steps, 0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0, got {seed!r}")
    enc, dec = init_linear_autoencoder(d, k, int(seed))
    return linear_autoencoder_steps(Xc, enc, dec, lr, steps)


def principal_subspace(X, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(basis (D, k), eigenvalues (D,)): the top-k eigenvectors of the covariance of centred X
    (columns, largest first) and all eigenvalues of Σ = XcᵀXc / N in decreasing order."""
    Xc = _data(X)
    k = _positive_int("k", k, 1)
    if k > Xc.shape[1]:
        raise ValueError(f"k must be at most D = {Xc.shape[1]}, got {k}")
    cov = Xc.T @ Xc / Xc.shape[0]
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    return vectors[:, order[:k]], values[order]


def principal_angles(A, B) -> np.ndarray:
    """The principal angles (radians, ascending) between the column spaces of A (D, k) and B (D, m).

    θᵢ = arccos σᵢ(Q_Aᵀ Q_B) with orthonormal bases Q_A, Q_B (min(k, m) angles). A rank-deficient
    A (e.g. a decoder that collapsed to zero) has fewer directions: the missing angles are π/2.
    """
    mats = []
    for name, M in (("A", A), ("B", B)):
        M = np.asarray(M, dtype=np.float64)
        if M.ndim != 2 or M.shape[1] < 1:
            raise ValueError(f"{name} must be (D, k) with k ≥ 1 columns, got shape {M.shape}")
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name} contains NaN or infinity")
        mats.append(M)
    A, B = mats
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must have the same number of rows, got {A.shape} and {B.shape}")
    n = min(A.shape[1], B.shape[1])
    bases = []
    for M in (A, B):
        U, s, _ = np.linalg.svd(M, full_matrices=False)
        tol = max(M.shape) * np.finfo(float).eps * (s[0] if s.size else 0.0)
        bases.append(U[:, s > max(tol, 1e-300)])
    cos = np.linalg.svd(bases[0].T @ bases[1], compute_uv=False) if min(
        bases[0].shape[1], bases[1].shape[1]) else np.zeros(0)
    angles = np.full(n, np.pi / 2)
    angles[: cos.size] = np.arccos(np.clip(cos[:n], -1.0, 1.0))
    return np.sort(angles)
