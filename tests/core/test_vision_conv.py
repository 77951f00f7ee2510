"""core.vision.conv: conv2d and its backward against plain NumPy and central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.vision import _conv_kernels
from core.vision import conv as conv_mod
from core.vision.conv import conv2d, conv2d_backward, convolve2d, pad2d, pad_indices
from tests.numeric import numeric_grad

NUMPY_MODES = {"zeros": "constant", "replicate": "edge", "reflect": "reflect", "circular": "wrap"}


def ref_conv2d(x, w, b, stride, padding, mode="zeros"):
    """Cross-correlation the slow, obvious way: pad, then a dot product per output pixel."""
    N, C, H, W = x.shape
    CO, _, KH, KW = w.shape
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode=NUMPY_MODES[mode])
    OH, OW = (H + 2 * p - KH) // stride + 1, (W + 2 * p - KW) // stride + 1
    y = np.zeros((N, CO, OH, OW))
    for n in range(N):
        for o in range(CO):
            for i in range(OH):
                for j in range(OW):
                    patch = xp[n, :, i * stride : i * stride + KH, j * stride : j * stride + KW]
                    y[n, o, i, j] = np.sum(patch * w[o]) + (0.0 if b is None else b[o])
    return y


@st.composite
def conv_cases(draw):
    N = draw(st.integers(1, 2))
    C = draw(st.integers(1, 3))
    CO = draw(st.integers(1, 3))
    K = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 2))
    mode = draw(st.sampled_from(["zeros", "replicate", "reflect", "circular"]))
    H = draw(st.integers(max(1, K - 2 * padding), 8))
    W = draw(st.integers(max(1, K - 2 * padding), 8))
    if mode == "reflect":
        assume(padding < min(H, W) or padding == 0)
    if mode == "circular":
        assume(padding <= min(H, W))
    method = draw(st.sampled_from(["auto", "direct", "im2col"]))
    seed = draw(st.integers(0, 2**16))
    return N, C, CO, H, W, K, stride, padding, mode, method, seed


@settings(max_examples=80, deadline=None)
@given(conv_cases())
def test_conv2d_matches_numpy_reference(case):
    N, C, CO, H, W, K, stride, padding, mode, method, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, H, W))
    w = rng.normal(size=(CO, C, K, K))
    b = rng.normal(size=CO)
    got = conv2d(x, w, b, stride, padding, padding_mode=mode, method=method)
    np.testing.assert_allclose(got, ref_conv2d(x, w, b, stride, padding, mode), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_backward_matches_central_differences(case):
    N, C, CO, H, W, K, stride, padding, mode, method, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, H, W))
    w = rng.normal(size=(CO, C, K, K))
    b = rng.normal(size=CO)
    y = conv2d(x, w, b, stride, padding, padding_mode=mode)
    dout = rng.normal(size=y.shape)

    def loss():
        return float(np.sum(conv2d(x, w, b, stride, padding, padding_mode=mode) * dout))

    dx, dw, db = conv2d_backward(dout, x, w, stride, padding, padding_mode=mode, method=method)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), atol=1e-6)
    np.testing.assert_allclose(dw, numeric_grad(loss, w), atol=1e-6)
    np.testing.assert_allclose(db, numeric_grad(loss, b), atol=1e-6)


def test_methods_agree_on_a_larger_batch():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(5, 4, 13, 11)), rng.normal(size=(7, 4, 3, 5)), rng.normal(size=7)
    a = conv2d(x, w, b, stride=(2, 1), padding=(1, 2), method="direct")
    c = conv2d(x, w, b, stride=(2, 1), padding=(1, 2), method="im2col")
    np.testing.assert_allclose(a, c, atol=1e-11)
    d = rng.normal(size=a.shape)
    for ga, gc in zip(
        conv2d_backward(d, x, w, (2, 1), (1, 2), method="direct"),
        conv2d_backward(d, x, w, (2, 1), (1, 2), method="im2col"),
        strict=True,
    ):
        np.testing.assert_allclose(ga, gc, atol=1e-10)


def test_notes_sobel_on_a_vertical_edge():
    # A dark-to-bright vertical edge: S_x (notes 4.2.2) responds with -4 along it, 0 elsewhere.
    img = np.zeros((5, 6))
    img[:, 3:] = 1.0
    sx = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)
    out = conv2d(img[None, None], sx[None, None])[0, 0]
    np.testing.assert_array_equal(out, [[0, -4, -4, 0]] * 3)
    sy = sx.T
    np.testing.assert_array_equal(conv2d(img[None, None], sy[None, None])[0, 0], np.zeros((3, 4)))


def test_convolve2d_flips_the_kernel():
    rng = np.random.default_rng(2)
    img, k = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
    out = convolve2d(img, k)
    expected = np.zeros((4, 6))
    for i in range(4):
        for j in range(6):  # notes (4.2.1): Σ a[m-i+1, n-j+1] b[i, j]
            expected[i, j] = np.sum(img[i : i + 3, j : j + 2] * k[::-1, ::-1])
    np.testing.assert_allclose(out, expected, atol=1e-12)
    # symmetric kernels (the Gaussian) give the same result both ways
    g = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    np.testing.assert_allclose(convolve2d(img, g), conv2d(img[None, None], g[None, None])[0, 0])


def test_same_padding_keeps_the_size_and_identity_kernel_copies():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 1, 9, 9))
    ident = np.zeros((1, 1, 5, 5))
    ident[0, 0, 2, 2] = 1
    np.testing.assert_array_equal(conv2d(x, ident, padding=2), x)


@pytest.mark.parametrize("mode", ["zeros", "replicate", "reflect", "circular"])
def test_pad2d_matches_numpy(mode):
    x = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(
        pad2d(x, 2, mode), np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode=NUMPY_MODES[mode])
    )


def test_pad_indices_examples():
    assert pad_indices(3, 2, "zeros").tolist() == [-1, -1, 0, 1, 2, -1, -1]
    assert pad_indices(3, 2, "replicate").tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert pad_indices(3, 2, "reflect").tolist() == [2, 1, 0, 1, 2, 1, 0]
    assert pad_indices(3, 2, "circular").tolist() == [1, 2, 0, 1, 2, 0, 1]


HOSTILE = [
    (dict(x=np.zeros((4, 4)), w=np.zeros((1, 1, 3, 3))), "dimensions"),
    (dict(x=np.zeros((1, 2, 4, 4)), w=np.zeros((1, 3, 3, 3))), "input channels"),
    (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 5, 5))), "larger than the padded"),
    (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 3, 3)), stride=0), "stride"),
    (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 3, 3)), padding=-1), "padding"),
    (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 3, 3)), stride=1.5), "integer"),
    (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((2, 1, 3, 3)), b=np.zeros(3)), "b must"),
    (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 3, 3)), padding_mode="mirror"), "padding_mode"),
    (dict(x=np.zeros((1, 1, 3, 3)), w=np.zeros((1, 1, 3, 3)), padding=3, padding_mode="reflect"), "reflect"),
    (dict(x=np.zeros((1, 1, 3, 3)), w=np.zeros((1, 1, 3, 3)), padding=4, padding_mode="circular"), "circular"),
    (dict(x=np.zeros((0, 1, 4, 4)), w=np.zeros((1, 1, 3, 3))), "empty"),
    (dict(x=np.array([["a"]]), w=np.zeros((1, 1, 1, 1))), "real numbers"),
    (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 3, 3)), method="fft"), "method"),
    (dict(x=np.zeros((1, 1, 1, 1)), w=np.zeros((1, 1, 1, 1)), padding=20000), "too large"),
]


@pytest.fixture
def kernels_forbidden(monkeypatch):
    """Make every conv kernel fail loudly, so a test proves validation ran first."""

    def boom(*args):
        raise AssertionError("a kernel ran on unchecked input")

    for name in ("_im2col_batched", "_col2im_batched", "_conv2d_direct", "_conv2d_direct_bwd", "_gather_pad", "_scatter_pad"):
        monkeypatch.setattr(_conv_kernels, name, boom)
    monkeypatch.setattr(conv_mod, "_k", _conv_kernels)


@pytest.mark.parametrize(("kwargs", "message"), HOSTILE)
def test_hostile_shapes_raise_before_any_kernel(kernels_forbidden, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d(**kwargs)


def test_backward_rejects_a_wrong_dout(kernels_forbidden):
    x, w = np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3))
    with pytest.raises(ValueError, match="dout must have"):
        conv2d_backward(np.zeros((1, 2, 4, 4)), x, w)


def test_convolve2d_rejects_4d():
    with pytest.raises(ValueError, match="2 dimensions"):
        convolve2d(np.zeros((1, 1, 3, 3)), np.zeros((3, 3)))


def test_nan_propagates_like_torch():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = np.nan
    y = conv2d(x, np.ones((1, 1, 3, 3)))
    assert np.isnan(y).sum() == 9


@pytest.mark.parametrize("method", ["direct", "im2col"])
def test_batches_split_across_threads_match_numpy(method):
    # large enough that conv2d splits the batch between threads (and dw is summed per slice)
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(16, 2, 40, 40)), rng.normal(size=(3, 2, 5, 5)), rng.normal(size=3)
    work = 2 * 5 * 5 * 16 * 36 * 36
    assert len(conv_mod._batch_bounds(16, work)) - 1 == min(2, conv_mod._THREADS)
    win = np.lib.stride_tricks.sliding_window_view(x, (5, 5), axis=(2, 3))
    expected = np.einsum("nchwuv,ocuv->nohw", win, w) + b[None, :, None, None]
    np.testing.assert_allclose(conv2d(x, w, b, method=method), expected, atol=1e-11)
    d = rng.normal(size=expected.shape)
    dx, dw, db = conv2d_backward(d, x, w, method=method)
    np.testing.assert_allclose(dw, np.einsum("nohw,nchwuv->ocuv", d, win), atol=1e-9)
    dpad = np.pad(d, ((0, 0), (0, 0), (4, 4), (4, 4)))
    dwin = np.lib.stride_tricks.sliding_window_view(dpad, (5, 5), axis=(2, 3))
    np.testing.assert_allclose(dx, np.einsum("nohwuv,ocuv->nchw", dwin, w[:, :, ::-1, ::-1]), atol=1e-9)
    np.testing.assert_allclose(db, d.sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("stride", [1, 2])
def test_im2col_in_chunks_of_samples_matches_numpy(stride, monkeypatch):
    """The forward builds patch matrices a few samples at a time: a batch that is not a multiple
    of the chunk, split across threads, with strides, must still give every sample's output."""
    from core.vision import conv as conv_mod

    rng = np.random.default_rng(11)
    x, w, b = rng.normal(size=(13, 3, 17, 15)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    win = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))[:, :, ::stride, ::stride]
    expected = np.einsum("nchwuv,ocuv->nohw", win, w) + b[None, :, None, None]
    # 27 taps x 56..195 positions per sample: 4 samples per chunk, so chunks of 4, 4, 4 and 1
    monkeypatch.setattr(conv_mod, "_MIN_SLICE", 1)  # 13 samples in two slices
    monkeypatch.setattr(conv_mod, "_CHUNK_ELEMS", 4 * 27 * expected.shape[2] * expected.shape[3])
    np.testing.assert_allclose(conv2d(x, w, b, stride=stride, method="im2col"), expected, atol=1e-11)
    monkeypatch.setattr(conv_mod, "_CHUNK_ELEMS", 1)  # one sample per chunk
    np.testing.assert_allclose(conv2d(x, w, b, stride=stride, method="im2col"), expected, atol=1e-11)
    big = rng.normal(size=(64, 6, 14, 14)), rng.normal(size=(16, 6, 5, 5))  # threads share it
    win = np.lib.stride_tricks.sliding_window_view(big[0], (5, 5), axis=(2, 3))[:, :, ::stride, ::stride]
    np.testing.assert_allclose(conv2d(*big, stride=stride), np.einsum("nchwuv,ocuv->nohw", win, big[1]), atol=1e-10)


