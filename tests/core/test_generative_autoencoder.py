"""The digit autoencoder / VAE: hand-written gradients (through z = μ + σ ⊙ ε) against central
differences, exact replay from checkpoints, training lowers the loss, hostile inputs."""

from __future__ import annotations

import numpy as np
import pytest

from core.generative import DigitAutoencoder


def _central_differences(model, x_in, x_t, eps, beta, h=1e-6):
    grad = np.empty_like(model.theta)
    for i in range(model.theta.size):
        old = model.theta[i]
        model.theta[i] = old + h
        up = model.loss_and_grad(x_in, x_t, eps, beta)[0]["loss"]
        model.theta[i] = old - h
        down = model.loss_and_grad(x_in, x_t, eps, beta)[0]["loss"]
        model.theta[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("kind, beta", [("ae", 1.0), ("vae", 1.0), ("vae", 3.5)])
def test_gradient_matches_central_differences(kind, beta):
    rng = np.random.default_rng(0)
    model = DigitAutoencoder(6, hidden=5, latent=2, kind=kind, seed=1)
    x = rng.uniform(size=(4, 6))
    x_in = np.clip(x + 0.2 * rng.normal(size=x.shape), 0, 1)
    eps = rng.normal(size=(4, 2)) if kind == "vae" else None
    terms, grad = model.loss_and_grad(x_in, x, eps, beta)
    assert terms["loss"] == pytest.approx(terms["recon"] + beta * terms["kl"])
    np.testing.assert_allclose(grad, _central_differences(model, x_in, x, eps, beta),
                               rtol=1e-5, atol=1e-7)


def test_steps_replay_exactly_from_a_checkpoint_and_training_lowers_the_loss():
    rng = np.random.default_rng(1)
    X = (rng.uniform(size=(40, 16)) > 0.6).astype(float)
    model = DigitAutoencoder(16, hidden=8, latent=2, kind="vae", seed=0)
    start = model.checkpoint()
    first = [model.step(X, 8, 0.01, noise=0.1, seed=3)["loss"] for _ in range(5)]
    after5 = model.checkpoint()
    model.restore(start)
    again = [model.step(X, 8, 0.01, noise=0.1, seed=3)["loss"] for _ in range(5)]
    assert first == again and np.array_equal(model.theta, after5.theta) and model.t == 5
    before = model.evaluate(X)["loss"]
    for _ in range(200):
        model.step(X, 16, 0.01)
    assert model.evaluate(X)["loss"] < before


def test_shapes_of_codes_and_images():
    model = DigitAutoencoder(16, hidden=4, latent=3, kind="vae")
    mu, logvar = model.encode(np.zeros((5, 1, 4, 4)))
    assert mu.shape == logvar.shape == (5, 3)
    assert model.decode(np.zeros((2, 3))).shape == (2, 16)
    assert model.encode(np.zeros((2, 16)))[0].shape == (2, 3)
    ae = DigitAutoencoder(16, hidden=4, latent=2)
    assert ae.encode(np.zeros((1, 16)))[1] is None
    assert list(ae.params) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
                               "fc4.weight", "fc4.bias", "fc5.weight", "fc5.bias"]
    assert ae.params["fc1.weight"].shape == (4, 16)  # (out, in) as torch.nn.Linear


@pytest.mark.parametrize("call, match", [
    (lambda: DigitAutoencoder(0), "d must"),
    (lambda: DigitAutoencoder(4, kind="gan"), "kind"),
    (lambda: DigitAutoencoder(4).encode(np.zeros((2, 5))), r"\(N, 4\)"),
    (lambda: DigitAutoencoder(4).encode(np.full((1, 4), np.nan)), "NaN"),
    (lambda: DigitAutoencoder(4, kind="vae").loss_and_grad(np.zeros((1, 4)), np.zeros((1, 4))),
     "eps"),
    (lambda: DigitAutoencoder(4).step(np.zeros((3, 4)), batch_size=0), "batch_size"),
    (lambda: DigitAutoencoder(4).step(np.zeros((3, 4)), noise=-0.1), "noise"),
    (lambda: DigitAutoencoder(4).step(np.zeros((3, 4)), lr=0.0), "lr"),
])
def test_hostile_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_forward_only_terms_equal_those_of_loss_and_grad():
    rng = np.random.default_rng(2)
    model = DigitAutoencoder(9, hidden=4, latent=2, kind="vae", seed=2)
    x, eps = rng.uniform(size=(3, 9)), rng.normal(size=(3, 2))
    assert model.loss_terms(x, x, eps, 2.0) == pytest.approx(model.loss_and_grad(x, x, eps, 2.0)[0])
