"""core.nn layers, losses and whole-network gradients: central differences and NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import nn
from core.nn import MLP
from tests.numeric import numeric_grad as central_diff


# --- references in plain NumPy ------------------------------------------------------------
ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def numpy_forward(params, x, act):
    a = x
    for layer in range(len(params) // 2):
        z = a @ params[2 * layer].T + params[2 * layer + 1]
        a = ACT[act](z) if layer < len(params) // 2 - 1 else z
    return a


def numpy_ce(logits, labels):
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(lse - logits[np.arange(len(labels)), labels]))


# --- layers ----------------------------------------------------------------------------------
def test_linear_matches_numpy_and_torch_layout():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    np.testing.assert_allclose(nn.linear(x, w, b), x @ w.T + b, rtol=1e-12)


def test_linear_backward_matches_central_differences():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    up = rng.normal(size=(5, 4))  # L = Σ up · linear(x): its gradient is the backward of `up`
    loss = lambda: float(np.sum(up * nn.linear(x, w, b)))
    dx, dw, db = nn.linear_backward(up, x, w)
    np.testing.assert_allclose(dx, central_diff(loss, x), atol=1e-7)
    np.testing.assert_allclose(dw, central_diff(loss, w), atol=1e-7)
    np.testing.assert_allclose(db, central_diff(loss, b), atol=1e-7)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activation_forward_and_backward(name):
    rng = np.random.default_rng(2)
    z = rng.normal(size=(4, 6)) * 3
    z[np.abs(z) < 1e-3] = 0.5  # keep ReLU away from its kink for the difference quotient
    np.testing.assert_allclose(nn.activation(z, name), ACT[name](z), rtol=1e-12, atol=1e-15)
    up = rng.normal(size=z.shape)
    loss = lambda: float(np.sum(up * nn.activation(z, name)))
    np.testing.assert_allclose(nn.activation_backward(up, z, name), central_diff(loss, z), atol=1e-7)


def test_sigmoid_is_stable_for_huge_inputs():
    out = nn.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])
    assert nn.relu([-2.0, 3.0]).tolist() == [0.0, 3.0]
    assert nn.tanh(np.zeros((2, 2))).shape == (2, 2)


def test_layer_wrappers_reject_bad_shapes():
    with pytest.raises(ValueError, match="input columns"):
        nn.linear(np.zeros((2, 3)), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="bias"):
        nn.linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="dout"):
        nn.linear_backward(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.activation([1.0], "gelu")


# --- losses ------------------------------------------------------------------------------------
def test_mse_is_the_mean_over_all_elements_and_its_gradient():
    rng = np.random.default_rng(3)
    p, t = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    assert nn.mse_loss(p, t) == pytest.approx(np.mean((p - t) ** 2), rel=1e-12)
    value, grad = nn.mse_loss_and_grad(p, t)
    np.testing.assert_allclose(grad, central_diff(lambda: nn.mse_loss(p, t), p), atol=1e-7)
    assert value == pytest.approx(nn.mse_loss(p, t))
    assert nn.mse_loss([1.0, 2.0], [1.0, 4.0]) == pytest.approx(2.0)  # 1-D works too


def test_cross_entropy_value_gradient_and_stability():
    rng = np.random.default_rng(4)
    logits, labels = rng.normal(size=(7, 3)), rng.integers(0, 3, 7)
    assert nn.cross_entropy(logits, labels) == pytest.approx(numpy_ce(logits, labels), rel=1e-12)
    _, grad = nn.cross_entropy_and_grad(logits, labels)
    num = central_diff(lambda: nn.cross_entropy(logits, labels), logits)
    np.testing.assert_allclose(grad, num, atol=1e-7)
    # log-sum-exp: scores of 1000 neither overflow nor give NaN
    big = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    assert nn.cross_entropy(big, [0, 0]) == pytest.approx(500.0)
    value, g = nn.cross_entropy_and_grad(big, [0, 0])
    assert np.all(np.isfinite(g)) and g[1, 0] == pytest.approx(-0.5)


def test_cross_entropy_of_the_notes_example():
    # ℓ(x, y) = -log(exp(x_y) / Σ exp(xᵢ)); uniform scores over C classes give log C
    assert nn.cross_entropy(np.zeros((3, 4)), [0, 1, 3]) == pytest.approx(np.log(4))


def test_loss_validation_messages():
    with pytest.raises(ValueError, match="same shape"):
        nn.mse_loss(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        nn.cross_entropy(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="whole numbers"):
        nn.cross_entropy(np.zeros((2, 3)), [0.5, 1.0])
    with pytest.raises(ValueError, match="finite"):
        nn.cross_entropy(np.array([[np.nan, 0.0]]), [0])
    with pytest.raises(ValueError, match="2-D"):
        nn.cross_entropy(np.zeros(3), [0])


# --- the network ---------------------------------------------------------------------------
def test_mlp_parameters_follow_torch_shapes_and_count():
    model = MLP([2, 16, 16, 2])
    shapes = [p.shape for p in model.parameters()]
    assert shapes == [(16, 2), (16,), (16, 16), (16,), (2, 16), (2,)]
    assert model.n_parameters == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 2 == 354
    assert model(np.zeros((5, 2))).shape == (5, 2)
    assert "2-16-16-2" in repr(model)


def test_mlp_initialisation_is_seeded_and_reset_restores_it():
    a, b, c = MLP([2, 8, 3], seed=7), MLP([2, 8, 3], seed=7), MLP([2, 8, 3], seed=8)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, c.theta)
    first = a.theta.copy()
    bound = 1 / np.sqrt(2)
    assert np.all(np.abs(a.parameters()[0]) <= bound) and np.all(np.abs(a.parameters()[2]) <= 1 / np.sqrt(8))
    a.parameters()[0][:] = 5.0  # views: writing a parameter changes the model
    assert a.theta[0] == 5.0
    a.reset()
    np.testing.assert_array_equal(a.theta, first)


def test_mlp_forward_matches_numpy():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(9, 3))
    for act in ("relu", "tanh", "sigmoid"):
        model = MLP([3, 5, 4, 2], act, seed=1)
        np.testing.assert_allclose(model(x), numpy_forward(model.parameters(), x, act), rtol=1e-12)


def test_mlp_without_hidden_layer_is_linear():
    model = MLP([3, 2])
    x = np.ones((1, 3))
    w, b = model.parameters()
    np.testing.assert_allclose(model(x), x @ w.T + b)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_value_and_grad_matches_central_differences(act, loss):
    rng = np.random.default_rng(6)
    model = MLP([2, 5, 4, 3], act, seed=3)
    x = rng.normal(size=(8, 2))
    y = rng.integers(0, 3, 8) if loss == "cross_entropy" else rng.normal(size=(8, 3))
    value, grads = nn.value_and_grad(model, x, y, loss)
    assert [g.shape for g in grads] == [p.shape for p in model.parameters()]
    flat = np.concatenate([g.ravel() for g in grads])
    num = central_diff(lambda: nn.value_and_grad(model, x, y, loss)[0], model.theta)
    np.testing.assert_allclose(flat, num, atol=2e-7)
    ref = numpy_forward(model.parameters(), x, act)
    expected = numpy_ce(ref, y) if loss == "cross_entropy" else np.mean((ref - y) ** 2)
    assert value == pytest.approx(expected, rel=1e-12)


def numpy_backprop(params, x, labels, act):
    """A plain NumPy reference of backpropagation through the MLP with cross-entropy."""
    acts, zs = [x], []
    n_layers = len(params) // 2
    for layer in range(n_layers):
        z = acts[-1] @ params[2 * layer].T + params[2 * layer + 1]
        zs.append(z)
        acts.append(ACT[act](z) if layer < n_layers - 1 else z)
    logits = acts[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = p.copy()
    delta[np.arange(len(labels)), labels] -= 1
    delta /= len(labels)
    grads = [None] * len(params)
    for layer in range(n_layers - 1, -1, -1):
        grads[2 * layer] = delta.T @ acts[layer]
        grads[2 * layer + 1] = delta.sum(axis=0)
        if layer:
            da = delta @ params[2 * layer]
            a = acts[layer]
            local = {"relu": zs[layer - 1] > 0, "tanh": 1 - a**2, "sigmoid": a * (1 - a)}[act]
            delta = da * local
    return grads


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
def test_whole_network_gradient_matches_numpy_backprop(act):
    rng = np.random.default_rng(8)
    model = MLP([2, 16, 16, 2], act, seed=4)
    x, labels = rng.normal(size=(50, 2)), rng.integers(0, 2, 50)
    _, grads = nn.value_and_grad(model, x, labels, "cross_entropy")
    for ours, ref in zip(grads, numpy_backprop(model.parameters(), x, labels, act)):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-13)


def test_mse_with_labels_one_hot_encodes_and_single_output_regresses():
    model = MLP([2, 3, 2], seed=0)
    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    v1, _ = nn.value_and_grad(model, x, np.array([1, 0]), "mse")
    v2, _ = nn.value_and_grad(model, x, np.array([[0.0, 1.0], [1.0, 0.0]]), "mse")
    assert v1 == pytest.approx(v2)
    single = MLP([2, 3, 1], seed=0)
    v3, _ = nn.value_and_grad(single, x, np.array([0.5, -0.5]), "mse")
    assert v3 == pytest.approx(np.mean((single(x)[:, 0] - [0.5, -0.5]) ** 2))


def test_mlp_and_value_and_grad_validation():
    with pytest.raises(ValueError, match="input and an output"):
        MLP([2])
    with pytest.raises(ValueError, match="positive whole"):
        MLP([2, 0, 2])
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 2], activation="softplus")
    model = MLP([2, 3, 2])
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        model(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        model(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="loss must be one of"):
        nn.value_and_grad(model, np.zeros((1, 2)), [0], "hinge")
    with pytest.raises(ValueError, match="for mse"):
        nn.value_and_grad(model, np.zeros((2, 2)), np.zeros((2, 5)), "mse")
    with pytest.raises(ValueError, match="at least 2 outputs"):
        nn.value_and_grad(MLP([2, 1]), np.zeros((2, 2)), [0, 0], "cross_entropy")
    with pytest.raises(ValueError, match="shapes"):
        model.set_parameters([np.zeros((3, 2))])


def test_set_parameters_and_copy_are_independent():
    model = MLP([2, 3, 2], seed=1)
    twin = model.copy()
    twin.set_parameters([np.zeros_like(p) for p in model.parameters()])
    assert np.all(twin.theta == 0) and not np.all(model.theta == 0)
    np.testing.assert_allclose(twin(np.ones((2, 2))), 0.0)


def test_layer_outputs_lists_every_pre_activation_and_activation():
    model = MLP([2, 4, 3, 2], "tanh", seed=2)
    outs = model.layer_outputs(np.ones((5, 2)))
    assert [o.shape for o in outs] == [(5, 4), (5, 4), (5, 3), (5, 3), (5, 2)]
    np.testing.assert_allclose(outs[-1], model(np.ones((5, 2))))


# --- against core.autodiff: the same weights through a scalar computational graph ----------
AD_ACT = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}


def autodiff_loss_graph(model, x, y, loss):
    """Build J(θ) as a scalar graph of core.autodiff (one input node per parameter)."""
    from core import autodiff as ad

    g = ad.Graph()
    names = [f"p{i}" for i in range(model.n_parameters)]
    theta = [g.input(name) for name in names]
    shapes = [p.shape for p in model.parameters()]
    params, off = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        params.append(np.array(theta[off : off + size], dtype=object).reshape(shape))
        off += size
    act = getattr(ad, AD_ACT[model.activation])
    total = None
    n_layers = model.n_layers
    for n in range(x.shape[0]):
        a = [float(v) for v in x[n]]
        for layer in range(n_layers):
            w, b = params[2 * layer], params[2 * layer + 1]
            z = [sum((w[o, k] * a[k] for k in range(len(a))), b[o]) for o in range(w.shape[0])]
            a = [act(v) for v in z] if layer < n_layers - 1 else z
        if loss == "cross_entropy":
            term = ad.log(sum((ad.exp(v) for v in a[1:]), ad.exp(a[0]))) - a[int(y[n])]
            total = term if total is None else total + term
        else:
            for o, v in enumerate(a):
                term = (v - float(y[n, o])) ** 2
                total = term if total is None else total + term
    count = x.shape[0] if loss == "cross_entropy" else y.size
    out = total / count
    return g, out, dict(zip(names, model.theta.tolist()))


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_whole_network_gradient_matches_core_autodiff(act, loss):
    rng = np.random.default_rng(11)
    model = MLP([2, 4, 3, 3], act, seed=5)
    x = rng.normal(size=(6, 2))
    y = rng.integers(0, 3, 6) if loss == "cross_entropy" else rng.normal(size=(6, 3))
    value, grads = nn.value_and_grad(model, x, y, loss)
    graph, out, values = autodiff_loss_graph(model, x, y, loss)
    assert graph.forward(out, **values) == pytest.approx(value, rel=1e-12)
    ad_grad = graph.backward(out)
    flat = np.concatenate([g.ravel() for g in grads])
    expected = np.array([ad_grad[f"p{i}"] for i in range(model.n_parameters)])
    np.testing.assert_allclose(flat, expected, rtol=1e-10, atol=1e-13)


# --- any architecture: property-based ---------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    widths=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    d_in=st.integers(1, 3),
    d_out=st.integers(2, 4),
    n=st.integers(1, 6),
    act=st.sampled_from(["tanh", "sigmoid"]),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    seed=st.integers(0, 2**16),
)
def test_value_and_grad_for_any_architecture(widths, d_in, d_out, n, act, loss, seed):
    rng = np.random.default_rng(seed)
    model = MLP([d_in, *widths, d_out], act, seed=seed)
    x = rng.normal(size=(n, d_in))
    y = rng.integers(0, d_out, n) if loss == "cross_entropy" else rng.normal(size=(n, d_out))
    value, grads = nn.value_and_grad(model, x, y, loss)
    flat = np.concatenate([g.ravel() for g in grads])
    num = central_diff(lambda: nn.value_and_grad(model, x, y, loss)[0], model.theta)
    np.testing.assert_allclose(flat, num, atol=1e-6)
    np.testing.assert_allclose(model(x), numpy_forward(model.parameters(), x, act), rtol=1e-12, atol=1e-14)
