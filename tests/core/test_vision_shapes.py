"""core.vision.shapes and LeNet-5: output sizes, receptive fields, the layer table, a forward pass."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.vision import LeNet5, builtin, conv2d, lenet5_layers, lenet5_shapes, max_pool2d
from core.vision.shapes import output_size, receptive_field, receptive_window


def test_output_size_examples_from_the_notes():
    assert output_size(32, 5) == 28  # W - K + 1
    assert output_size(32, 5, p=2) == 32  # same padding P = (K - 1) / 2
    assert output_size(7, 3, p=0, s=2) == 3
    assert output_size(8, 3, p=0, s=2) == 3  # rounded down


@given(st.integers(1, 40), st.integers(1, 7), st.integers(0, 3), st.integers(1, 4))
def test_output_size_agrees_with_conv2d(w, k, p, s):
    if k > w + 2 * p:
        with pytest.raises(ValueError):
            output_size(w, k, p, s)
        return
    y = conv2d(np.zeros((1, 1, 1, w)), np.zeros((1, 1, 1, k)), stride=(1, s), padding=(0, p))
    assert y.shape[3] == output_size(w, k, p, s)


def test_receptive_field_grows_linearly():
    assert receptive_field(1, 3) == 3
    assert receptive_field(3, 3) == 7
    assert receptive_field(2, 5) == 9
    assert receptive_field(0, 3) == 1


def test_receptive_window_is_what_the_output_depends_on():
    # perturb one input pixel and see which outputs of 3 stacked 3x3 convs change
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(1, 1, 3, 3)) for _ in range(3)]
    x = rng.normal(size=(1, 1, 15, 15))

    def net(a):
        for w in ws:
            a = conv2d(a, w, padding=1)
        return a

    r0, r1, c0, c1 = receptive_window(3, 3, 7, 7, padding=1)
    assert (r0, r1, c0, c1) == (4, 11, 4, 11)
    base = net(x)[0, 0, 7, 7]
    for r in range(15):
        x2 = x.copy()
        x2[0, 0, r, 7] += 1.0
        assert (net(x2)[0, 0, 7, 7] != base) == (r0 <= r < r1)


def test_lenet5_table():
    assert lenet5_shapes()[:4] == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]
    assert lenet5_shapes()[-1] == (10,)
    params = [layer.params for layer in lenet5_layers()]
    assert params == [156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert LeNet5.num_parameters() == 61706


def test_lenet5_forward_shapes_and_values():
    net = LeNet5(seed=0)
    x = np.stack([builtin(f"digit{d}", 32) for d in range(3)])[:, None]
    acts = net.activations(x)
    assert [a.shape[1:] for a in acts] == lenet5_shapes()
    assert sum(p.size for p in net.parameters()) == LeNet5.num_parameters()
    # the first block by hand
    c1 = np.maximum(conv2d(x, net.conv1_w, net.conv1_b), 0)
    np.testing.assert_allclose(acts[1], max_pool2d(c1, 2))
    np.testing.assert_allclose(net(x), acts[-1])
    assert not np.allclose(net(x)[0], net(x)[1])


def test_lenet5_rejects_other_shapes():
    with pytest.raises(ValueError, match="32, 32"):
        LeNet5()(np.zeros((1, 1, 28, 28)))
    with pytest.raises(ValueError, match="pool"):
        LeNet5(pool="min")
