"""core.vision.pool: max and average pooling against NumPy, backward against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.vision import pool as pool_mod
from core.vision.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_with_indices,
)
from tests.numeric import numeric_grad


def ref_pool(x, k, s, p, how):
    N, C, H, W = x.shape
    fill = -np.inf if how == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    y = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            win = xp[:, :, i * s : i * s + k, j * s : j * s + k]
            y[:, :, i, j] = win.max(axis=(2, 3)) if how == "max" else win.mean(axis=(2, 3))
    return y


@st.composite
def pool_cases(draw):
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    p = draw(st.integers(0, k // 2))
    H = draw(st.integers(max(1, k - 2 * p), 9))
    W = draw(st.integers(max(1, k - 2 * p), 9))
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return N, C, H, W, k, s, p, draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None)
@given(pool_cases())
def test_pooling_matches_numpy(case):
    N, C, H, W, k, s, p, seed = case
    x = np.random.default_rng(seed).normal(size=(N, C, H, W))
    np.testing.assert_allclose(max_pool2d(x, k, s, p), ref_pool(x, k, s, p, "max"))
    np.testing.assert_allclose(avg_pool2d(x, k, s, p), ref_pool(x, k, s, p, "avg"), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(pool_cases())
def test_pooling_backward_matches_central_differences(case):
    N, C, H, W, k, s, p, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, H, W))  # distinct values almost surely: max is differentiable
    for fwd, bwd in ((max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)):
        dout = rng.normal(size=fwd(x, k, s, p).shape)
        dx = bwd(dout, x, k, s, p)
        np.testing.assert_allclose(dx, numeric_grad(lambda: float(np.sum(fwd(x, k, s, p) * dout)), x), atol=1e-6)


def test_stride_defaults_to_kernel_size_and_ties_pick_the_first():
    x = np.array([[[[1.0, 3, 3, 0], [2, 3, 1, 1], [0, 0, 5, 5], [0, 0, 5, 5]]]])
    out, idx = max_pool2d_with_indices(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[3, 3], [0, 5]])
    assert idx[0, 0].tolist() == [[1, 2], [8, 10]]
    dx = max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2)
    assert dx.sum() == 4 and dx[0, 0, 0, 1] == 1 and dx[0, 0, 1, 1] == 0


def test_max_pool_is_invariant_to_a_small_shift():
    # notes 4.3.2: a bright pixel moved inside its 2 x 2 window leaves the output unchanged
    a = np.zeros((1, 1, 4, 4))
    a[0, 0, 0, 0] = 1
    b = np.roll(a, 1, axis=3)
    np.testing.assert_array_equal(max_pool2d(a, 2), max_pool2d(b, 2))
    assert not np.array_equal(a, b)


def test_avg_pool_counts_padding_as_zeros():
    x = np.ones((1, 1, 2, 2))
    np.testing.assert_allclose(avg_pool2d(x, 2, 1, 1)[0, 0], [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]])


def test_nan_wins_max_pool():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = np.nan
    assert np.isnan(max_pool2d(x, 2)[0, 0, 0, 0])


@pytest.fixture
def kernels_forbidden(monkeypatch):
    def boom(*args):
        raise AssertionError("a kernel ran on unchecked input")

    for name in ("_max_pool_fwd", "_max_pool_bwd", "_avg_pool_fwd", "_avg_pool_bwd"):
        monkeypatch.setattr(pool_mod, name, boom)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.zeros((4, 4)), 2), {}, "dimensions"),
        ((np.zeros((1, 1, 4, 4)), 0), {}, "kernel_size"),
        ((np.zeros((1, 1, 4, 4)), 2), {"stride": 0}, "stride"),
        ((np.zeros((1, 1, 4, 4)), 2), {"padding": 2}, "half the kernel"),
        ((np.zeros((1, 1, 4, 4)), 5), {}, "larger than the padded"),
        ((np.zeros((1, 0, 4, 4)), 2), {}, "empty"),
        ((np.zeros((1, 1, 4, 4)), (2, 2, 2)), {}, "pair"),
    ],
)
@pytest.mark.parametrize("fn", [max_pool2d, avg_pool2d])
def test_hostile_inputs_raise_before_any_kernel(kernels_forbidden, fn, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fn(*args, **kwargs)


@pytest.mark.parametrize("bwd", [max_pool2d_backward, avg_pool2d_backward])
def test_backward_checks_dout(bwd):
    with pytest.raises(ValueError, match="dout must have"):
        bwd(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2)
