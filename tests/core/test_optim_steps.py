"""core.optim.steps and run: each optimizer's first steps against the notes' equations (3.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.optim import OPTIMIZER_CODES, apply_step, make_hyper, run, surface, trace

X0 = np.array([1.0, 1.0])  # on quadratic a=1, b=20 the gradient there is (1, 20)


def test_sgd_two_steps_by_hand():
    path = run("sgd", "quadratic", X0, 2, lr=0.1)
    # theta1 = (1 - 0.1*1, 1 - 0.1*20); theta2 = (0.9 - 0.09, -1 - 0.1*(-20))
    np.testing.assert_allclose(path, [[1, 1], [0.9, -1.0], [0.81, 1.0]], atol=1e-15)


def test_momentum_two_steps_by_hand():
    r = trace("momentum", "quadratic", X0, 2, lr=0.1, gamma=0.9)
    # v1 = 0.1*(1, 20) = (0.1, 2); theta1 = (0.9, -1)
    # v2 = 0.9*(0.1, 2) + 0.1*(0.9, -20) = (0.18, -0.2); theta2 = (0.72, -0.8)
    np.testing.assert_allclose(r.thetas, [[1, 1], [0.9, -1.0], [0.72, -0.8]], atol=1e-14)
    np.testing.assert_allclose(r.states[2, 0], [0.18, -0.2], atol=1e-14)


def test_nesterov_uses_the_gradient_at_the_look_ahead_point():
    r = trace("nesterov", "quadratic", X0, 2, lr=0.1, gamma=0.9)
    # v1 = 0.1*grad(1, 1) = (0.1, 2); theta1 = (0.9, -1)
    # look-ahead theta1 - 0.9 v1 = (0.81, -2.8), gradient (0.81, -56)
    # v2 = (0.09 + 0.081, 1.8 - 5.6) = (0.171, -3.8); theta2 = (0.729, 2.8)
    np.testing.assert_allclose(r.thetas, [[1, 1], [0.9, -1.0], [0.729, 2.8]], atol=1e-13)
    np.testing.assert_allclose(r.states[2, 0], [0.171, -3.8], atol=1e-13)


def test_adagrad_puts_eps_inside_the_square_root():
    path = run("adagrad", "quadratic", X0, 1, lr=0.1, eps=1.0)
    # s1 = (1, 400); theta1 = 1 - 0.1 g / sqrt(s1 + 1)
    np.testing.assert_allclose(path[1], [1 - 0.1 / math.sqrt(2), 1 - 2 / math.sqrt(401)])


def test_rmsprop_first_step_by_hand():
    r = trace("rmsprop", "quadratic", X0, 1, lr=0.1, gamma=0.9, eps=0.0)
    # s1 = 0.1 g^2 = (0.1, 40); theta1 = 1 - 0.1 g / sqrt(s1) = 1 - 0.1/sqrt(0.1) in both coords
    np.testing.assert_allclose(r.states[1, 1], [0.1, 40.0])
    np.testing.assert_allclose(r.thetas[1], [1 - 0.1 / math.sqrt(0.1)] * 2)


def test_rmsprop_eps_inside_the_square_root():
    path = run("rmsprop", "quadratic", X0, 1, lr=0.1, gamma=0.9, eps=0.5)
    np.testing.assert_allclose(path[1, 0], 1 - 0.1 / math.sqrt(0.1 + 0.5))


def test_adam_bias_correction_makes_the_first_step_lr_times_sign():
    r = trace("adam", "quadratic", X0, 1, lr=0.1, beta1=0.9, beta2=0.999, eps=0.0)
    # m1 = 0.1 g, v1 = 0.001 g^2; m-hat = g, v-hat = g^2 -> step = 0.1 * g / |g|
    np.testing.assert_allclose(r.thetas[1], [0.9, 0.9], atol=1e-14)
    m_hat, v_hat = r.bias_corrected(1)
    np.testing.assert_allclose(m_hat, [1.0, 20.0])
    np.testing.assert_allclose(v_hat, [1.0, 400.0])


def test_amsgrad_has_no_bias_correction():
    r = trace("amsgrad", "quadratic", X0, 1, lr=0.1, eps=0.0)
    # m1 = 0.1 g, max(0, v1) = 0.001 g^2 -> step = 0.1 * 0.1 / sqrt(0.001) = 0.316...
    np.testing.assert_allclose(r.thetas[1], [1 - 0.01 / math.sqrt(0.001)] * 2)
    np.testing.assert_allclose(r.states[1, 2], [0.001, 0.4])


def test_newton_solves_a_quadratic_in_one_step():
    np.testing.assert_allclose(run("newton", "quadratic", [2.0, -1.0], 1)[1], [0, 0], atol=1e-15)
    path = run("newton", "quadratic", [2.0, -1.0], 1, lr=0.5)
    np.testing.assert_allclose(path[1], [1.0, -0.5])


def _notes_reference(name, s, x0, steps, lr, gamma, b1, b2, eps):
    """The notes' equations of 3.5, written out literally (Nesterov with the look-ahead)."""
    theta = np.array(x0, float)
    v = np.zeros(2)
    m = np.zeros(2)
    sq = np.zeros(2)
    vhat = np.zeros(2)
    out = [theta.copy()]
    for t in range(steps):  # the notes' t; this step produces theta_{t+1}
        g = s.grad(theta)
        if name == "sgd":
            theta = theta - lr * g
        elif name == "momentum":
            v = gamma * v + lr * g
            theta = theta - v
        elif name == "nesterov":
            v = gamma * v + lr * s.grad(theta - gamma * v)
            theta = theta - v
        elif name == "adagrad":
            sq = sq + g**2
            theta = theta - lr / np.sqrt(sq + eps) * g
        elif name == "rmsprop":
            sq = gamma * sq + (1 - gamma) * g**2
            theta = theta - lr / np.sqrt(sq + eps) * g
        elif name == "adam":
            m = b1 * m + (1 - b1) * g
            sq = b2 * sq + (1 - b2) * g**2
            mh = m / (1 - b1 ** (t + 1))
            vh = sq / (1 - b2 ** (t + 1))
            theta = theta - lr / (np.sqrt(vh) + eps) * mh
        elif name == "amsgrad":
            m = b1 * m + (1 - b1) * g
            sq = b2 * sq + (1 - b2) * g**2
            vhat = np.maximum(vhat, sq)
            theta = theta - lr / (np.sqrt(vhat) + eps) * m
        elif name == "newton":
            theta = theta - lr * np.linalg.solve(s.hessian(theta), g)
        out.append(theta.copy())
    return np.array(out)


