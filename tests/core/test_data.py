"""core.data.digits: shapes, determinism, validation, the renderer against NumPy, learnability."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import DIGIT_STROKES, digits
from core.data.digits import _render_strokes


def test_shapes_dtypes_range_and_balanced_classes():
    X, y = digits(n_per_class=7, size=12, seed=3)
    assert X.shape == (70, 1, 12, 12) and X.dtype == np.float64
    assert y.shape == (70,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.array_equal(np.bincount(y, minlength=10), np.full(10, 7))
    assert X.flags.c_contiguous


def test_defaults_and_determinism_per_seed():
    X, y = digits()
    assert X.shape == (1000, 1, 16, 16)
    X2, y2 = digits(seed=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, y3 = digits(seed=1)
    assert not np.array_equal(X, X3)
    # Every image is its own sample: no two are identical.
    flat = X.reshape(len(X), -1)
    assert len(np.unique(flat.round(6), axis=0)) == len(X)


def test_every_digit_has_ink_inside_the_image():
    X, y = digits(n_per_class=20, size=16, seed=0)
    ink = X.reshape(len(X), -1).max(axis=1)
    assert ink.min() > 0.7  # strokes are drawn, not only noise
    assert sorted(DIGIT_STROKES) == list(range(10))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_per_class": 0},
        {"n_per_class": 2001},
        {"n_per_class": 2.5},
        {"n_per_class": True},
        {"size": 7},
        {"size": 65},
        {"size": "16"},
        {"seed": -1},
        {"seed": None},
    ],
)
def test_hostile_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError, match="must be"):
        digits(**kwargs)


def test_limits_are_accepted():
    assert digits(n_per_class=1, size=8)[0].shape == (10, 1, 8, 8)
    assert digits(n_per_class=1, size=64)[0].shape == (10, 1, 64, 64)


def _render_reference(segs, counts, half_width, ink, size):
    """Plain NumPy: every pixel against every segment."""
    c = np.arange(size) + 0.5
    px, py = np.meshgrid(c, c)  # px varies along columns
    out = np.zeros((len(segs), size, size))
    for i in range(len(segs)):
        best = np.full((size, size), np.inf)
        for x0, y0, x1, y1 in segs[i, : counts[i]]:
            dx, dy = x1 - x0, y1 - y0
            l2 = dx * dx + dy * dy
            t = np.zeros_like(px) if l2 == 0 else np.clip(((px - x0) * dx + (py - y0) * dy) / l2, 0, 1)
            best = np.minimum(best, np.hypot(px - x0 - t * dx, py - y0 - t * dy))
        out[i] = ink[i] * np.clip(half_width[i] + 0.5 - best, 0, 1)
    return out


def test_renderer_matches_numpy_reference():
    rng = np.random.default_rng(0)
    segs = rng.uniform(-2, 14, (5, 6, 4))
    segs[0, 1, 2:] = segs[0, 1, :2]  # a zero-length segment (a dot)
    counts = np.array([6, 1, 3, 6, 2], dtype=np.int64)
    half_width = rng.uniform(0.3, 2.0, 5)
    ink = rng.uniform(0.5, 1.0, 5)
    got = _render_strokes(segs, counts, half_width, ink, 12)
    np.testing.assert_allclose(got, _render_reference(segs, counts, half_width, ink, 12), atol=1e-12)


def test_classes_are_learnable_but_not_trivial():
    X, y = digits(n_per_class=200, seed=0)
    Xt, yt = digits(n_per_class=50, seed=1)
    A = np.c_[X.reshape(len(X), -1), np.ones(len(X))]
    B = np.c_[Xt.reshape(len(Xt), -1), np.ones(len(Xt))]
    W = np.linalg.solve(A.T @ A + np.eye(A.shape[1]), A.T @ np.eye(10)[y])
    linear = ((B @ W).argmax(1) == yt).mean()
    means = np.stack([X[y == d].reshape(-1, 256).mean(0) for d in range(10)])
    nearest = (((Xt.reshape(-1, 1, 256) - means) ** 2).sum(-1).argmin(1) == yt).mean()
    assert linear > 0.75  # a linear classifier already separates most digits ...
    assert nearest < 0.9  # ... but the class means alone do not: the samples vary
