"""gaussian_kl, reparameterize, bernoulli_log_likelihood and elbo against closed forms, Monte
Carlo and NumPy references; hostile inputs raise ValueError."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.generative import bernoulli_log_likelihood, elbo, gaussian_kl, reparameterize


def _kl_reference(mu, logvar):
    """KL between diagonal Gaussians from the textbook formula, one dimension at a time:
    KL(N(m, s²) ‖ N(0, 1)) = log(1/s) + (s² + m²)/2 − 1/2."""
    s = np.exp(0.5 * logvar)
    return np.sum(np.log(1.0 / s) + (s**2 + mu**2) / 2 - 0.5, axis=-1)


def test_gaussian_kl_matches_the_closed_form_per_sample():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    kl = gaussian_kl(mu, logvar)
    assert kl.shape == (7,)
    np.testing.assert_allclose(kl, _kl_reference(mu, logvar), rtol=1e-12)
    assert np.all(kl > 0)


def test_gaussian_kl_is_zero_only_at_the_prior_and_a_float_for_one_sample():
    assert gaussian_kl(np.zeros((2, 4)), np.zeros((2, 4))).tolist() == [0.0, 0.0]
    value = gaussian_kl(np.array([1.0, 0.0]), np.array([0.0, 0.0]))
    assert isinstance(value, float) and value == pytest.approx(0.5)


def test_gaussian_kl_agrees_with_a_monte_carlo_estimate():
    # KL(q ‖ p) = E_q[log q(z) − log p(z)], estimated with 400 000 draws of z ~ q
    mu, logvar = np.array([0.7, -1.2]), np.array([-0.5, 0.4])
    rng = np.random.default_rng(1)
    z = reparameterize(np.broadcast_to(mu, (400_000, 2)), np.broadcast_to(logvar, (400_000, 2)),
                       rng.standard_normal((400_000, 2)))
    var = np.exp(logvar)
    log_q = np.sum(-0.5 * (z - mu) ** 2 / var - 0.5 * np.log(2 * np.pi * var), axis=1)
    log_p = np.sum(-0.5 * z**2 - 0.5 * np.log(2 * np.pi), axis=1)
    estimate, se = np.mean(log_q - log_p), np.std(log_q - log_p) / math.sqrt(len(z))
    assert abs(estimate - gaussian_kl(mu, logvar)) < 4 * se


def test_reparameterize_is_mu_plus_sigma_eps():
    rng = np.random.default_rng(2)
    mu, logvar, eps = (rng.normal(size=(4, 2)) for _ in range(3))
    np.testing.assert_allclose(reparameterize(mu, logvar, eps), mu + np.exp(logvar / 2) * eps)
    # the sample moments of z are μ and σ²
    z = reparameterize(np.full((200_000, 1), 2.0), np.full((200_000, 1), math.log(9.0)),
                       rng.standard_normal((200_000, 1)))
    assert z.mean() == pytest.approx(2.0, abs=0.03) and z.std() == pytest.approx(3.0, abs=0.03)


def test_bernoulli_log_likelihood_is_minus_the_summed_binary_cross_entropy():
    rng = np.random.default_rng(3)
    x, logits = rng.uniform(size=(5, 6)), rng.normal(scale=3, size=(5, 6))
    p = 1 / (1 + np.exp(-logits))
    ref = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    np.testing.assert_allclose(bernoulli_log_likelihood(x, logits), ref, rtol=1e-12)
    # stable where the naive formula gives log 0 = -inf
    big = bernoulli_log_likelihood(np.array([[1.0, 0.0]]), np.array([[-800.0, 800.0]]))
    assert big[0] == pytest.approx(-1600.0)


def test_elbo_is_reconstruction_minus_beta_kl():
    rng = np.random.default_rng(4)
    x, logits = rng.uniform(size=(3, 5)), rng.normal(size=(3, 5))
    mu, logvar = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    rec, kl = bernoulli_log_likelihood(x, logits), gaussian_kl(mu, logvar)
    np.testing.assert_allclose(elbo(x, logits, mu, logvar), rec - kl)
    np.testing.assert_allclose(elbo(x, logits, mu, logvar, beta=4.0), rec - 4 * kl)
    gauss = elbo(x, x * 0.5, mu, logvar, likelihood="gaussian")
    np.testing.assert_allclose(
        gauss, -0.5 * np.sum((x * 0.5) ** 2, axis=1) - 2.5 * math.log(2 * math.pi) - kl)


def test_the_elbo_bounds_the_log_likelihood_of_a_linear_gaussian_model():
    # p(z) = N(0, 1), p(x|z) = N(z, 1): log p(x) = log N(x; 0, 2). The exact posterior
    # q = N(x/2, 1/2) makes the bound tight; any other q is below, E over ε by Monte Carlo.
    x = np.array([[1.3]])
    log_px = -0.5 * x[0, 0] ** 2 / 2 - 0.5 * math.log(2 * math.pi * 2)
    rng = np.random.default_rng(5)
    eps = rng.standard_normal((100_000, 1))
    for mu, var in ((0.65, 0.5), (0.0, 1.0), (1.3, 0.1)):
        m, lv = np.full((100_000, 1), mu), np.full((100_000, 1), math.log(var))
        z = reparameterize(m, lv, eps)
        value = elbo(np.broadcast_to(x, z.shape), z, m, lv, likelihood="gaussian").mean()
        if (mu, var) == (0.65, 0.5):
            assert value == pytest.approx(log_px, abs=0.01)
        else:
            assert value < log_px - 0.05


@pytest.mark.parametrize("call, match", [
    (lambda: gaussian_kl(np.zeros((2, 2)), np.zeros((2, 3))), "same shape"),
    (lambda: gaussian_kl(np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), r"\(N, k\)"),
    (lambda: gaussian_kl(np.array([[np.nan]]), np.zeros((1, 1))), "NaN"),
    (lambda: gaussian_kl(np.zeros((1, 1)), np.full((1, 1), 1e4)), "overflows"),
    (lambda: gaussian_kl(np.zeros((0, 2)), np.zeros((0, 2))), "empty"),
    (lambda: gaussian_kl("abc", np.zeros(1)), "numbers"),
    (lambda: reparameterize(np.zeros(2), np.zeros(2), np.zeros(3)), "same shape"),
    (lambda: reparameterize(np.zeros(2), np.zeros(2), [np.inf, 0]), "NaN or infinity"),
    (lambda: bernoulli_log_likelihood(np.full((1, 2), 2.0), np.zeros((1, 2))), r"\[0, 1\]"),
    (lambda: elbo(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 1)), np.zeros((1, 1)),
                  beta=-1.0), "beta"),
    (lambda: elbo(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 1)), np.zeros((1, 1)),
                  likelihood="poisson"), "likelihood"),
    (lambda: elbo(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 1)), np.zeros((3, 1))),
     "samples"),
])
def test_hostile_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
