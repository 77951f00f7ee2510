"""core.tensor.functional: values against NumPy references and gradients by central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from core.tensor import gradcheck, tensor
from core.tensor import functional as F

SETTINGS = settings(max_examples=10, deadline=None)


def _leaf(shape, seed=0, scale=1.0):
    return tensor(scale * np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def _np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 100), data=st.data())
def test_softmax_family(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = _leaf(shape, seed, 3.0)
    p = _np_softmax(x.data, axis)
    np.testing.assert_allclose(F.softmax(x, axis).data, p, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x, axis).data, np.log(p), rtol=1e-10, atol=1e-12)
    lse = np.log(np.exp(x.data).sum(axis=axis))
    np.testing.assert_allclose(F.logsumexp(x, axis).data, lse, rtol=1e-12)
    for fn in (lambda t: F.softmax(t, axis), lambda t: F.log_softmax(t, axis),
               lambda t: F.logsumexp(t, axis), lambda t: F.logsumexp(t, axis, keepdims=True)):
        assert gradcheck(fn, [x])


def test_softmax_is_stable_for_huge_logits():
    x = tensor([[1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(F.softmax(x).data, [[0.5, 0.5, 0.0]])
    assert np.isfinite(F.log_softmax(x).data[0, :2]).all()


@SETTINGS
@given(n=st.integers(1, 5), c=st.integers(1, 4), seed=st.integers(0, 100),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy(n, c, seed, reduction):
    z = _leaf((n, c), seed, 2.0)
    y = np.random.default_rng(seed).integers(0, c, n)
    per = -np.log(_np_softmax(z.data, 1))[np.arange(n), y]
    ref = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(F.cross_entropy(z, y, reduction).data, ref, rtol=1e-12)
    assert gradcheck(lambda t: F.cross_entropy(t, y, reduction), [z])


def test_mse_bce_and_their_target_gradients():
    x, t = _leaf((3, 2), 1), _leaf((3, 2), 2)
    np.testing.assert_allclose(F.mse_loss(x, t).item(), np.mean((x.data - t.data) ** 2))
    assert gradcheck(lambda a, b: F.mse_loss(a, b), [x, t])
    assert gradcheck(lambda a, b: F.mse_loss(a, b, "none"), [x, t])
    y = tensor(np.random.default_rng(3).random((3, 2)), requires_grad=True)
    s = 1 / (1 + np.exp(-x.data))
    ref = -np.mean(y.data * np.log(s) + (1 - y.data) * np.log(1 - s))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y).item(), ref)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b), [x, y])
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, "sum"), [x, y])
    big = F.binary_cross_entropy_with_logits(tensor([800.0, -800.0]), np.array([0.0, 1.0]))
    assert big.item() == pytest.approx(800.0)


def test_dropout_scales_kept_units_and_is_seeded():
    x = _leaf((200, 10), 0)
    out = F.dropout(x, 0.3, True, seed=5)
    kept = out.data != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(out.data[kept], x.data[kept] / 0.7)
    np.testing.assert_array_equal(out.data, F.dropout(x, 0.3, True, seed=5).data)
    assert F.dropout(x, 0.3, training=False) is x
    small = _leaf((3, 4), 1)
    assert gradcheck(lambda t: F.dropout(t, 0.5, True, seed=2), [small])


def _np_attention(q, k, v, allowed=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if allowed is not None:
        s = np.where(allowed, s, -np.inf)
    w = _np_softmax(s, -1)
    return w @ v, w


@pytest.mark.parametrize("mask", ["none", "bool", "causal", "float"])
def test_scaled_dot_product_attention(mask):
    q, k, v = _leaf((2, 3, 4), 0), _leaf((2, 5, 4), 1), _leaf((2, 5, 3), 2)
    allowed = None
    kwargs = {}
    if mask == "bool":
        allowed = np.random.default_rng(0).random((3, 5)) > 0.4
        allowed[:, 0] = True
        kwargs = {"attn_mask": allowed}
    elif mask == "causal":
        allowed = np.tril(np.ones((3, 5), bool))
        kwargs = {"is_causal": True}
    elif mask == "float":
        kwargs = {"attn_mask": np.linspace(-1, 1, 15).reshape(3, 5)}
    out = F.scaled_dot_product_attention(q, k, v, **kwargs)
    if mask == "float":
        s = q.data @ np.swapaxes(k.data, -1, -2) / 2.0 + kwargs["attn_mask"]
        ref = _np_softmax(s, -1) @ v.data
    else:
        ref, w = _np_attention(q.data, k.data, v.data, allowed)
        np.testing.assert_allclose(F.attention_weights(q, k, **kwargs).data, w, rtol=1e-12)
    np.testing.assert_allclose(out.data, ref, rtol=1e-12)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kwargs), [q, k, v])


def test_fully_masked_query_rows_get_zero_weights_not_nan():
    q, k = _leaf((2, 4), 0), _leaf((3, 4), 1)
    allowed = np.array([[True, False, True], [False, False, False]])
    w = F.attention_weights(q, k, allowed)
    assert np.isfinite(w.data).all() and w.data[1].sum() == 0.0
    assert gradcheck(lambda a, b: F.attention_weights(a, b, allowed), [q, k])


def test_embedding_and_linear_and_layer_norm():
    w = _leaf((5, 3), 0)
    idx = np.array([[0, 4, 4], [2, 0, 1]])
    np.testing.assert_array_equal(F.embedding(idx, w).data, w.data[idx])
    assert gradcheck(lambda t: F.embedding(idx, t), [w])
    x, W, b = _leaf((2, 3, 4), 1), _leaf((5, 4), 2), _leaf((5,), 3)
    np.testing.assert_allclose(F.linear(x, W, b).data, x.data @ W.data.T + b.data)
    assert gradcheck(F.linear, [x, W, b])
    assert gradcheck(lambda a, c: F.linear(a, c), [tensor(x.data[0], requires_grad=True), W])
    g, beta = _leaf((4,), 4), _leaf((4,), 5)
    mu = x.data.mean(-1, keepdims=True)
    ref = (x.data - mu) / np.sqrt(x.data.var(-1, keepdims=True) + 1e-5) * g.data + beta.data
    np.testing.assert_allclose(F.layer_norm(x, g, beta).data, ref, rtol=1e-10)
    assert gradcheck(F.layer_norm, [x, g, beta])
    assert gradcheck(lambda a: F.layer_norm(a), [x])


def test_softplus_and_leaky_relu():
    x = tensor(np.array([[-800.0, -1.3, 0.4], [2.0, 50.0, 800.0]]), requires_grad=True)
    np.testing.assert_allclose(F.softplus(x).data[0, 1:], np.log1p(np.exp(x.data[0, 1:])))
    assert F.softplus(x).data[0, 0] == 0.0 and F.softplus(x).data[1, 2] == 800.0
    small = _leaf((3, 2), 7)
    assert gradcheck(F.softplus, [small])
    np.testing.assert_allclose(F.leaky_relu(x, 0.1).data, np.where(x.data > 0, x.data, 0.1 * x.data))
    assert gradcheck(lambda t: F.leaky_relu(t, 0.2), [small])
    assert x.argmax(axis=1).tolist() == [2, 2]
