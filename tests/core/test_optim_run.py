"""core.optim.run / trace: divergence, any object with f/grad, validation, stochastic runs, 3.4."""

from __future__ import annotations

import numpy as np
import pytest

from core.optim import OPTIMIZERS, least_squares, run, surface, trace
from core.optim.convergence import noise_floor, running_min_sq, theorem_bound, theorem_step


class Wrapped:
    """A user-defined surface: plain Python methods, no compiled code."""

    def __init__(self, s):
        self.s = s

    def f(self, theta):
        return self.s.f(theta)

    def grad(self, theta):
        return self.s.grad(theta)

    def hessian(self, theta):
        return self.s.hessian(theta)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_python_objects_follow_the_same_path_as_built_ins(name):
    s = surface("rosenbrock")
    hyper = {"lr": 0.5} if name == "newton" else {"lr": 2e-4 if name in ("sgd", "momentum", "nesterov") else 0.02}
    a = trace(name, s, s.start, 40, **hyper)
    b = trace(name, Wrapped(s), s.start, 40, **hyper)
    np.testing.assert_allclose(b.thetas, a.thetas, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.losses, a.losses, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(b.grad_norms, a.grad_norms, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.states, a.states, rtol=1e-12, atol=1e-14)


def test_run_records_losses_and_gradient_norms_of_every_iterate():
    s = surface("beale")
    r = trace("adam", s, s.start, 20, lr=0.05)
    assert r.thetas.shape == (21, 2) and r.steps == 20
    assert r.losses[7] == pytest.approx(s.f(r.thetas[7]))
    assert r.grad_norms[7] == pytest.approx(np.linalg.norm(s.grad(r.thetas[7])))
    assert r.losses[-1] < r.losses[0]


def test_a_too_large_step_diverges_and_is_reported_not_raised():
    path = run("sgd", "rosenbrock", [-1.5, 2.0], 200, lr=0.01)
    assert path.diverged and path.diverged_at is not None
    assert path.shape == (path.diverged_at, 2)
    assert np.all(np.isfinite(path))
    assert path.reason in ("exploding iterates", "non-finite values")


def test_divergence_in_a_python_objective_is_reported():
    class Quartic:
        def f(self, theta):
            return float(theta[0] ** 4)

        def grad(self, theta):
            return 4 * theta**3

    # theta: 2 -> 2 - 32 = -30 -> -30 + 108000 = 107970 -> about -5e15, past the limit 1e6
    path = run("sgd", Quartic(), [2.0], 100, lr=1.0)
    assert path.diverged_at == 3 and path.reason == "exploding iterates"
    np.testing.assert_allclose(path[:, 0], [2.0, -30.0, 107970.0])


def test_non_finite_gradient_from_a_python_objective():
    class NaNGrad:
        def f(self, theta):
            return float(theta @ theta)

        def grad(self, theta):
            return np.array([np.nan, 0.0]) if theta[0] < 0.5 else 2 * theta

    path = run("momentum", NaNGrad(), [1.0, 1.0], 50, lr=0.3)
    assert path.diverged and path.reason == "non-finite values"
    assert np.all(np.isfinite(path))


def test_newton_reports_a_singular_hessian():
    # on the saddle surface L_yy = 3y^2 - 1 vanishes at y = 1/sqrt(3)
    path = run("newton", "saddle", [1.0, 1 / np.sqrt(3)], 5)
    assert path.diverged_at == 1 and path.reason == "singular Hessian"
    assert path.shape == (1, 2)


def test_newton_is_attracted_to_the_saddle_point():
    path = run("newton", "saddle", [1.0, 0.3], 20)
    np.testing.assert_allclose(path[-1], [0.0, 0.0], atol=1e-10)


def test_momentum_escapes_the_saddle_where_newton_does_not():
    s = surface("saddle")
    path = run("momentum", s, s.start, 400, lr=0.05)
    assert abs(abs(path[-1, 1]) - 1.0) < 1e-3


def test_custom_limit_stops_earlier():
    path = run("sgd", "quadratic", [1.0, 1.0], 100, lr=0.11, limit=10.0)  # 1 - 0.11*20 = -1.2
    assert path.diverged_at is not None and path.reason == "exploding iterates"
    assert np.abs(path).max() <= 10.0


def test_zero_steps_returns_the_start():
    path = run("adam", "beale", [1.0, 1.0], 0)
    np.testing.assert_array_equal(path, [[1.0, 1.0]])
    assert path.diverged_at is None


def test_higher_dimensional_python_objective():
    class Bowl:
        def f(self, theta):
            return float(np.sum(np.arange(1, 6) * theta**2))

        def grad(self, theta):
            return 2 * np.arange(1, 6) * theta

        def hessian(self, theta):
            return np.diag(2.0 * np.arange(1, 6))

    path = run("adam", Bowl(), np.ones(5), 500, lr=0.05)
    assert path.shape == (501, 5) and np.abs(path[-1]).max() < 0.05
    np.testing.assert_allclose(run("newton", Bowl(), np.ones(5), 1)[1], 0, atol=1e-15)


def test_stochastic_runs_are_seeded_and_batch_size_changes_the_path():
    ls1 = least_squares(batch_size=1, seed=2)
    a = run("sgd", ls1, ls1.start, 100, lr=0.05)
    b = run("sgd", least_squares(batch_size=1, seed=2), ls1.start, 100, lr=0.05)
    np.testing.assert_array_equal(a, b)
    full = least_squares(batch_size=100, seed=2)
    exact = run("sgd", full, full.start, 100, lr=0.05)
    assert not np.allclose(a, exact)
    # full batch is batch gradient descent on the exact gradient
    np.testing.assert_allclose(exact, run("sgd", Wrapped(full), full.start, 100, lr=0.05))


def test_fixed_step_stalls_at_a_noise_floor_a_decreasing_step_does_not():
    fixed, decreasing = [], []
    for seed in range(5):
        ls = least_squares(batch_size=1, seed=seed)
        fixed.append(trace("sgd", ls, ls.start, 4000, lr=0.05).grad_norms[-1000:].mean())
        decreasing.append(
            trace("sgd", ls, ls.start, 4000, lr=0.1, schedule="inv_sqrt").grad_norms[-1000:].mean()
        )
    assert np.mean(decreasing) < 0.5 * np.mean(fixed)


def test_the_noise_floor_is_proportional_to_sigma_and_to_sqrt_eta():
    """Issue 12, error 1: the floor of ‖∇ℒ‖ with a fixed step is of order σ√(ηβ) (the notes'
    √(ηβσ) is a typo). Single-sample SGD on least squares: 4x the data noise (so 4x σ) gives
    4x the tail of ‖∇ℒ‖, 4x η gives 2x; the tail stays the same fraction of noise_floor."""
    tails, floors = {}, {}
    for noise in (0.25, 1.0):
        for lr in (0.01, 0.04):
            runs = []
            for seed in range(4):
                ls = least_squares(noise=noise, batch_size=1, seed=seed)
                runs.append(trace("sgd", ls, ls.start, 4000, lr=lr).grad_norms[-2000:].mean())
            best = np.array(ls.minima[0])
            tails[noise, lr] = np.mean(runs)
            floors[noise, lr] = noise_floor(lr, ls.smoothness(), np.sqrt(ls.noise_variance(best)))
    for lr in (0.01, 0.04):
        assert tails[1.0, lr] / tails[0.25, lr] == pytest.approx(4.0, rel=0.1)  # ∝ σ, not √σ
        assert floors[1.0, lr] / floors[0.25, lr] == pytest.approx(4.0, rel=0.05)
    for noise in (0.25, 1.0):
        assert tails[noise, 0.04] / tails[noise, 0.01] == pytest.approx(2.0, rel=0.1)  # ∝ √η
    ratios = [tails[k] / floors[k] for k in tails]
    assert 0.3 < min(ratios) and max(ratios) < 1.0 and max(ratios) / min(ratios) < 1.1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(optimizer="adamw"), "unknown optimizer"),
        (dict(surface="nope"), "unknown surface"),
        (dict(surface=object()), "callable f"),
        (dict(x0=[1.0]), "2 entries"),
        (dict(x0=[np.nan, 1.0]), "finite"),
        (dict(x0="ab"), "vector of numbers"),
        (dict(steps=-1), "steps must be >= 0"),
        (dict(steps=2.5), "whole number"),
        (dict(lr=0.0), "lr must be > 0"),
        (dict(lr=float("inf")), "lr must be finite"),
        (dict(gamma=1.0), r"gamma must be in \[0, 1\)"),
        (dict(beta2=-0.1), "beta2"),
        (dict(eps=-1.0), "eps must be >= 0"),
        (dict(momentum=0.9), "unknown hyperparameter 'momentum'"),
        (dict(schedule="cosine"), "schedule"),
        (dict(limit=0), "limit"),
        (dict(lr="fast"), "lr must be a number"),
    ],
)
def test_bad_arguments_raise_value_error_before_running(kwargs, match):
    args = dict(optimizer="adam", surface="beale", x0=[1.0, 1.0], steps=5)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run(args.pop("optimizer"), args.pop("surface"), args.pop("x0"), args.pop("steps"), **args)


