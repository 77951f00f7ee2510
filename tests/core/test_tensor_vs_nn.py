"""core.nn's fused MLP and the same network built from core.tensor modules give the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from core.nn import MLP, value_and_grad
from core.tensor import nn, tensor
from core.tensor import functional as F

ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _as_tensor_modules(mlp: MLP) -> nn.Sequential:
    layers = []
    for i, (d_in, d_out) in enumerate(zip(mlp.sizes, mlp.sizes[1:])):
        if i:
            layers.append(ACTS[mlp.activation]())
        layers.append(nn.Linear(d_in, d_out, seed=0))
    model = nn.Sequential(*layers)
    for p, value in zip(model.parameters(), mlp.parameters()):
        p.data[...] = value
    return model


@pytest.mark.parametrize("activation", list(ACTS))
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_fused_mlp_equals_tensor_modules(activation, loss):
    mlp = MLP([2, 5, 4, 3], activation=activation, seed=3)
    model = _as_tensor_modules(mlp)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 2))
    y = rng.integers(0, 3, 7)
    np.testing.assert_allclose(model(tensor(X)).data, mlp.forward(X), rtol=1e-12, atol=1e-14)
    value, grads = value_and_grad(mlp, X, y, loss)
    out = model(tensor(X))
    ours = F.cross_entropy(out, y) if loss == "cross_entropy" else F.mse_loss(out, np.eye(3)[y])
    ours.backward()
    assert ours.item() == pytest.approx(value, rel=1e-12)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad, g, rtol=1e-10, atol=1e-13)
