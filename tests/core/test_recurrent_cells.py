"""core.recurrent: the cells against NumPy transcriptions of PyTorch's equations, BPTT against
central differences, the linear RNN's gradient norms against powers of Wᵀ, masks, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from core.recurrent import CELLS, bptt, init_weights, recurrent_matrix, unroll
from tests.numeric import numeric_grad


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference_step(cell, w, x, h, c, activation="tanh"):
    """One step of torch.nn.RNNCell / LSTMCell / GRUCell as the PyTorch docs write it."""
    W_ih, W_hh, b_ih, b_hh = w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"]
    H = W_hh.shape[1]
    if cell == "rnn":
        a = W_ih @ x + b_ih + W_hh @ h + b_hh
        return {"tanh": np.tanh(a), "relu": np.maximum(a, 0), "linear": a}[activation], None
    if cell == "lstm":
        W_ii, W_if, W_ig, W_io = np.split(W_ih, 4)
        W_hi, W_hf, W_hg, W_ho = np.split(W_hh, 4)
        b_ii, b_if, b_ig, b_io = np.split(b_ih, 4)
        b_hi, b_hf, b_hg, b_ho = np.split(b_hh, 4)
        i = _sigmoid(W_ii @ x + b_ii + W_hi @ h + b_hi)
        f = _sigmoid(W_if @ x + b_if + W_hf @ h + b_hf)
        g = np.tanh(W_ig @ x + b_ig + W_hg @ h + b_hg)
        o = _sigmoid(W_io @ x + b_io + W_ho @ h + b_ho)
        c2 = f * c + i * g
        return o * np.tanh(c2), c2
    W_ir, W_iz, W_in = np.split(W_ih, 3)
    W_hr, W_hz, W_hn = np.split(W_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = _sigmoid(W_ir @ x + b_ir + W_hr @ h + b_hr)
    z = _sigmoid(W_iz @ x + b_iz + W_hz @ h + b_hz)
    n = np.tanh(W_in @ x + b_in + r * (W_hn @ h + b_hn))
    assert H == len(n)
    return (1 - z) * n + z * h, None


@pytest.mark.parametrize("cell, activation",
                         [("rnn", "tanh"), ("rnn", "relu"), ("rnn", "linear"), ("lstm", "tanh"),
                          ("gru", "tanh")])
def test_unroll_matches_pytorchs_equations(cell, activation):
    rng = np.random.default_rng(0)
    T, B, D, H = 6, 3, 4, 5
    w = init_weights(cell, D, H, seed=1)
    x = rng.normal(size=(T, B, D))
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    run = unroll(cell, w, x, h0, c0 if cell == "lstm" else None, activation)
    for b in range(B):
        h, c = h0[b], c0[b]
        for t in range(T):
            h, c = reference_step(cell, w, x[t, b], h, c, activation)
            np.testing.assert_allclose(run.h[t + 1, b], h, rtol=1e-12, atol=1e-12)
            if cell == "lstm":
                np.testing.assert_allclose(run.c[t + 1, b], c, rtol=1e-12, atol=1e-12)


def test_pytorch_shapes_and_initial_range():
    for cell, gates in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        w = init_weights(cell, 3, 8, seed=0)
        assert w["weight_ih"].shape == (gates * 8, 3) and w["weight_hh"].shape == (gates * 8, 8)
        assert w["bias_ih"].shape == w["bias_hh"].shape == (gates * 8,)
        assert all(np.abs(v).max() <= 1 / np.sqrt(8) for v in w.values())
    np.testing.assert_array_equal(init_weights("lstm", 3, 8, 5)["weight_hh"],
                                  init_weights("lstm", 3, 8, 5)["weight_hh"])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("masked", [False, True])
def test_bptt_matches_central_differences(cell, masked):
    rng = np.random.default_rng(3)
    T, B, D, H = 5, 3, 2, 4
    w = init_weights(cell, D, H, seed=2)
    x = rng.normal(size=(T, B, D))
    h0 = rng.normal(size=(B, H))
    mask = None
    if masked:
        mask = np.ones((T, B))
        mask[3:, 0] = 0
        mask[1:, 2] = 0
    G = rng.normal(size=(T, B, H))

    def loss():
        return float(np.sum(G * unroll(cell, w, x, h0, mask=mask).h[1:]))

    grads = bptt(unroll(cell, w, x, h0, mask=mask), G)
    for name in w:
        np.testing.assert_allclose(grads.weights[name], numeric_grad(loss, w[name]), atol=1e-7)
    np.testing.assert_allclose(grads.dx, numeric_grad(loss, x), atol=1e-7)
    np.testing.assert_allclose(grads.dh0, numeric_grad(loss, h0), atol=1e-7)


def test_lstm_cell_state_gradient():
    rng = np.random.default_rng(4)
    w = init_weights("lstm", 2, 3, seed=0)
    x, c0 = rng.normal(size=(4, 2, 2)), rng.normal(size=(2, 3))

    def loss():
        return float(np.sum(unroll("lstm", w, x, c0=c0).c[-1] ** 2))

    run = unroll("lstm", w, x, c0=c0)
    grads = bptt(run, np.zeros((4, 2, 3)), dc_last=2 * run.c[-1])
    np.testing.assert_allclose(grads.dc0, numeric_grad(loss, c0), atol=1e-7)
    np.testing.assert_allclose(grads.weights["weight_hh"], numeric_grad(loss, w["weight_hh"]), atol=1e-7)


@pytest.mark.parametrize("kind", ["orthogonal", "gaussian"])
def test_linear_rnn_gradient_norms_are_powers_of_w_transposed(kind):
    T, H, rho = 15, 6, 0.8
    w = init_weights("rnn", 3, H, seed=0)
    w["weight_hh"] = recurrent_matrix(H, rho, kind, seed=1)
    x = np.random.default_rng(2).normal(size=(T, 1, 3))
    u = np.arange(1.0, H + 1)
    u /= np.linalg.norm(u)
    dh_out = np.zeros((T, 1, H))
    dh_out[-1, 0] = u
    dh = bptt(unroll("rnn", w, x, activation="linear"), dh_out).dh[:, 0]
    WT = w["weight_hh"].T
    for t in range(1, T + 1):  # ∂ℒ/∂hₜ = (Wᵀ)^(T−t) u
        np.testing.assert_allclose(dh[t - 1], np.linalg.matrix_power(WT, T - t) @ u, atol=1e-12)
    if kind == "orthogonal":
        np.testing.assert_allclose(np.linalg.norm(dh, axis=1), rho ** (T - np.arange(1, T + 1)))
    assert abs(np.max(np.abs(np.linalg.eigvals(w["weight_hh"]))) - rho) < 1e-10


def test_mask_keeps_the_last_real_state():
    rng = np.random.default_rng(5)
    w = init_weights("gru", 2, 3, seed=0)
    x = rng.normal(size=(5, 2, 2))
    mask = np.array([[1, 1], [1, 1], [1, 0], [1, 0], [1, 0]], dtype=float)
    padded = unroll("gru", w, x, mask=mask)
    short = unroll("gru", w, x[:2, 1:2])
    np.testing.assert_allclose(padded.h[-1, 1], short.h[-1, 0])


@pytest.mark.parametrize("call, match", [
    (lambda: unroll("rnn", init_weights("rnn", 2, 3), np.zeros((4, 2))), "T, B, D"),
    (lambda: unroll("cnn", init_weights("rnn", 2, 3), np.zeros((4, 1, 2))), "cell"),
    (lambda: unroll("rnn", init_weights("rnn", 2, 3), np.zeros((4, 1, 5))), "weight_ih"),
    (lambda: unroll("rnn", init_weights("rnn", 2, 3), np.full((4, 1, 2), np.nan)), "finite"),
    (lambda: unroll("rnn", init_weights("rnn", 2, 3), np.zeros((4, 1, 2)), activation="gelu"), "activation"),
    (lambda: unroll("rnn", init_weights("rnn", 2, 3), np.zeros((4, 1, 2)), mask=np.ones((3, 1))), "mask"),
    (lambda: unroll("lstm", init_weights("rnn", 2, 3), np.zeros((4, 1, 2))), "weight_hh"),
    (lambda: init_weights("gru", 0, 3), "input_size"),
    (lambda: recurrent_matrix(3, -1.0), "rho"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
