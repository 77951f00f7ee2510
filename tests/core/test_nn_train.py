"""core.nn training: every optimizer through core.optim's kernels, mini-batches, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from core import nn
from core.nn import MLP, Trainer, accuracy, make_dataset, train
from core.optim.steps import apply_step, make_hyper


def test_xor_reaches_full_accuracy_with_a_fixed_seed():
    X, y = make_dataset("xor", n=200, noise=0.05, seed=0)
    model = MLP([2, 16, 16, 2], "tanh", seed=0)
    assert accuracy(model, X, y) < 0.8
    losses = train(model, X, y, "cross_entropy", "adam", lr=0.05, steps=200)
    assert losses.shape == (200,)
    assert losses[-1] < 0.05 * losses[0]
    assert accuracy(model, X, y) >= 0.98


def test_circles_reach_high_train_and_test_accuracy_with_minibatches():
    X, y = make_dataset("circles", n=400, noise=0.05, seed=1)
    Xtr, ytr, Xte, yte = nn.train_test_split(X, y, 0.25, seed=1)
    model = MLP([2, 16, 16, 2], "relu", seed=0)
    train(model, Xtr, ytr, "cross_entropy", "sgd", lr=0.5, steps=600, batch_size=32, seed=3)
    assert accuracy(model, Xtr, ytr) >= 0.97
    assert accuracy(model, Xte, yte) >= 0.95


def test_mse_on_one_hot_targets_also_learns_xor():
    X, y = make_dataset("xor", n=200, noise=0.05, seed=2)
    model = MLP([2, 16, 2], "tanh", seed=1)
    losses = train(model, X, y, "mse", "momentum", lr=0.1, steps=400, batch_size=50)
    assert losses[-1] < losses[0]
    assert accuracy(model, X, y) >= 0.95


def test_train_with_sgd_is_plain_gradient_descent():
    X, y = make_dataset("moons", n=40, noise=0.1, seed=0)
    model = MLP([2, 4, 2], "tanh", seed=0)
    ref = model.copy()
    train(model, X, y, "cross_entropy", "sgd", lr=0.1, steps=3)
    for _ in range(3):
        _, grads = nn.value_and_grad(ref, X, y, "cross_entropy")
        for p, g in zip(ref.parameters(), grads):
            p -= 0.1 * g
    np.testing.assert_allclose(model.theta, ref.theta, rtol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad"])
def test_every_optimizer_uses_core_optim_update_equations(optimizer):
    X, y = make_dataset("blobs", n=30, noise=0.2, seed=0, classes=3)
    model = MLP([2, 5, 3], "relu", seed=0)
    ref = model.copy()
    losses = train(model, X, y, "cross_entropy", optimizer, lr=0.05, steps=4, gamma=0.8)
    hyper = make_hyper(optimizer, lr=0.05, gamma=0.8)
    state = np.zeros((3, ref.n_parameters))
    code = nn.training.OPTIMIZER_CODES[optimizer]
    for t in range(1, 5):
        value, grads = nn.value_and_grad(ref, X, y, "cross_entropy")
        assert losses[t - 1] == pytest.approx(value, rel=1e-12)
        apply_step(code, ref.theta, np.concatenate([g.ravel() for g in grads]), state, t, hyper)
    np.testing.assert_allclose(model.theta, ref.theta, rtol=1e-12, atol=1e-15)


def test_newton_on_a_tiny_network_drops_the_loss():
    X, y = make_dataset("blobs", n=40, noise=0.2, seed=0, classes=2)
    model = MLP([2, 2], seed=0)  # logistic regression: convex, so Newton converges quickly
    losses = train(model, X, y, "cross_entropy", "newton", lr=1.0, steps=5)
    assert losses.size == 5 and losses[-1] < 0.5 * losses[0]


def test_newton_refuses_big_networks():
    with pytest.raises(ValueError, match="Hessian"):
        Trainer(MLP([2, 64, 64, 2]), np.zeros((2, 2)), [0, 1], optimizer="newton")


def test_minibatches_cover_each_epoch_once_and_replay_after_restore():
    X, y = make_dataset("circles", n=50, noise=0.05, seed=0)
    trainer = Trainer(MLP([2, 8, 2], seed=0), X, y, batch_size=16, seed=5)
    assert trainer.batches_per_epoch == 4
    epoch = np.concatenate([trainer.batch_indices(k) for k in range(4)])
    assert sorted(epoch.tolist()) == list(range(50))
    assert trainer.batch_indices(3).size == 2  # the ragged last batch
    assert not np.array_equal(trainer.batch_indices(0), trainer.batch_indices(4))
    trainer.run(3)
    cp = trainer.checkpoint()
    later = trainer.run(6)
    theta_after = trainer.model.theta.copy()
    trainer.restore(cp)
    np.testing.assert_array_equal(trainer.run(6), later)
    np.testing.assert_array_equal(trainer.model.theta, theta_after)
    assert trainer.t == 9


def test_same_seed_gives_the_same_run():
    X, y = make_dataset("spirals", n=60, noise=0.05, seed=0)
    runs = [train(MLP([2, 8, 2], seed=1), X, y, optimizer="adam", steps=20, batch_size=10, seed=2)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_divergence_stops_early_without_raising():
    X, y = make_dataset("xor", n=20, noise=0.0, seed=0)
    X = X * 1e3
    model = MLP([2, 8, 1], "relu", seed=0)
    trainer = Trainer(model, X, y.astype(float), "mse", "sgd", lr=10.0)
    losses = trainer.run(100)
    assert trainer.diverged and losses.size < 100
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(model.theta))
    assert np.isnan(trainer.step())


def test_train_validation():
    model = MLP([2, 3, 2])
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train(model, X, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="batch_size"):
        train(model, X, y, batch_size=0)
    with pytest.raises(ValueError, match="steps"):
        train(model, X, y, steps=-1)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        train(model, X, y, momentum=0.9)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train(model, X, y, lr=0.0)
    with pytest.raises(ValueError, match="model must be an MLP"):
        train("net", X, y)
    assert train(model, X, y, steps=0).size == 0


def test_default_hyper_and_evaluate():
    assert nn.default_hyper("adam")["lr"] == 0.001
    X, y = make_dataset("xor", n=20, seed=0)
    trainer = Trainer(MLP([2, 3, 2]), X, y)
    assert trainer.evaluate() == pytest.approx(nn.value_and_grad(trainer.model, X, y, "cross_entropy")[0])
