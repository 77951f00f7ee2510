"""core.tensor ops: values against NumPy and gradients against central differences on drawn shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from core.tensor import concat, gradcheck, stack, tensor, where
from core.tensor import functional as F

SETTINGS = settings(max_examples=12, deadline=None)


def _leaf(shape, seed, positive=False, away_from_zero=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    if away_from_zero:
        a = np.sign(a) * (np.abs(a) + 0.1) + (a == 0) * 0.3
    return tensor(a, requires_grad=True)


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
}


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 100))
def test_binary_ops_broadcast_and_sum_gradients_back(name, shapes, seed):
    op, ref = BINARY[name]
    (sa, sb), result = shapes.input_shapes, shapes.result_shape
    a = _leaf(sa, seed)
    b = _leaf(sb, seed + 1, positive=(name == "div"))
    out = op(a, b)
    assert out.shape == result
    np.testing.assert_allclose(out.data, ref(a.data, b.data))
    assert gradcheck(op, [a, b])
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "neg", "pow3", "pow_half", "square", "rpow"])
@SETTINGS
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=3), seed=st.integers(0, 100))
def test_unary_ops(name, shape, seed):
    positive = name in ("log", "sqrt", "pow_half")
    x = _leaf(shape, seed, positive=positive, away_from_zero=name in ("relu", "abs"))
    fn = {
        "neg": lambda t: -t, "pow3": lambda t: t**3, "pow_half": lambda t: t**0.5,
        "square": lambda t: t**2, "rpow": lambda t: 2.0**t,
    }.get(name, lambda t: getattr(t, name)())
    ref = {
        "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh,
        "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "relu": lambda a: np.maximum(a, 0), "abs": np.abs,
        "neg": np.negative, "pow3": lambda a: a**3, "pow_half": np.sqrt, "square": np.square,
        "rpow": lambda a: 2.0**a,
    }[name]
    np.testing.assert_allclose(fn(x).data, ref(x.data), rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("op", ["sum", "mean", "max"])
@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 100),
       data=st.data(), keepdims=st.booleans())
def test_reductions(op, shape, seed, data, keepdims):
    x = _leaf(shape, seed)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    fn = lambda t: getattr(t, op)(axis=axis, keepdims=keepdims)  # noqa: E731
    np.testing.assert_allclose(fn(x).data, getattr(np, op)(x.data, axis=axis, keepdims=keepdims))
    assert gradcheck(fn, [x])


MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((4,), (2, 4, 3)), ((2, 2, 3), (3,)),
    ((1, 2, 3), (4, 3, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_follows_torch_matmul_rules(sa, sb):
    a, b = _leaf(sa, 1), _leaf(sb, 2)
    out = a @ b
    np.testing.assert_allclose(out.data, np.matmul(a.data, b.data))
    assert gradcheck(lambda u, v: u @ v, [a, b])


def test_shape_ops_and_indexing():
    x = _leaf((2, 3, 4), 0)
    cases = [
        lambda t: t.reshape(4, 6), lambda t: t.reshape(-1), lambda t: t.transpose(0, 2),
        lambda t: t.T, lambda t: t.permute(1, 2, 0), lambda t: t.unsqueeze(1).squeeze(1),
        lambda t: t.flatten(1), lambda t: t[1], lambda t: t[:, 1:, ::2], lambda t: t[..., -1],
        lambda t: t[np.array([0, 1, 1, 0])], lambda t: t[:, [2, 2, 0]], lambda t: t[0, [0, 2], [1, 3]],
        lambda t: t[t.data > 0], lambda t: t[None, 1, :, 2], lambda t: t.min(axis=1),
        lambda t: t.var(axis=-1), lambda t: t.clamp(-0.5, 0.5) * 1.0,
    ]
    for fn in cases:
        assert gradcheck(fn, [x])


def test_repeated_integer_index_adds_gradients():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=3), seed=st.integers(0, 50), data=st.data())
def test_concat_stack_where(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a, b = _leaf(shape, seed), _leaf(shape, seed + 1)
    wider = list(shape)
    wider[axis] += 1
    c = _leaf(tuple(wider), seed + 2)
    np.testing.assert_array_equal(concat([a, c], axis).data, np.concatenate([a.data, c.data], axis))
    assert gradcheck(lambda u, v: concat([u, v, u], axis), [a, c])
    sax = data.draw(st.integers(-len(shape) - 1, len(shape)))
    np.testing.assert_array_equal(stack([a, b], sax).data, np.stack([a.data, b.data], sax))
    assert gradcheck(lambda u, v: stack([u, v], sax), [a, b])
    cond = a.data > 0
    col = _leaf(shape[-1:], seed + 3)
    assert gradcheck(lambda u, v: where(cond, u, v), [a, col])
    np.testing.assert_array_equal(where(cond, a, 0.0).data, np.where(cond, a.data, 0.0))


def test_numpy_arrays_and_numbers_on_either_side():
    x = _leaf((2, 3), 0)
    arr = np.arange(3.0)
    for fn in (lambda t: arr + t, lambda t: arr - t, lambda t: arr * t, lambda t: 1.0 / (t * t + 1),
               lambda t: 2 - t, lambda t: np.ones((4, 2)) @ t, lambda t: t @ np.ones(3)):
        out = fn(x)
        assert type(out).__name__ == "Tensor"
        assert gradcheck(fn, [x])