def test_newton_needs_a_hessian_on_python_objects():
    class NoHessian:
        def f(self, theta):
            return 0.0

        def grad(self, theta):
            return np.zeros(2)

    with pytest.raises(ValueError, match="hessian"):
        run("newton", NoHessian(), [0.0, 0.0], 3)
    assert run("sgd", NoHessian(), [0.0, 0.0], 3).shape == (4, 2)


def test_a_gradient_of_the_wrong_shape_is_a_clear_error():
    class Bad:
        def f(self, theta):
            return 0.0

        def grad(self, theta):
            return np.zeros(3)

    with pytest.raises(ValueError, match=r"grad must return shape \(2,\)"):
        run("sgd", Bad(), [0.0, 0.0], 3)


def test_theorem_formulas():
    assert theorem_step(100, 2.0, 1.0, 0.0) == 0.5
    assert theorem_step(100, 2.0, 1.0, 1.0) == pytest.approx(min(0.5, np.sqrt(2 / 200)))
    T = np.array([1.0, 100.0])
    np.testing.assert_allclose(theorem_bound(T, 2.0, 3.0, 0.5), 24 / T + np.sqrt(24 / T))
    assert noise_floor(0.01, 4.0, 1.0) == pytest.approx(0.2)
    assert noise_floor(0.01, 4.0, 3.0) == pytest.approx(0.6)  # σ√(ηβ), not √(ηβσ) (notes' typo)
    np.testing.assert_allclose(running_min_sq([3.0, 1.0, 2.0, 0.5]), [9, 1, 1, 0.25])
    with pytest.raises(ValueError):
        theorem_bound([0.0], 1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        noise_floor(-1.0, 1.0, 1.0)
