"""core.tensor.nn modules: PyTorch's names, shapes and equations (NumPy references), gradients, state dicts."""

from __future__ import annotations

import numpy as np
import pytest

from core.tensor import Tensor, gradcheck, nn, tensor
from core.tensor import functional as F


def _leaf(shape, seed=0):
    return tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _params_check(module, fn, inputs):
    """gradcheck over the inputs and every parameter of the module."""
    params = list(module.parameters())
    return gradcheck(lambda *ts: fn(*ts[: len(inputs)]), list(inputs) + params)


def test_linear_names_shapes_init_and_seed():
    lin = nn.Linear(4, 3, seed=0)
    assert [(n, p.shape) for n, p in lin.named_parameters()] == [("weight", (3, 4)), ("bias", (3,))]
    assert np.abs(lin.weight.data).max() <= 0.5 and np.abs(lin.bias.data).max() <= 0.5
    np.testing.assert_array_equal(lin.weight.data, nn.Linear(4, 3, seed=0).weight.data)
    assert not np.array_equal(lin.weight.data, nn.Linear(4, 3, seed=1).weight.data)
    x = _leaf((5, 4))
    np.testing.assert_allclose(lin(x).data, x.data @ lin.weight.data.T + lin.bias.data)
    assert _params_check(lin, lin, [x])
    assert nn.Linear(4, 3, bias=False, seed=0).bias is None
    with pytest.raises(ValueError):
        nn.Linear(0, 3)


def test_sequential_names_state_dict_train_eval():
    model = nn.Sequential(nn.Linear(2, 4, seed=0), nn.Tanh(), nn.Dropout(0.5, seed=1), nn.Linear(4, 1, seed=2))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert len(model) == 4 and isinstance(model[1], nn.Tanh)
    sd = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    other = nn.Sequential(nn.Linear(2, 4, seed=5), nn.Tanh(), nn.Dropout(0.5), nn.Linear(4, 1, seed=6))
    w_before = other[0].weight
    other.load_state_dict(sd)
    assert other[0].weight is w_before, "loaded in place"
    x = _leaf((3, 2))
    model.eval()
    other.eval()
    assert not model[2].training
    np.testing.assert_array_equal(model(x).data, other(x).data)
    model.train()
    assert model[2].training
    with pytest.raises(ValueError):
        other.load_state_dict({"0.weight": np.zeros((4, 2))})
    bad = dict(sd)
    bad["0.bias"] = np.zeros(5)
    with pytest.raises(ValueError):
        other.load_state_dict(bad)
    out = model(x).sum()
    out.backward()
    assert model[0].weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_custom_module_registers_in_assignment_order():
    class Net(nn.Module):
        def __init__(self):
            self.enc = nn.Linear(3, 2, seed=0)
            self.scale = nn.Parameter(np.ones(2))
            self.cells = nn.Sequential(nn.GRUCell(2, 2, seed=1))
            self.const = tensor([1.0])  # no grad: not a parameter

        def forward(self, x):
            return self.enc(x) * self.scale

    names = [n for n, _ in Net().named_parameters()]
    # own parameters first, then sub-modules in assignment order (as torch)
    assert names == ["scale", "enc.weight", "enc.bias", "cells.0.weight_ih", "cells.0.weight_hh",
                     "cells.0.bias_ih", "cells.0.bias_hh"]


def test_module_list_flatten_and_small_modules():
    class Net(nn.Module):
        def __init__(self):
            self.layers = nn.ModuleList([nn.Linear(4, 3, seed=0), nn.Linear(3, 2, seed=1)])
            self.flat = nn.Flatten()

        def forward(self, x):
            x = self.flat(x)
            for layer in self.layers:
                x = nn.LeakyReLU(0.1)(layer(x))
            return nn.Softplus()(nn.Identity()(x))

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["layers.0.weight", "layers.0.bias",
                                                      "layers.1.weight", "layers.1.bias"]
    x = _leaf((3, 2, 2))
    assert net(x).shape == (3, 2) and len(net.layers) == 2
    assert _params_check(net, net, [x])
    with pytest.raises(ValueError):
        nn.ModuleList([3])