@pytest.mark.parametrize("name", [*OPTIMIZER_CODES, "newton"])
@pytest.mark.parametrize("surf", ["rosenbrock", "beale", "himmelblau"])
def test_thirty_steps_match_the_notes_equations(name, surf):
    s = surface(surf)
    lr = {"sgd": 1e-4, "momentum": 1e-4, "nesterov": 1e-4, "newton": 0.5}.get(name, 0.02)
    hyper = dict(lr=lr, gamma=0.8, beta1=0.85, beta2=0.99, eps=1e-6)
    got = run(name, s, s.start, 30, **hyper)
    want = _notes_reference(name, s, s.start, 30, lr, 0.8, 0.85, 0.99, 1e-6)
    assert got.diverged_at is None
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_amsgrad_running_max_keeps_the_largest_second_moment():
    # on the quadratic the gradient shrinks, so v falls while the running max stays put
    r = trace("amsgrad", "quadratic", [0.0, 1.0], 50, lr=0.05, beta2=0.5)
    v, vmax = r.states[:, 1, 1], r.states[:, 2, 1]
    np.testing.assert_allclose(vmax[1:], np.maximum.accumulate(v[1:]))
    assert vmax[-1] > 10 * v[-1]


def test_apply_step_is_in_place_and_matches_the_run():
    theta = np.array([1.0, 1.0])
    state = np.zeros((3, 2))
    apply_step(OPTIMIZER_CODES["momentum"], theta, np.array([1.0, 20.0]), state, 1,
               make_hyper("momentum", lr=0.1))
    np.testing.assert_allclose(theta, [0.9, -1.0])
    np.testing.assert_allclose(state[0], [0.1, 2.0])


def test_apply_step_rejects_an_unknown_code():
    with pytest.raises(ValueError, match="unknown optimizer code"):
        apply_step(9, np.ones(2), np.ones(2), np.zeros((3, 2)), 1, make_hyper("sgd"))


def test_apply_step_works_on_long_vectors():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=1000)
    grad = rng.normal(size=1000)
    want = theta - 0.1 * np.sign(grad)  # Adam's first step, eps = 0
    apply_step(OPTIMIZER_CODES["adam"], theta, grad, np.zeros((3, 1000)), 1,
               make_hyper("adam", lr=0.1, eps=0.0))
    np.testing.assert_allclose(theta, want)


def test_defaults_follow_the_notes():
    assert list(make_hyper("adagrad")[[0, 4]]) == [0.01, 1e-8]
    assert list(make_hyper("rmsprop")[:2]) == [0.001, 0.9]
    assert list(make_hyper("adam")) == [0.001, 0.9, 0.9, 0.999, 1e-8]
    assert make_hyper("momentum")[1] == 0.9
    assert make_hyper("sgd")[0] == 0.01
    assert make_hyper("newton")[0] == 1.0


def test_inv_sqrt_schedule_divides_the_step_size_by_sqrt_t():
    path = run("sgd", "quadratic", [1.0, 0.0], 3, lr=0.5, schedule="inv_sqrt")
    want = [1.0]
    for t in (1, 2, 3):
        want.append(want[-1] * (1 - 0.5 / math.sqrt(t)))
    np.testing.assert_allclose(path[:, 0], want)
