"""core.optim surfaces: analytic gradients and Hessians against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from core.optim import SURFACE_NAMES, least_squares, surface

H = 1e-5


def _num_grad(f, theta):
    g = np.zeros(2)
    for i in range(2):
        e = np.zeros(2)
        e[i] = H
        g[i] = (f(theta + e) - f(theta - e)) / (2 * H)
    return g


def _points(s, k=12, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = s.bounds
    return np.stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)], axis=1)


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_gradient_matches_central_differences(name):
    s = surface(name)
    for theta in _points(s):
        num = _num_grad(s.f, theta)
        np.testing.assert_allclose(s.grad(theta), num, rtol=1e-6, atol=1e-6 * (1 + abs(s.f(theta))))


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_hessian_matches_central_differences_of_the_gradient(name):
    s = surface(name)
    for theta in _points(s, seed=1):
        num = np.zeros((2, 2))
        for i in range(2):
            e = np.zeros(2)
            e[i] = H
            num[:, i] = (s.grad(theta + e) - s.grad(theta - e)) / (2 * H)
        hess = s.hessian(theta)
        np.testing.assert_allclose(hess, hess.T)
        np.testing.assert_allclose(hess, num, rtol=1e-5, atol=1e-5 * (1 + np.abs(num).max()))


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_minima_are_stationary_and_convex(name):
    s = surface(name)
    for m in s.minima:
        assert np.linalg.norm(s.grad(np.array(m))) < 1e-8
        assert np.all(np.linalg.eigvalsh(s.hessian(np.array(m))) > 0)
        (x0, x1), (y0, y1) = s.bounds
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1
    assert s.f(np.array(s.start)) > s.f_min


def test_saddle_point_is_stationary_with_an_indefinite_hessian():
    s = surface("saddle")
    assert np.allclose(s.grad(np.zeros(2)), 0)
    eig = np.linalg.eigvalsh(s.hessian(np.zeros(2)))
    assert eig[0] < 0 < eig[1]


def test_grid_matches_pointwise_values():
    s = surface("himmelblau")
    xs = np.linspace(-5, 5, 7)
    ys = np.linspace(-4, 4, 5)
    grid = s.grid(xs, ys)
    assert grid.shape == (5, 7)
    assert grid[2, 3] == pytest.approx(s.f([xs[3], ys[2]]))


def test_quadratic_parameters_set_the_condition_number():
    s = surface("quadratic", a=2.0, b=50.0)
    eig = np.linalg.eigvalsh(s.hessian([0.3, 0.4]))
    assert eig[1] / eig[0] == pytest.approx(25.0)


def test_least_squares_full_gradient_is_the_mean_of_sample_gradients():
    ls = least_squares(n=40, batch_size=1, seed=3)
    theta = np.array([0.3, -0.7])
    singles = np.array([ls.sample_grad(theta, [i]) for i in range(ls.n)])
    np.testing.assert_allclose(singles.mean(axis=0), ls.grad(theta), atol=1e-12)
    np.testing.assert_allclose(ls.sample_grad(theta, np.arange(ls.n)), ls.grad(theta))
    np.testing.assert_allclose(ls.sample_grad(theta, []), ls.grad(theta))
    # the estimator's variance, computed directly, matches noise_variance for b = 1
    var = np.sum(singles.var(axis=0))
    assert ls.noise_variance(theta) == pytest.approx(var)


def test_least_squares_minimum_is_the_least_squares_fit():
    ls = least_squares(n=200, noise=0.1, seed=1)
    w, b = ls.minima[0]
    assert w == pytest.approx(1.5, abs=0.05) and b == pytest.approx(-0.5, abs=0.05)
    np.testing.assert_allclose(ls.solution, ls.minima[0])
    assert ls.smoothness() == pytest.approx(np.linalg.eigvalsh(ls.hessian([0, 0]))[-1])


def test_least_squares_batches_are_distinct_indices_and_seeded():
    ls = least_squares(n=30, batch_size=8, seed=5)
    batches = ls.batches(50)
    assert batches.shape == (50, 8) and batches.dtype == np.int64
    assert all(len(set(row)) == 8 for row in batches)
    assert batches.min() >= 0 and batches.max() < 30
    np.testing.assert_array_equal(batches, ls.batches(50))
    assert least_squares(n=30, batch_size=30).batches(4).shape == (4, 0)


def test_mini_batch_gradient_noise_shrinks_with_the_batch_size():
    theta = np.array([0.0, 1.0])
    noise = [least_squares(n=100, batch_size=b).noise_variance(theta) for b in (1, 10, 100)]
    assert noise[0] > noise[1] > noise[2] == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: surface("nope"), "unknown surface"),
        (lambda: surface("quadratic", c=1.0), "no parameter 'c'"),
        (lambda: surface("quadratic", a=-1.0), "a must be > 0"),
        (lambda: surface("plateau", s=float("nan")), "finite"),
        (lambda: surface("beale").f([1.0, 2.0, 3.0]), "2 entries"),
        (lambda: surface("beale").grad([np.nan, 0.0]), "finite"),
        (lambda: surface("beale").hessian([[1.0, 2.0]]), "1-D"),
        (lambda: least_squares(n=10, batch_size=11), "at most n"),
        (lambda: least_squares(batch_size=0), "at least 1"),
        (lambda: least_squares(noise=-1.0), "noise"),
        (lambda: least_squares(n=2.5), "whole number"),
        (lambda: least_squares(n=10).sample_grad([0, 0], [10]), r"\[0, 10\)"),
    ],
)
def test_bad_surface_input_raises_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
