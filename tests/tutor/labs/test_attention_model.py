"""The attention lab's numbers: attention and masks against NumPy references of PyTorch's
documented equations, the tiny transformer's backward pass by central differences, the model
protocol, and the toy task learned with a fixed seed (no Textual)."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from tutor.labs import validate_lab
from tutor.labs.attention import numerics as N
from tutor.labs.attention.model import AttentionModel
from tutor.labs.attention.steps import STAGES
from tutor.labs.attention.transformer import Adam, TinyTransformer


def model(**params) -> AttentionModel:
    return AttentionModel(validate_lab("attention", params))


def torch_sdpa_reference(q, k, v, attn_mask=None, is_causal=False):
    """The reference code of torch.nn.functional.scaled_dot_product_attention's documentation,
    written with NumPy (bool mask: True may attend; float mask: added)."""
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / np.sqrt(q.shape[-1])
    attn_bias = np.zeros((L, S))
    if is_causal:
        temp = np.tril(np.ones((L, S), dtype=bool))
        attn_bias[~temp] = -np.inf
    if attn_mask is not None:
        if attn_mask.dtype == bool:
            attn_bias[~attn_mask] = -np.inf
        else:
            attn_bias = attn_bias + attn_mask
    w = q @ np.swapaxes(k, -2, -1) * scale + attn_bias
    w = np.exp(w - w.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return w @ v


@pytest.mark.parametrize("case", ["none", "causal", "bool", "float", "both"])
def test_sdpa_matches_the_documented_equation(case):
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 5, 2))
    mask = None
    if case in ("bool", "both"):
        mask = N.padding_mask(5, 2)
    if case == "float":
        mask = rng.normal(size=(5, 5))
    causal = case in ("causal", "both")
    out, w = N.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    np.testing.assert_allclose(out, torch_sdpa_reference(q, k, v, mask, causal), atol=1e-12)
    np.testing.assert_allclose(w.sum(-1), 1.0)


def test_masks():
    np.testing.assert_array_equal(N.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(N.padding_mask(3, 1), [[1, 1, 0]] * 3)
    np.testing.assert_array_equal(N.lab_mask(3, True, 1), [[1, 0, 0], [1, 1, 0], [1, 1, 0]])


def test_positional_encoding_formula_and_similarity():
    pe = N.positional_encoding(10, 8)
    pos, i = 7, 2
    assert pe[pos, 2 * i] == pytest.approx(np.sin(pos / 10000 ** (2 * i / 8)))
    assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(pos / 10000 ** (2 * i / 8)))
    sim = pe @ pe.T
    np.testing.assert_allclose(np.diag(sim), 4.0)  # d/2
    # the similarity depends on the offset only
    assert sim[2, 5] == pytest.approx(sim[4, 7])


def test_saturation_grows_without_scaling():
    small, big = N.saturation(1), N.saturation(1024)
    assert big["std"] == pytest.approx(32, rel=0.1)
    assert big["max_raw"] > 0.95 and big["max_scaled"] < 0.6
    assert small["max_raw"] == pytest.approx(small["max_scaled"])


def test_softmax_jacobian_vanishes_when_saturated():
    assert N.softmax_jacobian_norm([0.5, 0.5]) == pytest.approx(0.25)
    assert N.softmax_jacobian_norm(N.softmax(np.array([0.0, 30.0]))) < 1e-12


def test_steps_view_matrices_and_protocol():
    m = model()
    a = m.view.att
    out, w = N.scaled_dot_product_attention(a.Q, a.K, a.V)
    np.testing.assert_allclose(a.Y, out)
    np.testing.assert_allclose(a.A, w)
    # "the" appears twice: the same x, the same key, the same weight
    assert a.words[0] == a.words[4] == "the"
    assert a.A[2, 0] == pytest.approx(a.A[2, 4])
    assert m.advance(20) == len(STAGES) - 1
    for _ in range(len(STAGES) - 1):
        assert m.back()
    assert not m.back() and m.view.stage == 0
    m.advance(3)
    m.reset()
    assert m.view.stage == 0


def test_steps_view_masks_and_positions():
    m = model(causal=True, pad=2)
    a = m.view.att
    _, w = N.scaled_dot_product_attention(a.Q, a.K, a.V, attn_mask=N.padding_mask(6, 2), is_causal=True)
    np.testing.assert_allclose(a.A, w)
    assert np.all(a.A[:, 4:] == 0) and np.all(np.triu(a.A, 1) == 0)
    assert a.M[0, 1] == -np.inf
    p = model(positions=True).view.att
    assert not np.allclose(p.X[0], p.X[4])


def test_steps_questions_are_the_revealed_numbers():
    m = model()
    a, i = m.view.att, m.view.query
    m.advance(3)
    key, _, answer, _, _ = m.question()
    assert key == "attn-score" and answer == pytest.approx(a.Q[i] @ a.K[i] / 2)
    m.advance(2)
    key, _, answer, _, _ = m.question()
    assert key == "attn-weight" and answer == pytest.approx(a.A[i].max())
    m.advance(1)
    key, _, answer, _, _ = m.question()
    assert key == "attn-output" and answer == pytest.approx(a.A[i] @ a.V[:, 0])


def test_apply_keeps_the_last_good_settings():
    m = model()
    assert m.apply("sentence", "one") is not None and m.params["sentence"] == "the cat sat on the mat"
    assert m.apply("pad", 6) is not None and m.params["pad"] == 0
    assert m.apply("d", 99) is not None
    assert m.apply("causal", True) is None and m.view.att.mask[0, 1] == False  # noqa: E712
    assert m.apply("view", "positions") is None and m.kind == "positions"


def test_scaling_and_positions_views():
    m = model(view="scaling")
    key, _, answer, _, _ = m.question()
    assert key == "sqrt-d-std" and answer == pytest.approx(np.sqrt(2))
    assert m.advance(100) == 10 and m.view.d == 1024
    p = model(view="positions", length=16, pe_dim=8)
    p.advance(3)
    assert p.question()[2] == pytest.approx(np.sin(4))
    assert model(view="positions").apply("pe_dim", 7) is not None


@pytest.mark.parametrize("view", ["steps", "scaling", "positions", "train", "lm"])
def test_pytorch_code_parses(view):
    ast.parse(model(view=view, layers=1, d_model_train=8).pytorch_code())


# --- the tiny transformer ---------------------------------------------------------------------

@pytest.mark.parametrize("causal", [False, True])
def test_backward_matches_central_differences(causal):
    net = TinyTransformer(7, 5, d_model=8, heads=2, layers=2, d_ff=12, seed=1)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 7, (2, 5)), rng.integers(0, 5, (2, 5))
    mask = N.causal_mask(5) if causal else None
    _, grads = net.loss_and_grads(x, y, mask)
    for name, p in net.params.items():
        for idx in list(np.ndindex(p.shape))[:: max(1, p.size // 4)]:
            old = p[idx]
            p[idx] = old + 1e-6
            up = net.loss_and_grads(x, y, mask)[0]
            p[idx] = old - 1e-6
            down = net.loss_and_grads(x, y, mask)[0]
            p[idx] = old
            assert grads[name][idx] == pytest.approx((up - down) / 2e-6, abs=1e-7), name


def test_attention_block_matches_the_documented_multihead_equations():
    """MultiheadAttention(x) = concat(head₁..head_h) W_Oᵀ + b_O, headᵢ = sdpa(x W_Qᵢᵀ, x W_Kᵢᵀ,
    x W_Vᵢᵀ) with in_proj_weight = [W_Q; W_K; W_V] (PyTorch's layout)."""
    net = TinyTransformer(5, 5, d_model=8, heads=2, layers=1, seed=3)
    rng = np.random.default_rng(2)
    h = rng.normal(size=(1, 4, 8))
    p = net.params
    out, cache = net._mha(h, "layers.0.", np.where(N.causal_mask(4), 0.0, -np.inf))
    W, b = p["layers.0.self_attn.in_proj_weight"], p["layers.0.self_attn.in_proj_bias"]
    heads = []
    for i in range(2):
        sl = slice(4 * i, 4 * i + 4)
        q = h[0] @ W[:8][sl].T + b[:8][sl]
        k = h[0] @ W[8:16][sl].T + b[8:16][sl]
        v = h[0] @ W[16:][sl].T + b[16:][sl]
        heads.append(torch_sdpa_reference(q, k, v, is_causal=True))
    ref = np.concatenate(heads, -1) @ p["layers.0.self_attn.out_proj.weight"].T + p["layers.0.self_attn.out_proj.bias"]
    np.testing.assert_allclose(out[0], ref, atol=1e-12)


def test_adam_matches_the_documented_update():
    theta = {"w": np.array([1.0, -2.0])}
    opt = Adam(theta, lr=0.1)
    g = np.array([0.5, -1.0])
    opt.step({"w": g})
    # first step: m̂ = g, v̂ = g², so θ moves by lr·g/(|g| + ε)
    np.testing.assert_allclose(theta["w"], [1.0 - 0.1, -2.0 + 0.1], atol=1e-6)


def test_training_replays_the_same_numbers_after_reset():
    m = model(view="train", layers=1, d_model_train=8, heads=2, chunk=3)
    m.advance(2)
    loss = m.view.state.loss
    m.reset()
    assert m.view.state.step == 0
    m.advance(2)
    assert m.view.state.loss == loss


def test_char_model_samples_and_masks():
    m = model(view="lm", layers=1, d_model_train=8, context=8, chunk=2, batch=4)
    s0 = m.view.state
    assert np.all(np.triu(s0.maps[0, 0], 1) == 0)  # causal: no weight on later characters
    assert s0.prediction.startswith("Alice ") and len(s0.prediction) == 6 + 48
    key, _, answer, _, _ = m.question()
    assert key == "lm-initial-loss" and answer == pytest.approx(np.log(54))
    m.step()
    assert m.view.state.step == 2


@pytest.mark.parametrize("causal", [False, True])
def test_the_lab_transformer_agrees_with_core_tensor(causal):
    """The same weights in core.tensor's Embedding / MultiheadAttention / LayerNorm / Linear:
    the same loss, and autodiff's gradients equal the lab's hand-written backward."""
    from tutor.labs.attention.reference import TensorTransformer

    net = TinyTransformer(9, 9, d_model=8, heads=2, layers=2, d_ff=16, seed=4)
    ref = TensorTransformer(net)
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 9, (3, 7)), rng.integers(0, 9, (3, 7))
    loss, grads = net.loss_and_grads(x, y, N.causal_mask(7) if causal else None)
    ref_loss, ref_grads = ref.loss_and_grads(x, y, causal)
    assert loss == pytest.approx(ref_loss, abs=1e-12)
    assert set(grads) == set(ref_grads)
    for name in grads:
        np.testing.assert_allclose(grads[name], ref_grads[name], atol=1e-10, err_msg=name)


def test_maps_image_fits_the_rows_it_is_given():
    from tutor.labs.attention.maps import maps_image

    maps = np.full((2, 2, 16, 16), 1 / 16)
    big, _ = maps_image(maps, None, 93)
    small, labels = maps_image(maps, None, 93, max_rows=20)
    assert big.shape == (2 * 2 * 17, 2 * 32 + 2, 3)  # 2 columns x 2 pixels per entry
    assert small.shape[0] // 2 <= 20 and small.shape[1] == 2 * 16 + 2
    assert labels[(0, 0)][0] == "L" and labels[(small.shape[0] // 4, 18)][0] == "L"
