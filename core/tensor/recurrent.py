"""Fused recurrent cells: one graph node per LSTM/GRU step (BLAS for the products, numba for the gate math)."""

from __future__ import annotations

import numpy as np

from core.tensor import kernels as K
from core.tensor._tensor import Tensor, _node

__all__ = ["lstm_cell", "gru_cell"]


def _affine(x2, w, b):
    out = x2 @ w.T
    if b is not None:
        out += b.data
    return out


def _param_grads(dg, x2, w_t, b_t):
    """(∂ℒ/∂W, ∂ℒ/∂b) of z = x Wᵀ + b from dg = ∂ℒ/∂z, or None where not needed."""
    gw = dg.T @ x2 if w_t.requires_grad else None
    gb = dg.sum(0) if b_t is not None and b_t.requires_grad else None
    return gw, gb


def lstm_cell(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh) -> Tensor:
    """[h', c'] (…, 2H) of torch's LSTMCell in one node (shapes checked by the module).

    gates = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh (i, f, g, o); c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c').
    """
    H = w_hh.data.shape[1]
    lead = h.data.shape[:-1]
    x2 = x.data.reshape(-1, x.data.shape[-1])
    h2 = h.data.reshape(-1, H)
    c2 = np.ascontiguousarray(c.data.reshape(-1, H))
    gates = _affine(x2, w_ih.data, b_ih)
    gates += _affine(h2, w_hh.data, b_hh)
    B = gates.shape[0]
    acts = np.empty((B, 4 * H))
    tanh_c2 = np.empty((B, H))
    hc = np.empty((B, 2 * H))
    K.lstm_pointwise(gates, c2, acts, tanh_c2, hc)
    parents = (x, h, c, w_ih, w_hh) + tuple(p for p in (b_ih, b_hh) if p is not None)

    def back(g):
        dg = np.empty((B, 4 * H))
        dc = np.empty((B, H))
        K.lstm_pointwise_back(acts, c2, tanh_c2, np.ascontiguousarray(g).reshape(B, 2 * H), dg, dc)
        gx = (dg @ w_ih.data).reshape(x.data.shape) if x.requires_grad else None
        gh = (dg @ w_hh.data).reshape(h.data.shape) if h.requires_grad else None
        gwi, gbi = _param_grads(dg, x2, w_ih, b_ih)
        gwh, gbh = _param_grads(dg, h2, w_hh, b_hh)
        res = [gx, gh, dc.reshape(c.data.shape) if c.requires_grad else None, gwi, gwh]
        if b_ih is not None:
            res.append(gbi)
        if b_hh is not None:
            res.append(gbh)
        return tuple(res)

    return _node(hc.reshape(lead + (2 * H,)), parents, back, "lstm_cell")


def gru_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh) -> Tensor:
    """h' of torch's GRUCell in one node: r, z, n gates, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))."""
    H = w_hh.data.shape[1]
    x2 = x.data.reshape(-1, x.data.shape[-1])
    h2 = np.ascontiguousarray(h.data.reshape(-1, H))
    gi = _affine(x2, w_ih.data, b_ih)
    gh = _affine(h2, w_hh.data, b_hh)
    B = gi.shape[0]
    acts = np.empty((B, 3 * H))
    out = np.empty((B, H))
    K.gru_pointwise(gi, gh, h2, acts, out)
    parents = (x, h, w_ih, w_hh) + tuple(p for p in (b_ih, b_hh) if p is not None)

    def back(g):
        dgi = np.empty((B, 3 * H))
        dgh = np.empty((B, 3 * H))
        dh = np.empty((B, H))
        K.gru_pointwise_back(acts, gh, h2, np.ascontiguousarray(g).reshape(B, H), dgi, dgh, dh)
        gx = (dgi @ w_ih.data).reshape(x.data.shape) if x.requires_grad else None
        gh_total = None
        if h.requires_grad:
            dh += dgh @ w_hh.data
            gh_total = dh.reshape(h.data.shape)
        gwi, gbi = _param_grads(dgi, x2, w_ih, b_ih)
        gwh, gbh = _param_grads(dgh, h2, w_hh, b_hh)
        res = [gx, gh_total, gwi, gwh]
        if b_ih is not None:
            res.append(gbi)
        if b_hh is not None:
            res.append(gbh)
        return tuple(res)

    return _node(out.reshape(h.data.shape), parents, back, "gru_cell")