def test_embedding_layernorm_activations():
    emb = nn.Embedding(6, 3, seed=0)
    assert emb.weight.shape == (6, 3)
    idx = np.array([[1, 5], [0, 1]])
    np.testing.assert_array_equal(emb(idx).data, emb.weight.data[idx])
    ln = nn.LayerNorm(3)
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    x = _leaf((2, 3))
    assert _params_check(ln, ln, [x])
    for act, ref in ((nn.ReLU(), lambda a: np.maximum(a, 0)), (nn.Tanh(), np.tanh), (nn.Sigmoid(), _sig)):
        np.testing.assert_allclose(act(x).data, ref(x.data))


def _np_lstm(x, h, c, Wi, Wh, bi, bh):
    H = h.shape[1]
    z = x @ Wi.T + bi + h @ Wh.T + bh
    i, f, g, o = _sig(z[:, :H]), _sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), _sig(z[:, 3 * H:])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2


def _np_gru(x, h, Wi, Wh, bi, bh):
    H = h.shape[1]
    gi, gh = x @ Wi.T + bi, h @ Wh.T + bh
    r = _sig(gi[:, :H] + gh[:, :H])
    z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch_equation(nonlinearity):
    cell = nn.RNNCell(3, 4, nonlinearity=nonlinearity, seed=0)
    assert [(n, p.shape) for n, p in cell.named_parameters()] == [
        ("weight_ih", (4, 3)), ("weight_hh", (4, 4)), ("bias_ih", (4,)), ("bias_hh", (4,))]
    x, h = _leaf((2, 3), 1), _leaf((2, 4), 2)
    z = x.data @ cell.weight_ih.data.T + cell.bias_ih.data + h.data @ cell.weight_hh.data.T + cell.bias_hh.data
    np.testing.assert_allclose(cell(x, h).data, np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0))
    assert _params_check(cell, cell, [x, h])
    assert cell(x).shape == (2, 4) and cell(x.data[0]).shape == (4,)


def test_lstm_cell_gate_order_and_gradients():
    cell = nn.LSTMCell(3, 2, seed=0)
    assert cell.weight_ih.shape == (8, 3) and cell.weight_hh.shape == (8, 2)
    x, h, c = _leaf((4, 3), 1), _leaf((4, 2), 2), _leaf((4, 2), 3)
    h2, c2 = cell(x, (h, c))
    rh, rc = _np_lstm(x.data, h.data, c.data, cell.weight_ih.data, cell.weight_hh.data,
                      cell.bias_ih.data, cell.bias_hh.data)
    np.testing.assert_allclose(h2.data, rh)
    np.testing.assert_allclose(c2.data, rc)
    assert gradcheck(lambda a, b, d, *_: cell(a, (b, d))[0] + 2 * cell(a, (b, d))[1],
                     [x, h, c] + list(cell.parameters()))
    h0, c0 = cell(x)
    np.testing.assert_allclose(h0.data, _np_lstm(x.data, 0 * rh, 0 * rc, cell.weight_ih.data,
                                                cell.weight_hh.data, cell.bias_ih.data, cell.bias_hh.data)[0])
    with pytest.raises(ValueError):
        cell(x, h)
    with pytest.raises(ValueError):
        cell(_leaf((4, 2)))


def test_gru_cell_gate_order_and_gradients():
    cell = nn.GRUCell(3, 2, seed=0)
    assert cell.weight_ih.shape == (6, 3)
    x, h = _leaf((4, 3), 1), _leaf((4, 2), 2)
    ref = _np_gru(x.data, h.data, cell.weight_ih.data, cell.weight_hh.data, cell.bias_ih.data, cell.bias_hh.data)
    np.testing.assert_allclose(cell(x, h).data, ref)
    assert _params_check(cell, cell, [x, h])
    with pytest.raises(ValueError):
        cell(x, _leaf((4, 3)))


def _np_mha(mha, q, k, v, add_mask=None):
    E, nh = mha.embed_dim, mha.num_heads
    d = E // nh
    W, b = mha.in_proj_weight.data, mha.in_proj_bias.data
    Q, K, V = q @ W[:E].T + b[:E], k @ W[E:2 * E].T + b[E:2 * E], v @ W[2 * E:].T + b[2 * E:]
    B, L, S = q.shape[0], q.shape[1], k.shape[1]
    outs, ws = [], []
    for h in range(nh):
        sl = slice(h * d, (h + 1) * d)
        s = Q[..., sl] @ np.swapaxes(K[..., sl], 1, 2) / np.sqrt(d)
        if add_mask is not None:
            s = s + add_mask
        e = np.exp(s - s.max(-1, keepdims=True))
        w = e / e.sum(-1, keepdims=True)
        ws.append(w)
        outs.append(w @ V[..., sl])
    out = np.concatenate(outs, -1) @ mha.out_proj.weight.data.T + mha.out_proj.bias.data
    return out, np.mean(ws, axis=0)


