"""The ELBO on core.tensor Tensors: its gradient through z = μ + σ ⊙ ε against gradcheck, and
a VAE written with core.tensor gives the same loss and gradient as DigitAutoencoder's
hand-written backward."""

from __future__ import annotations

import numpy as np
import pytest

from core.generative import (DigitAutoencoder, bernoulli_log_likelihood, elbo, gaussian_kl,
                             reparameterize)
from core.tensor import gradcheck, tensor


def _leaf(a):
    return tensor(np.array(a, dtype=np.float64), requires_grad=True)


def test_tensor_functions_give_the_array_values():
    rng = np.random.default_rng(0)
    mu, lv, eps = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    x, logits = rng.uniform(size=(3, 4)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(gaussian_kl(tensor(mu), tensor(lv)).data, gaussian_kl(mu, lv))
    np.testing.assert_allclose(reparameterize(tensor(mu), tensor(lv), tensor(eps)).data,
                               reparameterize(mu, lv, eps))
    np.testing.assert_allclose(bernoulli_log_likelihood(tensor(x), tensor(logits)).data,
                               bernoulli_log_likelihood(x, logits))


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_elbo_gradient_through_the_reparameterization_passes_gradcheck(likelihood):
    # a tiny decoder: x_out = tanh(z W + b); the ELBO depends on μ and log σ² through z and KL
    rng = np.random.default_rng(1)
    x = tensor(rng.uniform(size=(4, 3)))
    eps = tensor(rng.normal(size=(4, 2)))
    mu, logvar = _leaf(rng.normal(size=(4, 2))), _leaf(0.3 * rng.normal(size=(4, 2)))
    W, b = _leaf(rng.normal(size=(2, 3))), _leaf(rng.normal(size=3))

    def neg_elbo(mu, logvar, W, b):
        z = reparameterize(mu, logvar, eps)
        out = (z @ W + b).tanh()
        return -elbo(x, out, mu, logvar, beta=1.5, likelihood=likelihood)

    assert gradcheck(neg_elbo, [mu, logvar, W, b])
    # and by hand: ∂KL/∂μ = μ, ∂KL/∂log σ² = (σ² − 1)/2 with the decoder cut off (W = 0)
    W0 = tensor(np.zeros((2, 3)))
    loss = neg_elbo(mu, logvar, W0, b).sum()
    mu.grad = logvar.grad = None
    loss.backward()
    np.testing.assert_allclose(mu.grad, 1.5 * mu.data)
    np.testing.assert_allclose(logvar.grad, 1.5 * 0.5 * (np.exp(logvar.data) - 1))


def test_a_core_tensor_vae_matches_the_hand_written_backward():
    rng = np.random.default_rng(2)
    net = DigitAutoencoder(9, hidden=5, latent=2, kind="vae", seed=3)
    x, eps = rng.uniform(size=(6, 9)), rng.normal(size=(6, 2))
    terms, grad = net.loss_and_grad(x, x, eps, beta=2.0)
    params = {name: _leaf(value) for name, value in net.params.items()}

    def lin(name, h):
        return h @ params[f"{name}.weight"].T + params[f"{name}.bias"]

    h = lin("fc1", tensor(x)).relu()
    mu, logvar = lin("fc2", h), lin("fc3", h)
    z = reparameterize(mu, logvar, tensor(eps))
    logits = lin("fc5", lin("fc4", z).relu())
    loss = (-elbo(tensor(x), logits, mu, logvar, beta=2.0)).mean()
    loss.backward()
    assert loss.data == pytest.approx(terms["loss"])
    ours = np.concatenate([params[name].grad.ravel() for name in net.params])
    np.testing.assert_allclose(ours, grad, rtol=1e-9, atol=1e-12)
