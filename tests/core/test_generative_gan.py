"""core.generative GAN parts: the bilinear game, the optimal discriminator, the GAN trainer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.numeric import numeric_grad

from core.generative import (GAN, bilinear_game, gan_value, js_divergence, modes_covered,
                             optimal_discriminator, sample_2d)
from core.generative._mlp import Net
from core.generative.datasets import log_density_2d, ring_mode_counts


@pytest.mark.parametrize("eta", [0.05, 0.2, 1.0])
def test_simultaneous_gda_is_a_scaled_rotation(eta):
    path = bilinear_game(1.0, 0.5, eta, 30)
    assert path.shape == (31, 2) and path[0].tolist() == [1.0, 0.5]
    r = np.hypot(path[:, 0], path[:, 1])
    np.testing.assert_allclose(r, r[0] * (1 + eta**2) ** (np.arange(31) / 2), rtol=1e-12)
    # closed form: (x_t + i y_t) = (1 + iη)^t (x_0 + i y_0)
    closed = (1 + 1j * eta) ** np.arange(31) * (1.0 + 0.5j)
    np.testing.assert_allclose(path[:, 0] + 1j * path[:, 1], closed, rtol=1e-10)


def test_alternating_gda_cycles_on_an_ellipse():
    eta = 0.3
    path = bilinear_game(1.0, 1.0, eta, 500, mode="alternating")
    invariant = path[:, 0] ** 2 - eta * path[:, 0] * path[:, 1] + path[:, 1] ** 2
    np.testing.assert_allclose(invariant, invariant[0], rtol=1e-10)
    assert np.hypot(*path[-1]) > 0.5  # never converges to the equilibrium (0, 0)
    x1 = 1.0 - eta * 1.0
    assert path[1].tolist() == pytest.approx([x1, 1.0 + eta * x1])


@pytest.mark.parametrize("eta", [0.1, 0.5, 1.5])
def test_extragradient_shrinks_the_radius_by_its_closed_form(eta):
    path = bilinear_game(1.0, -2.0, eta, 40, mode="extragradient")
    r = np.hypot(path[:, 0], path[:, 1])
    rate = math.sqrt(1 - eta**2 + eta**4)
    np.testing.assert_allclose(r, r[0] * rate ** np.arange(41), rtol=1e-10)
    xh, yh = 1.0 - eta * -2.0, -2.0 + eta * 1.0
    assert path[1].tolist() == pytest.approx([1.0 - eta * yh, -2.0 + eta * xh])


@pytest.mark.parametrize("bad", [
    dict(lr=0.0), dict(lr=float("nan")), dict(steps=-1), dict(steps=2.5), dict(mode="both"),
    dict(x0="a"), dict(x0=float("inf")), dict(steps=True),
])
def test_bilinear_game_rejects_hostile_input(bad):
    args = dict(x0=1.0, y0=1.0, lr=0.1, steps=3, mode="simultaneous") | bad
    with pytest.raises(ValueError):
        bilinear_game(**args)


def test_optimal_discriminator_on_two_gaussians():
    x = np.linspace(-4, 4, 81)
    p = np.exp(-0.5 * (x - 1) ** 2) / math.sqrt(2 * math.pi)
    q = np.exp(-0.5 * (x + 1) ** 2) / math.sqrt(2 * math.pi)
    d = optimal_discriminator(p, q)
    np.testing.assert_allclose(d, 1 / (1 + np.exp(-2 * x)), rtol=1e-12)  # σ(2x)
    assert optimal_discriminator([0.0, 1.0], [0.0, 1.0]).tolist() == [0.5, 0.5]
    with pytest.raises(ValueError):
        optimal_discriminator([1.0, -1.0], [1.0, 1.0])
    with pytest.raises(ValueError):
        optimal_discriminator([1.0], [1.0, 1.0])


def test_value_at_the_optimal_discriminator_is_minus_log4_plus_2_jsd():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    d_star = optimal_discriminator(p, q)
    v = gan_value(p, q, d_star)
    assert v == pytest.approx(-math.log(4) + 2 * js_divergence(p, q), abs=1e-12)
    for _ in range(20):  # D* is the maximiser: any other D gives less
        other = np.clip(d_star + 0.05 * rng.standard_normal(6), 1e-6, 1 - 1e-6)
        assert gan_value(p, q, other) <= v + 1e-15
    assert js_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="sum to 1"):
        js_divergence([0.5, 0.6], [0.5, 0.5])


def test_trained_discriminator_approaches_the_optimal_one():
    """A logistic D trained with the GAN discriminator loss on N(1, 1) (real) vs N(-1, 1)
    (fake) approaches D*(x) = σ(2x)."""
    rng = np.random.default_rng(0)
    real = np.column_stack([rng.normal(1, 1, 4000), np.zeros(4000)])
    gan = GAN(real, d_hidden=(), d_lr=0.05, batch_size=4000, seed=0)
    fake = np.column_stack([rng.normal(-1, 1, 4000), np.zeros(4000)])
    gan.G = _Constant(fake)  # a fixed "generator" whose samples are N(-1, 1)
    for _ in range(300):
        gan.d_step()
    x = np.column_stack([np.linspace(-2, 2, 9), np.zeros(9)])
    np.testing.assert_allclose(gan.discriminate(x), 1 / (1 + np.exp(-2 * x[:, 0])), atol=0.03)


class _Constant:
    def __init__(self, points):
        self.points = points

    def __call__(self, z):
        return self.points[: len(z)]


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu"])
def test_net_backward_matches_central_differences(activation):
    rng = np.random.default_rng(1)
    net = Net([2, 5, 4, 3], activation, rng)
    x = rng.standard_normal((6, 2))
    up = rng.standard_normal((6, 3))
    out, cache = net.forward(x)
    dtheta, dx = net.backward(cache, up)
    np.testing.assert_allclose(dtheta, numeric_grad(lambda: float((net(x) * up).sum()), net.theta),
                               atol=1e-7)
    np.testing.assert_allclose(dx, numeric_grad(lambda: float((net(x) * up).sum()), x), atol=1e-7)
    assert [p.shape for p in net.parameters()] == [(5, 2), (5,), (4, 5), (4,), (3, 4), (3,)]


@pytest.mark.parametrize("g_loss", ["nonsaturating", "minimax"])
def test_generator_gradient_matches_central_differences(g_loss):
    gan = GAN(sample_2d("ring", 64, 0), g_loss=g_loss, seed=3)
    z = gan.noise(5)
    x, dx = gan.generator_gradients(z)
    from core.generative.gan import generator_loss

    def loss_at(points):
        return generator_loss(gan.D(points)[:, 0], g_loss) * len(points)

    np.testing.assert_allclose(dx, numeric_grad(lambda: loss_at(x), x), atol=1e-6)


def test_minimax_gradient_saturates_where_d_rejects_nonsaturating_does_not():
    from core.generative.gan import generator_loss_grad

    l = np.array([-8.0])  # D(G(z)) = σ(−8) ≈ 3e-4: D confidently says "fake"
    assert abs(generator_loss_grad(l, "minimax")[0]) < 1e-3
    assert abs(generator_loss_grad(l, "nonsaturating")[0]) > 0.999


def test_training_covers_the_ring_and_checkpoints_replay_exactly():
    gan = GAN(sample_2d("ring", 512, 0), seed=0)
    start = gan.checkpoint()
    first = [gan.step() for _ in range(5)]
    gan.restore(start)
    assert [gan.step() for _ in range(5)] == first
    for _ in range(1200):
        gan.step()
    assert modes_covered(gan.generate(gan.noise(1000))) >= 6
    assert gan.d_steps == 1205 and gan.g_steps == 1205


def test_a_generator_ten_times_faster_than_d_collapses():
    gan = GAN(sample_2d("ring", 512, 0), g_lr=1e-2, d_lr=1e-3, seed=0)
    for _ in range(600):
        gan.step()
    assert modes_covered(gan.generate(gan.noise(1000))) <= 2


def test_k_discriminator_steps_per_generator_step():
    gan = GAN(sample_2d("line", 64, 0), k=3, seed=0)
    gan.step()
    assert (gan.d_steps, gan.g_steps) == (3, 1)


@pytest.mark.parametrize("bad", [
    dict(data=np.zeros((5, 3))), dict(data=[[np.nan, 0], [0, 0]]), dict(data=[[0.0, 0.0]]),
    dict(g_lr=0.0), dict(d_lr=float("inf")), dict(k=0), dict(g_loss="wasserstein"),
    dict(latent=0), dict(batch_size=0), dict(g_hidden=(0,)), dict(activation="gelu"),
    dict(optimizer="newton"), dict(seed=-1),
])
def test_gan_rejects_hostile_input(bad):
    args = dict(data=sample_2d("ring", 16, 0)) | bad
    with pytest.raises(ValueError):
        GAN(**args)


def test_data_sets():
    for name in ("ring", "moons", "line", "banana"):
        x = sample_2d(name, 100, 1)
        assert x.shape == (100, 2) and np.isfinite(x).all()
        np.testing.assert_array_equal(x, sample_2d(name, 100, 1))
    counts = ring_mode_counts(sample_2d("ring", 800, 0))
    assert counts.sum() > 790 and counts.min() > 60
    # the ring's density integrates to 1 on a grid
    g = np.linspace(-4, 4, 401)
    gx, gy = np.meshgrid(g, g)
    p = np.exp(log_density_2d("ring", np.column_stack([gx.ravel(), gy.ravel()])))
    assert p.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError):
        sample_2d("spiral", 10)
    with pytest.raises(ValueError):
        sample_2d("ring", 0)
    with pytest.raises(ValueError):
        log_density_2d("moons", np.zeros((1, 2)))
