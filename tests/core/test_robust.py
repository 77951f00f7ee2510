"""core.robust: FGSM and PGD against a hand-written NumPy gradient, power iteration against
the SVD, the Lipschitz bound against the Jacobians it bounds, and hostile inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.robust import (
    certified_radius,
    fgsm,
    input_gradient,
    jacobian,
    layer_lipschitz,
    lipschitz_upper_bound,
    local_lipschitz,
    logits_of,
    margins,
    per_sample_losses,
    pgd,
    pgd_path,
    power_iteration,
    spectral_norm,
)
from core.tensor import nn as tnn

D, H, C, N = 5, 7, 3, 6


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(H, D)), rng.normal(size=H) * 0.1,
            rng.normal(size=(C, H)) / 2, rng.normal(size=C) * 0.1)


def _model(weights, act="tanh"):
    W1, b1, W2, b2 = weights
    first, second = tnn.Linear(D, H), tnn.Linear(H, C)
    first.weight.data[...] = W1
    first.bias.data[...] = b1
    second.weight.data[...] = W2
    second.bias.data[...] = b2
    return tnn.Sequential(first, tnn.Tanh() if act == "tanh" else tnn.ReLU(), second)


def _numpy_grad(weights, x, y):
    """(J, ∇ₓ J) of the mean cross-entropy of the tanh MLP, by hand."""
    W1, b1, W2, b2 = weights
    h = np.tanh(x @ W1.T + b1)
    z = h @ W2.T + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(np.mean(-np.log(p[np.arange(n), y])))
    dz = (p - np.eye(C)[y]) / n
    dh = dz @ W2
    return loss, (dh * (1 - h**2)) @ W1


def _numpy_jacobian(weights, x):
    W1, b1, W2, _ = weights
    h = np.tanh(x @ W1.T + b1)
    return np.einsum("ch,nh,hd->ncd", W2, 1 - h**2, W1)


@pytest.fixture
def setup():
    weights = _weights()
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 0.8, size=(N, D))
    y = rng.integers(0, C, size=N)
    return weights, _model(weights), x, y


def test_input_gradient_matches_numpy(setup):
    weights, model, x, y = setup
    loss, grad = input_gradient(model, x, y)
    ref_loss, ref_grad = _numpy_grad(weights, x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)
    # the parameters' gradients and flags are left alone
    assert all(p.grad is None or not np.any(p.grad) for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())
    jacobian(model, x)
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_fgsm_is_one_signed_step_and_clips(setup):
    weights, model, x, y = setup
    _, g = _numpy_grad(weights, x, y)
    np.testing.assert_array_equal(fgsm(model, x, y, 0.1), x + 0.1 * np.sign(g))
    clipped = fgsm(model, x, y, 0.5, clip=(0.0, 1.0))
    np.testing.assert_array_equal(clipped, np.clip(x + 0.5 * np.sign(g), 0, 1))
    np.testing.assert_array_equal(fgsm(model, x, y, 0.0), x)
    # the attack raises the loss
    assert input_gradient(model, fgsm(model, x, y, 0.05), y)[0] > input_gradient(model, x, y)[0]


def _numpy_pgd(weights, x, y, eps, alpha, steps, norm):
    cur = x.copy()
    for _ in range(steps):
        _, g = _numpy_grad(weights, cur, y)
        if norm == "inf":
            cur = x + np.clip(cur + alpha * np.sign(g) - x, -eps, eps)
        else:
            step = g / np.linalg.norm(g, axis=1, keepdims=True)
            d = cur + alpha * step - x
            d *= np.minimum(1, eps / np.linalg.norm(d, axis=1, keepdims=True))
            cur = x + d
    return cur


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_pgd_iterates_match_numpy(setup, norm):
    weights, model, x, y = setup
    path, losses = pgd_path(model, x, y, eps=0.3, alpha=0.08, steps=6, norm=norm)
    assert len(path) == 7 and losses.shape == (7, N)
    np.testing.assert_allclose(path[-1], _numpy_pgd(weights, x, y, 0.3, 0.08, 6, norm),
                               rtol=1e-12, atol=1e-12)
    for p, loss in zip(path, losses):
        np.testing.assert_allclose(loss, per_sample_losses(logits_of(model, p), y), rtol=1e-12)
    best = pgd(model, x, y, eps=0.3, alpha=0.08, steps=6, norm=norm)
    k = np.argmax(losses[1:], axis=0) + 1
    np.testing.assert_array_equal(best, np.stack(path)[k, np.arange(N)])


def test_pgd_with_alpha_eps_and_one_step_is_fgsm(setup):
    _, model, x, y = setup
    np.testing.assert_array_equal(pgd(model, x, y, 0.2, 0.2, 1), fgsm(model, x, y, 0.2))
    np.testing.assert_array_equal(pgd(model, x, y, 0.2, 0.05, 0), x)


@pytest.mark.parametrize("norm", ["inf", "2"])
@pytest.mark.parametrize("start", [False, True])
def test_pgd_stays_inside_the_ball_and_the_box(setup, norm, start):
    _, model, x, y = setup
    for eps in (0.05, 0.3, 2.0):
        adv = pgd(model, x, y, eps, eps / 3, 8, norm=norm, random_start=start, seed=3,
                  clip=(0.0, 1.0))
        d = adv - x
        size = np.abs(d).max(axis=1) if norm == "inf" else np.linalg.norm(d, axis=1)
        assert np.all(size <= eps * (1 + 1e-12))
        assert adv.min() >= 0 and adv.max() <= 1
    again = pgd(model, x, y, 0.3, 0.1, 8, norm=norm, random_start=start, seed=3)
    np.testing.assert_array_equal(again, pgd(model, x, y, 0.3, 0.1, 8, norm=norm,
                                             random_start=start, seed=3))


def test_pgd_never_lowers_the_loss_of_the_linf_step(setup):
    _, model, x, y = setup
    for eps in (0.05, 0.2, 0.5):
        one = per_sample_losses(logits_of(model, fgsm(model, x, y, eps)), y)
        previous = one
        for steps in (1, 2, 5, 10):  # α = ε: the first iterate is the FGSM point
            loss = per_sample_losses(logits_of(model, pgd(model, x, y, eps, eps, steps)), y)
            assert np.all(loss >= previous - 1e-12)
            previous = loss
        small = per_sample_losses(logits_of(model, pgd(model, x, y, eps, eps / 4, 20)), y)
        assert small.mean() >= one.mean() - 1e-12


def test_spectral_norm_against_svd():
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (1, 7), (7, 1), (5, 5), (30, 8), (8, 30), (64, 256)]:
        W = rng.normal(size=shape)
        assert spectral_norm(W, iters=2000) == pytest.approx(np.linalg.svd(W)[1][0], rel=1e-9)
    assert spectral_norm(np.zeros((3, 4))) == 0.0
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))  # all singular values equal
    assert spectral_norm(3 * Q) == pytest.approx(3.0, rel=1e-12)
    rank_one = np.outer(rng.normal(size=4), rng.normal(size=9))
    assert spectral_norm(rank_one) == pytest.approx(np.linalg.norm(rank_one), rel=1e-12)


def test_power_iteration_rises_towards_sigma_max():
    W = np.random.default_rng(2).normal(size=(10, 6))
    sigmas, u, v = power_iteration(W, iters=200, seed=0)
    true = np.linalg.svd(W)[1][0]
    assert np.all(np.diff(sigmas) >= -1e-12 * true)
    assert np.all(sigmas <= true * (1 + 1e-12))
    assert sigmas[-1] == pytest.approx(true, rel=1e-10)
    assert float(u @ W @ v) == pytest.approx(true, rel=1e-10)
    again, _, _ = power_iteration(W, iters=5, u0=u)
    assert again[0] == pytest.approx(true, rel=1e-9)  # a warm start is already converged


def test_lipschitz_bound_is_the_product_and_never_below_the_jacobians(setup):
    weights, model, x, y = setup
    W1, _, W2, _ = weights
    bound = lipschitz_upper_bound(model)
    true = np.linalg.svd(W1)[1][0] * np.linalg.svd(W2)[1][0]
    assert bound == pytest.approx(true, rel=1e-9)
    np.testing.assert_allclose(jacobian(model, x), _numpy_jacobian(weights, x), rtol=1e-10,
                               atol=1e-14)
    pts = np.random.default_rng(5).normal(size=(300, D)) * 2
    local = local_lipschitz(model, pts)
    assert local.shape == (300,) and np.all(local <= bound * (1 + 1e-9))
    # each logit's gradient is a row of the Jacobian: its norm is below the bound too
    grads = np.linalg.norm(jacobian(model, pts), axis=2)
    assert grads.max() <= bound
    relu = _model(weights, act="relu")
    assert lipschitz_upper_bound(relu) == pytest.approx(true, rel=1e-9)
    assert local_lipschitz(relu, pts).max() <= true * (1 + 1e-9)
    assert layer_lipschitz(tnn.Sigmoid()) == ("Sigmoid", 0.25)


def test_certified_radius_is_never_crossed(setup):
    _, model, x, y = setup
    z = logits_of(model, x)
    pred = z.argmax(axis=1)
    L = lipschitz_upper_bound(model)
    r = certified_radius(z, pred, L)
    np.testing.assert_allclose(r, margins(z, pred) / (math.sqrt(2) * L))
    assert np.all(r > 0)
    adv = pgd(model, x, pred, eps=r.min() * 0.999, alpha=r.min() / 5, steps=30, norm="2")
    assert np.all(logits_of(model, adv).argmax(axis=1) == pred)
    assert np.all(certified_radius(z, (pred + 1) % C, L) == 0)


BAD_EPS = [-0.1, float("nan"), float("inf"), True, "0.1", None]


@pytest.mark.parametrize("eps", BAD_EPS)
def test_hostile_eps(setup, eps):
    _, model, x, y = setup
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, x, y, eps)
    with pytest.raises(ValueError, match="eps"):
        pgd(model, x, y, eps, 0.1, 3)


@pytest.mark.parametrize("bad_x", [np.zeros(D), np.zeros((0, D)), [[1.0, float("nan")] * 2 + [0.0]],
                                   [["a"] * D], np.zeros((2, 3))])
def test_hostile_inputs(setup, bad_x):
    _, model, _, _ = setup
    with pytest.raises(ValueError):
        fgsm(model, bad_x, np.zeros(np.shape(bad_x)[0] if np.ndim(bad_x) else 1, int), 0.1)


@pytest.mark.parametrize("bad_y", [np.zeros(N - 1, int), np.zeros((N, 1), int), np.full(N, 0.5),
                                   np.full(N, -1), np.full(N, C), ["a"] * N, np.full(N, np.nan)])
def test_hostile_labels(setup, bad_y):
    _, model, x, _ = setup
    with pytest.raises(ValueError):
        fgsm(model, x, bad_y, 0.1)
    with pytest.raises(ValueError):
        pgd(model, x, bad_y, 0.1, 0.05, 2)


def test_hostile_pgd_settings(setup):
    _, model, x, y = setup
    for kwargs, word in [({"alpha": 0.0}, "alpha"), ({"alpha": -1.0}, "alpha"),
                         ({"steps": -1}, "steps"), ({"steps": 2.5}, "steps"),
                         ({"norm": "1"}, "norm"), ({"norm": 3}, "norm"), ({"seed": -1}, "seed"),
                         ({"clip": (1.0, 0.0)}, "clip"), ({"clip": (0.5, 1.0)}, "inside"),
                         ({"clip": 1.0}, "clip")]:
        args = {"eps": 0.1, "alpha": 0.05, "steps": 2, **kwargs}
        with pytest.raises(ValueError, match=word):
            pgd(model, x, y, **args)
    assert pgd(model, x, y, 0.1, 0.05, 2, norm=np.inf).shape == x.shape


@pytest.mark.parametrize("W", [np.zeros(3), np.zeros((0, 3)), [[1.0, np.inf]], [["a"]],
                               np.zeros((2, 2, 2))])
def test_hostile_matrices(W):
    with pytest.raises(ValueError, match="W"):
        spectral_norm(W)
    with pytest.raises(ValueError, match="W"):
        power_iteration(W)
    with pytest.raises(ValueError, match="iters"):
        spectral_norm(np.eye(2), iters=0)


def test_unknown_layers_are_refused(setup):
    with pytest.raises(ValueError, match="Sequential"):
        lipschitz_upper_bound(object())

    class Weird:
        pass

    with pytest.raises(ValueError, match="Weird"):
        layer_lipschitz(Weird())


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid"])
def test_the_direct_path_equals_core_tensor_backward(setup, act):
    from core.robust.attacks import _direct_grad, _direct_layers, _graph_grad

    weights, _, x, y = setup
    W1, b1, W2, b2 = weights
    first, second = tnn.Linear(D, H), tnn.Linear(H, C)
    first.weight.data[...], first.bias.data[...] = W1, b1
    second.weight.data[...], second.bias.data[...] = W2, b2
    mid = {"tanh": tnn.Tanh(), "relu": tnn.ReLU(), "sigmoid": tnn.Sigmoid()}[act]
    model = tnn.Sequential(first, mid, tnn.Dropout(0.5), second)
    model.eval()
    layers = _direct_layers(model)
    assert layers is not None
    fast, slow = _direct_grad(layers, x, y), _graph_grad(model, x, y)
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-12)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-10, atol=1e-15)
    model.train()  # dropout draws masks: only the graph path knows them
    assert _direct_layers(model) is None
