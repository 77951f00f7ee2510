"""core.vision.train_small_cnn: gradients vs central differences, BN's speed-up, divergence, checks."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import digits
from core.vision import SmallCNN, SmallCNNTrainer, train_small_cnn


def _numeric_grad(model, X, y, name, h=1e-6):
    p = model.params[name]
    g = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        old = p[i]
        p[i] = old + h
        up = model.loss_and_grads(X, y)[0]
        p[i] = old - h
        down = model.loss_and_grads(X, y)[0]
        p[i] = old
        g[i] = (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("batch_norm", [False, True])
def test_whole_network_gradient_matches_central_differences(batch_norm):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 1, 4, 4))
    y = np.array([0, 1, 2, 1, 0])
    model = SmallCNN((1, 4, 4), classes=3, channels=2, batch_norm=batch_norm, seed=3)
    loss, grads = model.loss_and_grads(X, y)
    assert set(grads) == set(model.params)
    assert np.isfinite(loss)
    for name, g in grads.items():
        np.testing.assert_allclose(g, _numeric_grad(model, X, y, name), rtol=1e-5, atol=1e-7, err_msg=name)


def test_forward_matches_a_numpy_reference():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3, 1, 4, 4))
    model = SmallCNN((1, 4, 4), classes=3, channels=2, batch_norm=False, seed=0)
    p = model.params
    xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    z = np.zeros((3, 2, 4, 4))
    for o in range(2):
        for i in range(4):
            for j in range(4):
                z[:, o, i, j] = (xp[:, 0, i : i + 3, j : j + 3] * p["conv.weight"][o, 0]).sum(axis=(1, 2))
        z[:, o] += p["conv.bias"][o]
    r = np.maximum(z, 0).reshape(3, 2, 2, 2, 2, 2).max(axis=(3, 5))
    logits = r.reshape(3, -1) @ p["fc.weight"].T + p["fc.bias"]
    np.testing.assert_allclose(model(X), logits, atol=1e-12)


def test_batch_norm_converges_faster_on_the_digits():
    """4.5.4: at η = 0.05 with the default digits and seed 0, BN's loss drops much sooner."""
    X, y = digits()
    plain = train_small_cnn(X, y, batch_norm=False, lr=0.05, steps=100, seed=0)
    bn = train_small_cnn(X, y, batch_norm=True, lr=0.05, steps=100, seed=0)
    assert plain.losses.shape == bn.losses.shape == (100,)
    first = [int(np.argmax(r.losses < 1.5)) for r in (plain, bn)]
    assert (bn.losses < 1.5).any() and first[1] * 4 < first[0]
    assert bn.losses[-20:].mean() < 0.5 * plain.losses[-20:].mean()
    assert bn.accuracy > plain.accuracy + 0.1
    assert bn.diverged_at is None and plain.diverged_at is None


def test_trainer_steps_reproduce_the_one_call_run():
    X, y = digits(n_per_class=10, size=8)
    whole = train_small_cnn(X, y, batch_norm=True, lr=0.1, steps=12, batch_size=16, seed=4)
    trainer = SmallCNNTrainer(X, y, batch_norm=True, lr=0.1, batch_size=16, seed=4)
    stepped = [trainer.step() for _ in range(12)]
    np.testing.assert_array_equal(whole.losses, stepped)
    assert trainer.accuracy() == whole.accuracy
    assert len(trainer.X_train) == 80 and len(trainer.X_test) == 20


def test_non_finite_losses_are_recorded_not_hidden():
    X, y = digits(n_per_class=10, size=8)
    trainer = SmallCNNTrainer(X, y, lr=0.1, batch_size=16)
    trainer.run(3)
    trainer.model.params["fc.weight"][0, 0] = np.nan
    losses = trainer.run(3)
    assert np.isnan(losses).all() and trainer.diverged_at == 3 and len(trainer.losses) == 6
    exploding = train_small_cnn(X * 50, y, lr=100.0, steps=3, batch_size=16)
    assert exploding.losses[1] > 1e6  # a loss that explodes is shown as it came


def test_train_eval_modes_of_batch_norm():
    X, y = digits(n_per_class=10, size=8)
    trainer = SmallCNNTrainer(X, y, batch_norm=True, lr=0.1, batch_size=16)
    trainer.run(5)
    bn = trainer.model.bn
    before = bn.running_mean.copy()
    trainer.accuracy(training=True)  # evaluating in training mode does not move the statistics
    np.testing.assert_array_equal(bn.running_mean, before)
    whole = trainer.accuracy(training=True)
    assert trainer.accuracy(training=True, batch_size=len(trainer.X_test)) == whole
    per_image = trainer.accuracy(training=True, batch_size=1)  # each image normalized alone
    assert 0.0 <= per_image <= 1.0 and trainer.accuracy(batch_size=1) == trainer.accuracy()
    np.testing.assert_array_equal(bn.running_mean, before)
    one = trainer.X_test[:1]
    trainer.model.eval()
    assert trainer.model(one).shape == (1, 10)
    trainer.model.train()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"X": np.zeros((20, 16, 16))}, "dimensions"),
        ({"X": np.zeros((20, 1, 15, 15))}, "even"),
        ({"y": np.zeros(19, dtype=int)}, "labels"),
        ({"y": np.zeros(20)}, "labels"),
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"steps": 0}, "steps"),
        ({"batch_size": 1}, "batch_size"),
        ({"X": np.full((20, 1, 8, 8), np.nan)}, "finite"),
    ],
)
def test_hostile_arguments_raise_value_error(kwargs, match):
    args = {"X": np.zeros((20, 1, 8, 8)), "y": np.arange(20) % 10, **kwargs}
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError, match=match):
        train_small_cnn(X, y, **args)
