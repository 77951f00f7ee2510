"""core.tensor.optim: each optimizer equals core.optim's update kernel on the flattened parameters."""

from __future__ import annotations

import numpy as np
import pytest

from core.optim.steps import OPTIMIZER_CODES, apply_step, make_hyper
from core.tensor import nn, optim, tensor
from core.tensor import functional as F

CASES = [
    (lambda ps: optim.SGD(ps, lr=0.1), "sgd", {"lr": 0.1}),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.8), "momentum", {"lr": 0.1, "gamma": 0.8}),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.8, nesterov=True), "nesterov", {"lr": 0.1, "gamma": 0.8}),
    (lambda ps: optim.AdaGrad(ps, lr=0.1), "adagrad", {"lr": 0.1}),
    (lambda ps: optim.RMSProp(ps, lr=0.01, alpha=0.9), "rmsprop", {"lr": 0.01, "gamma": 0.9}),
    (lambda ps: optim.Adam(ps, lr=0.01), "adam", {"lr": 0.01}),
    (lambda ps: optim.AMSGrad(ps, lr=0.01), "amsgrad", {"lr": 0.01}),
]


@pytest.mark.parametrize("make,name,hyper", CASES)
def test_optimizers_follow_apply_step(make, name, hyper):
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh(), nn.Linear(3, 2, seed=1))
    x = np.random.default_rng(0).standard_normal((8, 2))
    y = np.arange(8) % 2
    opt = make(list(model.parameters()))
    theta = np.concatenate([p.data.ravel() for p in model.parameters()])
    state = np.zeros((3, theta.size))
    h = make_hyper(name, **hyper)
    for t in range(1, 4):
        opt.zero_grad()
        F.cross_entropy(model(tensor(x)), y).backward()
        g = np.concatenate([p.grad.ravel() for p in model.parameters()])
        apply_step(OPTIMIZER_CODES[name], theta, g, state, t, h)
        opt.step()
        np.testing.assert_allclose(np.concatenate([p.data.ravel() for p in model.parameters()]), theta, rtol=1e-12)


def test_training_reduces_the_loss_and_weight_decay_and_lr_schedule():
    model = nn.Sequential(nn.Linear(2, 16, seed=0), nn.ReLU(), nn.Linear(16, 2, seed=1))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    opt = optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-4)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = F.cross_entropy(model(tensor(x)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    opt.lr = 0.001
    assert opt.lr == 0.001 and opt.hyper[0] == 0.001


def test_bad_optimizer_input():
    with pytest.raises(ValueError):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError):
        optim.SGD([tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError):
        optim.Adam([tensor([1.0], requires_grad=True)], lr=-1)
    with pytest.raises(ValueError):
        optim.SGD([tensor([1.0], requires_grad=True)], lr=0.1, nesterov=True)
    p = tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    opt.step()  # no grad yet: nothing happens
    np.testing.assert_array_equal(p.data, [1.0, 2.0])
    p.data = np.ones(3)
    p.grad = np.ones(3)
    with pytest.raises(ValueError):
        opt.step()


def test_non_contiguous_parameter_data_is_updated():
    p = tensor(np.ones((2, 3)), requires_grad=True)
    p.data = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    p.grad = np.ones((2, 3))
    optim.SGD([p], lr=0.5).step()
    np.testing.assert_allclose(p.data, np.arange(6.0).reshape(2, 3) - 0.5)
