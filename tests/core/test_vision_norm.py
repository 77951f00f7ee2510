"""core.vision.norm and BatchNorm: values against NumPy, gradients by central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.vision import norm as norm_mod
from core.vision.batchnorm import BatchNorm, fold_batchnorm
from core.vision.conv import conv2d
from core.vision.norm import (
    batch_norm,
    batch_norm_backward,
    instance_norm,
    instance_norm_backward,
    layer_norm,
    layer_norm_backward,
    norm_statistics,
)
from tests.numeric import numeric_grad

FUNCS = {
    "batch": (batch_norm, batch_norm_backward),
    "layer": (layer_norm, layer_norm_backward),
    "instance": (instance_norm, instance_norm_backward),
}


def ref_norm(kind, x, gamma, beta, eps):
    if kind == "batch":
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
    elif kind == "layer":
        axes = tuple(range(1, x.ndim))
        shape = (1,) + x.shape[1:]
    else:
        axes = tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@st.composite
def norm_cases(draw):
    kind = draw(st.sampled_from(["batch", "layer", "instance"]))
    four_d = kind == "instance" or draw(st.booleans())
    N = draw(st.integers(2, 3))
    if four_d:
        shape = (N, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 3)))
    else:
        shape = (N, draw(st.integers(1, 4)))
    return kind, shape, draw(st.sampled_from([1e-5, 1e-3, 0.1])), draw(st.integers(0, 2**16))


def _params(kind, shape, rng):
    pshape = shape[1:] if kind == "layer" else (shape[1],)
    return rng.normal(size=pshape), rng.normal(size=pshape)


@settings(max_examples=60, deadline=None)
@given(norm_cases())
def test_norms_match_numpy(case):
    kind, shape, eps, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * 3 + 1
    gamma, beta = _params(kind, shape, rng)
    fwd, _ = FUNCS[kind]
    np.testing.assert_allclose(fwd(x, gamma, beta, eps), ref_norm(kind, x, gamma, beta, eps), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(norm_cases())
def test_norm_backward_matches_central_differences(case):
    kind, shape, eps, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    gamma, beta = _params(kind, shape, rng)
    fwd, bwd = FUNCS[kind]
    dout = rng.normal(size=shape)

    def loss():
        return float(np.sum(fwd(x, gamma, beta, eps) * dout))

    dx, dgamma, dbeta = bwd(dout, x, gamma, beta, eps)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), atol=2e-5)
    np.testing.assert_allclose(dgamma, numeric_grad(loss, gamma), atol=2e-5)
    np.testing.assert_allclose(dbeta, numeric_grad(loss, beta), atol=2e-5)


def test_batch_norm_output_has_zero_mean_unit_variance_per_channel():
    x = np.random.default_rng(0).normal(5, 3, size=(8, 3, 4, 4))
    y = batch_norm(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-4)


def test_statistics_shapes_per_kind():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    assert norm_statistics("batch", x)[0].shape == (3,)
    assert norm_statistics("layer", x)[0].shape == (2,)
    mean, var = norm_statistics("instance", x)
    np.testing.assert_allclose(mean, x.mean(axis=(2, 3)))
    np.testing.assert_allclose(var, x.var(axis=(2, 3)))


def test_large_mean_keeps_variance_accurate():
    x = 1e8 + np.random.default_rng(0).normal(size=(1000, 1))
    np.testing.assert_allclose(norm_statistics("batch", x)[1], x.var(axis=0), rtol=1e-6)


@pytest.mark.parametrize(
    ("fn", "args", "message"),
    [
        (batch_norm, (np.zeros(4),), "dimensions"),
        (batch_norm, (np.zeros((1, 3)),), "more than one value"),
        (instance_norm, (np.zeros((2, 3)),), "dimensions"),
        (instance_norm, (np.zeros((2, 3, 1, 1)),), "more than one value"),
        (batch_norm, (np.zeros((4, 3)), np.ones(2)), "gamma must have shape"),
        (layer_norm, (np.zeros((4, 3)), None, np.ones(4)), "beta must have shape"),
        (batch_norm, (np.zeros((4, 3)), None, None, -1.0), "eps"),
        (batch_norm, (np.zeros((4, 3)), None, None, float("nan")), "eps"),
    ],
)
def test_hostile_inputs_raise_before_any_kernel(monkeypatch, fn, args, message):
    def boom(*a):
        raise AssertionError("a kernel ran on unchecked input")

    monkeypatch.setattr(norm_mod, "_group_norm_fwd", boom)
    with pytest.raises(ValueError, match=message):
        fn(*args)


def test_batchnorm_running_statistics_follow_torch():
    rng = np.random.default_rng(0)
    bn = BatchNorm(3, momentum=0.1)
    batches = [rng.normal(2, 3, size=(4, 3, 5, 5)) for _ in range(3)]
    rm, rv = np.zeros(3), np.ones(3)
    for xb in batches:
        y = bn(xb)
        np.testing.assert_allclose(y, ref_norm("batch", xb, np.ones(3), np.zeros(3), 1e-5), atol=1e-10)
        m = xb.mean(axis=(0, 2, 3))
        v = xb.var(axis=(0, 2, 3), ddof=1)
        rm, rv = 0.9 * rm + 0.1 * m, 0.9 * rv + 0.1 * v
    np.testing.assert_allclose(bn.running_mean, rm)
    np.testing.assert_allclose(bn.running_var, rv)
    assert bn.num_batches_tracked == 3
    bn.eval()
    xt = rng.normal(size=(2, 3, 5, 5))
    expected = (xt - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(bn(xt), expected, atol=1e-12)
    # eval mode does not touch the running statistics, and a single sample works
    bn(xt[:1])
    np.testing.assert_allclose(bn.running_mean, rm)


def test_batchnorm_cumulative_average():
    bn = BatchNorm(2, momentum=None)
    xs = [np.random.default_rng(i).normal(size=(5, 2)) for i in range(4)]
    for x in xs:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(axis=0) for x in xs], axis=0))


def test_batchnorm_backward_in_both_modes():
    rng = np.random.default_rng(1)
    bn = BatchNorm(2)
    bn.gamma, bn.beta = rng.normal(size=2), rng.normal(size=2)
    x = rng.normal(size=(3, 2, 2, 2))
    dout = rng.normal(size=x.shape)
    bn(x)
    dx, dg, db = bn.backward(dout)
    np.testing.assert_allclose(dx, batch_norm_backward(dout, x, bn.gamma, bn.beta)[0])
    bn.eval()
    bn(x)
    dx, dg, db = bn.backward(dout)

    def loss():
        return float(np.sum(bn(x) * dout))

    np.testing.assert_allclose(dx, numeric_grad(loss, x), atol=1e-6)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("layer", ["conv", "linear"])
def test_folding_equals_conv_then_batchnorm(layer):
    rng = np.random.default_rng(4)
    bn = BatchNorm(4)
    bn.gamma, bn.beta = rng.normal(size=4), rng.normal(size=4)
    if layer == "conv":
        w, b = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
        x = rng.normal(size=(6, 3, 8, 8))

        def run(w_, b_):
            return conv2d(x, w_, b_, padding=1)
    else:
        w, b = rng.normal(size=(4, 5)), rng.normal(size=4)
        x = rng.normal(size=(6, 5))

        def run(w_, b_):
            return x @ w_.T + b_
    for _ in range(5):  # train: running statistics move away from 0 and 1
        bn(run(w, b) * 2 + 1)
    bn.eval()
    wf, bf = bn.fold(w, b)
    np.testing.assert_allclose(run(wf, bf), bn(run(w, b)), atol=1e-10)
    np.testing.assert_allclose(fold_batchnorm(w, None, bn)[1], bn.beta - bn.running_mean * bn.scale_shift()[0])


def test_batchnorm_validation():
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm(0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(2, momentum=1.5)
    bn = BatchNorm(3)
    with pytest.raises(ValueError, match="channels"):
        bn(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="forward before backward"):
        bn.backward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="output channels"):
        bn.fold(np.zeros((2, 3, 3, 3)))