def test_multihead_attention_names_equations_masks_and_gradients():
    mha = nn.MultiheadAttention(6, 2, seed=0)
    assert [(n, p.shape) for n, p in mha.named_parameters()] == [
        ("in_proj_weight", (18, 6)), ("in_proj_bias", (18,)), ("out_proj.weight", (6, 6)), ("out_proj.bias", (6,))]
    assert not mha.in_proj_bias.data.any() and not mha.out_proj.bias.data.any()
    rng = np.random.default_rng(1)
    mha.in_proj_bias.data[...] = rng.standard_normal(18)
    mha.out_proj.bias.data[...] = rng.standard_normal(6)
    q, k, v = _leaf((2, 3, 6), 2), _leaf((2, 4, 6), 3), _leaf((2, 4, 6), 4)
    out, w = mha(q, k, v)
    ref, rw = _np_mha(mha, q.data, k.data, v.data)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10)
    np.testing.assert_allclose(w.data, rw, rtol=1e-10)
    assert w.shape == (2, 3, 4)
    blocked = np.triu(np.ones((3, 4), bool), 1)  # torch's convention: True = not allowed
    out_m, w_m = mha(q, k, v, attn_mask=blocked)
    ref_m, rw_m = _np_mha(mha, q.data, k.data, v.data, np.where(blocked, -np.inf, 0.0))
    np.testing.assert_allclose(out_m.data, ref_m, rtol=1e-10)
    np.testing.assert_allclose(w_m.data, rw_m, rtol=1e-10)
    x = _leaf((2, 3, 6), 5)
    self_out, _ = mha(x, x, x, is_causal=True)
    causal = np.where(np.triu(np.ones((3, 3), bool), 1), -np.inf, 0.0)
    np.testing.assert_allclose(self_out.data, _np_mha(mha, x.data, x.data, x.data, causal)[0], rtol=1e-10)
    assert gradcheck(lambda a, b, c, *_: mha(a, b, c, attn_mask=blocked)[0], [q, k, v] + list(mha.parameters()))
    assert mha(x[0].detach(), x[0].detach(), x[0].detach())[0].shape == (3, 6)
    with pytest.raises(ValueError):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError):
        mha(q, _leaf((2, 4, 5)), v)


def test_positional_encoding_table():
    pe = nn.positional_encoding(5, 6)
    assert pe.shape == (5, 6) and not pe.requires_grad
    pos, i = 3, 1
    assert pe.data[pos, 2 * i] == pytest.approx(np.sin(pos / 10000 ** (2 * i / 6)))
    assert pe.data[pos, 2 * i + 1] == pytest.approx(np.cos(pos / 10000 ** (2 * i / 6)))
    assert nn.positional_encoding(4, 5).shape == (4, 5)


def _torch():
    return pytest.importorskip("torch")


def test_cells_attention_and_sgd_against_torch_itself():
    torch = _torch()
    torch.set_default_dtype(torch.float64)
    try:
        _compare_with_torch(torch)
    finally:
        torch.set_default_dtype(torch.float32)


def _compare_with_torch(torch):
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    for ours, theirs in ((nn.LSTMCell(4, 5, seed=1), torch.nn.LSTMCell(4, 5)),
                         (nn.GRUCell(4, 5, seed=2), torch.nn.GRUCell(4, 5)),
                         (nn.RNNCell(4, 5, seed=3), torch.nn.RNNCell(4, 5))):
        theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
        if isinstance(ours, nn.LSTMCell):
            a = ours(tensor(x), (tensor(h), tensor(c)))[1].data
            b = theirs(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))[1].detach().numpy()
        else:
            a = ours(tensor(x), tensor(h)).data
            b = theirs(torch.tensor(x), torch.tensor(h)).detach().numpy()
        np.testing.assert_allclose(a, b, rtol=1e-10)
    mha = nn.MultiheadAttention(8, 2, seed=0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    tm.load_state_dict({k: torch.tensor(v) for k, v in mha.state_dict().items()})
    q = rng.standard_normal((2, 3, 8))
    mask = np.triu(np.ones((3, 3), bool), 1)
    out, w = mha(tensor(q), tensor(q), tensor(q), attn_mask=mask)
    tq = torch.tensor(q, requires_grad=True)
    tout, tw = tm(tq, tq, tq, attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10)
    # gradients of one parameter after the same loss
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(mha.in_proj_weight.grad, tm.in_proj_weight.grad.numpy(), rtol=1e-8)
    # SGD with momentum takes torch's steps (b = γb + g, θ -= lr b equals ours at constant lr)
    from core.tensor import optim

    w0 = rng.standard_normal((3, 2))
    ours, theirs = tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    a, b = optim.SGD([ours], lr=0.1, momentum=0.9), torch.optim.SGD([theirs], lr=0.1, momentum=0.9)
    for _ in range(3):
        a.zero_grad()
        b.zero_grad()
        (ours * ours * ours).sum().backward()
        (theirs**3).sum().backward()
        a.step()
        b.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)


