"""The linear autoencoder finds the top principal subspace (Baldi & Hornik 1989); its kernel
matches a NumPy gradient-descent reference; principal angles; hostile inputs."""

from __future__ import annotations

import numpy as np
import pytest

from core.generative import (linear_autoencoder_steps, principal_angles, principal_subspace,
                             train_linear_autoencoder)
from core.generative.linear_ae import init_linear_autoencoder


def _cloud(n=300, scales=(3.0, 1.5, 0.5, 0.2), seed=0):
    rng = np.random.default_rng(seed)
    d = len(scales)
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (rng.normal(size=(n, d)) * scales) @ rotation.T + 5.0  # off-centre on purpose


def _numpy_gd(X, enc, dec, lr, steps):
    Xc = X - X.mean(axis=0)
    n, d = Xc.shape
    losses = []
    for _ in range(steps):
        Z = Xc @ enc.T
        R = Z @ dec.T - Xc
        losses.append(np.mean(R**2))
        g_dec = 2 / (n * d) * R.T @ Z
        g_enc = 2 / (n * d) * dec.T @ R.T @ Xc
        dec, enc = dec - lr * g_dec, enc - lr * g_enc
    losses.append(np.mean((Xc @ enc.T @ dec.T - Xc) ** 2))
    return enc, dec, np.array(losses)


def test_the_kernel_matches_numpy_gradient_descent():
    X = _cloud()
    enc0, dec0 = init_linear_autoencoder(4, 2, seed=3)
    enc, dec, losses = linear_autoencoder_steps(X, enc0, dec0, 0.05, 25)
    ref = _numpy_gd(X, enc0, dec0, 0.05, 25)
    for ours, theirs in zip((enc, dec, losses), ref):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_decoder_spans_the_top_principal_subspace(k):
    X = _cloud()
    enc, dec, history = train_linear_autoencoder(X, k, steps=4000, lr=0.1, seed=0)
    basis, eigenvalues = principal_subspace(X, k)
    angles = principal_angles(dec, basis)
    assert angles.shape == (k,) and np.max(angles) < 1e-3
    # the loss reaches the discarded variance: Σ_{i>k} λᵢ / D
    assert history[-1] == pytest.approx(eigenvalues[k:].sum() / 4, rel=1e-4)
    assert history[-1] < history[0]


def test_the_angle_shrinks_as_it_trains():
    X = _cloud(scales=(2.0, 0.7))
    basis, _ = principal_subspace(X, 1)
    enc, dec = init_linear_autoencoder(2, 1, seed=1)
    angles = [principal_angles(dec, basis)[0]]
    for _ in range(6):
        enc, dec, _ = linear_autoencoder_steps(X, enc, dec, 0.1, 20)
        angles.append(principal_angles(dec, basis)[0])
    assert angles[-1] < 0.05 < angles[0]
    assert angles[-1] < angles[3] < angles[0]


def test_principal_angles_of_known_subspaces():
    e = np.eye(3)
    assert principal_angles(e[:, :1], e[:, :1]) == pytest.approx([0.0])
    assert principal_angles(e[:, :1], e[:, 1:2]) == pytest.approx([np.pi / 2])
    tilted = np.array([[1.0], [1.0], [0.0]])
    assert principal_angles(tilted, e[:, :1]) == pytest.approx([np.pi / 4])
    # planes sharing one axis: angles 0 and 90 degrees; scaling the columns changes nothing
    assert principal_angles(e[:, :2] * 7, e[:, [0, 2]]) == pytest.approx([0.0, np.pi / 2])
    # a collapsed (zero) decoder has no direction: π/2
    assert principal_angles(np.zeros((3, 1)), e[:, :1]) == pytest.approx([np.pi / 2])


@pytest.mark.parametrize("call, match", [
    (lambda: train_linear_autoencoder(np.zeros(5), 1, 10, 0.1), r"\(N, D\)"),
    (lambda: train_linear_autoencoder(np.zeros((1, 3)), 1, 10, 0.1), "at least 2"),
    (lambda: train_linear_autoencoder(np.zeros((5, 2)), 3, 10, 0.1), "at most D"),
    (lambda: train_linear_autoencoder(np.zeros((5, 2)), 0, 10, 0.1), "k must"),
    (lambda: train_linear_autoencoder(np.zeros((5, 2)), 1, -1, 0.1), "steps"),
    (lambda: train_linear_autoencoder(np.zeros((5, 2)), 1, 10, 0.0), "lr"),
    (lambda: train_linear_autoencoder(np.zeros((5, 2)), 1, 10, float("nan")), "lr"),
    (lambda: train_linear_autoencoder([[1.0, np.nan], [0, 0]], 1, 10, 0.1), "NaN"),
    (lambda: train_linear_autoencoder(np.zeros((5, 2)), 1, 10, 0.1, seed=-1), "seed"),
    (lambda: linear_autoencoder_steps(np.zeros((5, 2)), np.zeros((1, 3)), np.zeros((2, 1)), 0.1, 1),
     "encoder"),
    (lambda: linear_autoencoder_steps(np.zeros((5, 2)), np.zeros((1, 2)), np.zeros((2, 2)), 0.1, 1),
     "decoder"),
    (lambda: principal_angles(np.zeros((3, 1)), np.zeros((2, 1))), "same number of rows"),
    (lambda: principal_angles(np.zeros(3), np.zeros((3, 1))), r"\(D, k\)"),
])
def test_hostile_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
