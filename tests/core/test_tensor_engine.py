"""core.tensor's tape: deep graphs, accumulation, no_grad, detach, freed graphs, hostile shapes, gradcheck."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from core.tensor import (GradcheckError, Tensor, concat, gradcheck, no_grad, ones, randn, stack,
                         tensor, where, zeros)
from core.tensor import functional as F


def test_constructors_copy_to_float64_and_properties():
    src = [[1, 2, 3], [4, 5, 6]]
    t = tensor(src)
    assert t.data.dtype == np.float64 and t.shape == (2, 3) and not t.requires_grad
    assert t.T.shape == (3, 2) and t.item.__name__ == "item" and t.numpy() is t.data
    arr = np.ones(3)
    u = tensor(arr)
    u.data[0] = 5.0
    assert arr[0] == 1.0, "tensor() copies"
    assert zeros(2, 3).shape == (2, 3) and ones((4,)).data.sum() == 4.0
    np.testing.assert_array_equal(randn(3, 2, seed=7).data, np.random.default_rng(7).standard_normal((3, 2)))
    assert tensor(2.5).item() == 2.5
    with pytest.raises(ValueError):
        tensor([1, 2]).item()
    with pytest.raises(ValueError):
        tensor("abc")
    with pytest.raises(ValueError):
        zeros(2, -1)


def test_deep_chain_of_100k_nodes_backward_without_recursion():
    x = tensor(0.5, requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0  # 100,000 nodes
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_gradients_accumulate_until_zero_grad():
    x = tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])
    x.zero_grad()
    assert x.grad is None
    # a tensor used twice in one graph gets both contributions
    (x * 3.0 + x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 7.0])


def test_no_grad_detach_and_requires_grad_propagation():
    x = tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = x * 2.0
    assert not y.requires_grad and y._backward is None
    d = x.detach()
    assert d.data is x.data and not d.requires_grad
    z = (x * d).sum()
    z.backward()
    np.testing.assert_allclose(x.grad, [1.0, 2.0])  # d is a constant
    c = tensor([1.0]) * tensor([2.0])
    assert not c.requires_grad
    with pytest.raises(ValueError):
        c.backward()

    @no_grad()
    def f(t):
        return t * 3.0

    assert not f(x).requires_grad


def test_backward_frees_closures_and_a_second_backward_raises():
    x = tensor(np.ones(3), requires_grad=True)
    h = x * 2.0
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    loss.backward()
    gc.collect()
    assert ref() is None, "the intermediate was released"
    with pytest.raises(RuntimeError):
        loss.backward()
    x.grad = None
    loss2 = (x * x).sum()
    loss2.backward(retain_graph=True)
    loss2.backward()
    np.testing.assert_allclose(x.grad, 4.0 * np.ones(3))


def test_backward_with_explicit_grad_and_retain_grad():
    x = tensor([[1.0, 2.0]], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    y = h.exp()
    with pytest.raises(ValueError):
        y.backward()  # not a scalar
    with pytest.raises(ValueError):
        y.backward(np.ones(2))
    y.backward(np.ones((1, 2)))
    np.testing.assert_allclose(h.grad, np.exp(h.data))
    np.testing.assert_allclose(x.grad, 3 * np.exp(h.data))


HOSTILE = [
    lambda: tensor(np.ones((2, 3))) + tensor(np.ones((4,))),
    lambda: tensor(np.ones((2, 3))) * np.ones((3, 2)),
    lambda: tensor(np.ones((2, 3))) @ tensor(np.ones((2, 3))),
    lambda: tensor(np.ones(3)) @ tensor(2.0),
    lambda: tensor(np.ones((2, 3, 4))) @ tensor(np.ones((3, 4, 2))),
    lambda: tensor(np.ones((2, 3))).reshape(4, 2),
    lambda: tensor(np.ones((2, 3))).transpose(0, 2),
    lambda: tensor(np.ones((2, 3))).sum(axis=2),
    lambda: tensor(np.ones((2, 3))).mean(axis=(0, 0)),
    lambda: tensor(np.ones((2, 3)))[5],
    lambda: tensor(np.ones((2, 3)))[np.array([0.5])],
    lambda: concat([tensor(np.ones((2, 3))), tensor(np.ones((3, 2)))], 0),
    lambda: concat([], 0),
    lambda: stack([tensor(np.ones(2)), tensor(np.ones(3))]),
    lambda: where(np.ones(3, bool), tensor(np.ones(2)), 0.0),
    lambda: tensor(np.ones(2)) ** tensor(np.ones(2)),
    lambda: F.softmax(tensor(np.ones(3)), axis=1),
    lambda: F.cross_entropy(tensor(np.ones((2, 3))), [0, 3]),
    lambda: F.cross_entropy(tensor(np.ones((2, 3))), [0]),
    lambda: F.cross_entropy(tensor(np.ones((2, 3, 4))), [0, 1]),
    lambda: F.cross_entropy(tensor(np.ones((2, 3))), [0.5, 1]),
    lambda: F.mse_loss(tensor(np.ones(3)), np.ones((3, 1))),
    lambda: F.binary_cross_entropy_with_logits(tensor(np.ones(3)), np.ones(2)),
    lambda: F.embedding([0, 5], tensor(np.ones((3, 2)))),
    lambda: F.linear(tensor(np.ones((2, 3))), tensor(np.ones((4, 2)))),
    lambda: F.dropout(tensor(np.ones(3)), p=1.5),
    lambda: F.layer_norm(tensor(np.ones((2, 3))), tensor(np.ones(2))),
    lambda: F.scaled_dot_product_attention(tensor(np.ones((2, 3))), tensor(np.ones((4, 2))), tensor(np.ones((4, 2)))),
    lambda: F.scaled_dot_product_attention(tensor(np.ones((2, 3))), tensor(np.ones((4, 3))), tensor(np.ones((4, 3))), attn_mask=np.ones((4, 2), bool)),
]


@pytest.mark.parametrize("index", range(len(HOSTILE)))
def test_hostile_shapes_raise_value_error_saying_what_was_expected(index):
    with pytest.raises(ValueError, match="expected|got"):
        HOSTILE[index]()


def test_gradcheck_reports_a_wrong_backward():
    from core.tensor._tensor import _node

    def bad_square(t):
        return _node(t.data**2, (t,), lambda g: (g * 3.0 * t.data,), "bad")

    x = tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradcheckError, match="backward"):
        gradcheck(bad_square, [x])
    assert gradcheck(bad_square, [x], raise_exception=False) is False
    assert gradcheck(lambda t: t * t, [x]) is True
    assert x.grad is None, "gradcheck leaves .grad as it found it"
    with pytest.raises(ValueError):
        gradcheck(lambda t: t, [tensor([1.0])])


def test_numpy_conversion_and_warmup_covers_the_optimizer_kernel():
    import core
    from core import _jit

    t = tensor([[1.0, 2.0]])
    assert np.asarray(t) is t.data and np.asarray(t, dtype=np.float32).dtype == np.float32
    names = [k.name for k in _jit.registered() if k.name.split(".")[1] == "tensor"]
    assert "core.tensor.optim.apply_step" in names
    assert core.warmup(packages=("tensor",)) == []


def test_comparisons_give_boolean_masks_and_iteration():
    x = tensor([-1.0, 2.0])
    assert (x > 0).tolist() == [False, True]
    assert [t.item() for t in x] == [-1.0, 2.0]
    assert isinstance(x[0], Tensor) and x[0].data.shape == ()


_JIT_SCRIPT = """
import json, numpy as np
from core.tensor import nn, tensor, functional as F
rng = np.random.default_rng(0)
x = tensor(rng.standard_normal((3, 4)), requires_grad=True)
lstm, gru, ln = nn.LSTMCell(4, 4, seed=1), nn.GRUCell(4, 4, seed=2), nn.LayerNorm(4)
h, c = lstm(x)
loss = (F.softmax(ln(h + gru(x, c)), -1) * tensor(rng.standard_normal((3, 4)))).sum()
loss.backward()
print(json.dumps([loss.item(), x.grad.tolist(), lstm.weight_ih.grad.tolist(), gru.weight_hh.grad.tolist()]))
"""


def test_numba_disabled_gives_the_same_numbers(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import contextlib
    import io

    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", _JIT_SCRIPT], capture_output=True, text=True,
                         env=env, cwd=root, timeout=300)
    assert out.returncode == 0, out.stderr
    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        exec(_JIT_SCRIPT, {})  # the same script with the compiled kernels
    for a, b in zip(json.loads(here.getvalue()), json.loads(out.stdout)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