def test_module_parameters_are_tensors_and_grads_flow_through_a_small_net():
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 2, seed=1))
    x = _leaf((5, 2))
    y = np.array([0, 1, 1, 0, 1])
    assert all(isinstance(p, Tensor) for p in model.parameters())
    assert _params_check(model, lambda a: F.cross_entropy(model(a), y), [x])


@pytest.mark.parametrize("cls", [nn.LSTMCell, nn.GRUCell, nn.RNNCell])
def test_cells_without_bias_and_unbatched_inputs(cls):
    cell = cls(3, 2, bias=False, seed=4)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]
    x, h = _leaf((3,), 1), _leaf((2,), 2)
    state = (h, _leaf((2,), 3)) if cls is nn.LSTMCell else h
    first = (lambda o: o[0] * 2 + o[1]) if cls is nn.LSTMCell else (lambda o: o)
    out = cell(x, state)
    assert (out[0].shape if cls is nn.LSTMCell else out.shape) == (2,)
    inputs = [x, h] + ([state[1]] if cls is nn.LSTMCell else []) + list(cell.parameters())
    if cls is nn.LSTMCell:
        fn = lambda a, b, c, *_: first(cell(a, (b, c)))  # noqa: E731
    else:
        fn = lambda a, b, *_: first(cell(a, b))  # noqa: E731
    assert gradcheck(fn, inputs)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@pytest.mark.parametrize("kind", ["linear", "layernorm", "rnn", "lstm", "gru", "mha", "embedding"])
@settings(max_examples=3, deadline=None)
@given(batch=st.integers(1, 3), d_in=st.integers(1, 3), d_out=st.integers(1, 3), seed=st.integers(0, 50))
def test_modules_on_drawn_sizes_against_central_differences(kind, batch, d_in, d_out, seed):
    x = _leaf((batch, d_in), seed)
    if kind == "linear":
        m = nn.Linear(d_in, d_out, seed=seed)
        fn = m
    elif kind == "layernorm":
        m = nn.LayerNorm(d_in)
        m.weight.data[...] = np.random.default_rng(seed).standard_normal(d_in)
        fn = m
    elif kind in ("rnn", "gru"):
        m = (nn.RNNCell if kind == "rnn" else nn.GRUCell)(d_in, d_out, seed=seed)
        h = _leaf((batch, d_out), seed + 1)
        assert gradcheck(lambda a, b, *_: m(a, b), [x, h] + list(m.parameters()))
        return
    elif kind == "lstm":
        m = nn.LSTMCell(d_in, d_out, seed=seed)
        fn = lambda a: m(a)[0] + m(a)[1]  # noqa: E731
    elif kind == "embedding":
        m = nn.Embedding(d_out + 1, d_in, seed=seed)
        idx = np.random.default_rng(seed).integers(0, d_out + 1, (batch, 2))
        assert gradcheck(lambda *_: m(idx), list(m.parameters()))
        return
    else:
        heads = d_in
        m = nn.MultiheadAttention(2 * heads, heads, seed=seed)
        q = _leaf((batch, 2, 2 * heads), seed + 2)
        kv = _leaf((batch, d_out, 2 * heads), seed + 3)
        assert gradcheck(lambda a, b, *_: m(a, b, b)[0], [q, kv] + list(m.parameters()))
        return
    assert gradcheck(lambda a, *_: fn(a), [x] + list(m.parameters()))