@pytest.mark.parametrize("stride", [1, 2])
def test_backward_in_chunks_of_samples_is_the_adjoint(stride, monkeypatch):
    """dw against einsum and dx by the adjoint identity <conv(z), d> = <z, dx>, with chunks of
    one sample, of three samples, and the default chunks split across threads."""
    from core.vision import conv as conv_mod

    rng = np.random.default_rng(12)
    for shape, wshape, chunk in [((7, 3, 13, 11), (4, 3, 3, 3), 1), ((7, 3, 13, 11), (4, 3, 3, 3), 3 * 27 * 30),
                                 ((64, 6, 14, 14), (16, 6, 5, 5), None)]:  # fmt: skip
        if chunk is not None:
            monkeypatch.setattr(conv_mod, "_CHUNK_ELEMS", chunk)
        x, w = rng.normal(size=shape), rng.normal(size=wshape)
        K = wshape[2]
        win = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(2, 3))[:, :, ::stride, ::stride]
        d = rng.normal(size=(shape[0], wshape[0], win.shape[2], win.shape[3]))
        dx, dw, db = conv2d_backward(d, x, w, stride=stride, method="im2col")
        np.testing.assert_allclose(dw, np.einsum("nohw,nchwuv->ocuv", d, win), atol=1e-9)
        np.testing.assert_allclose(db, d.sum(axis=(0, 2, 3)), atol=1e-12)
        z = rng.normal(size=shape)
        assert np.sum(conv2d(z, w, stride=stride) * d) == pytest.approx(np.sum(z * dx), rel=1e-10)


def test_small_batches_stay_on_one_thread():
    """A thread gets at least _MIN_SLICE samples: small batches are not split, large ones are."""
    big = 1 << 30
    assert conv_mod._batch_bounds(4, big) == [0, 4]
    assert conv_mod._batch_bounds(2 * conv_mod._MIN_SLICE - 1, big)[:1] == [0]
    assert len(conv_mod._batch_bounds(2 * conv_mod._MIN_SLICE - 1, big)) == 2
    assert len(conv_mod._batch_bounds(64, big)) - 1 == min(64 // conv_mod._MIN_SLICE, conv_mod._THREADS)
    assert conv_mod._batch_bounds(64, 10) == [0, 64]  # too little work
