"""Recurrent cells (Elman RNN, LSTM, GRU) unrolled over a sequence, and BPTT written out by hand.

PyTorch's equations, parameter names, shapes and gate order (LSTM i, f, g, o; GRU r, z, n):

    RNN   hₜ = φ(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)            φ = tanh, relu or identity

    LSTM  i, f, g, o = σ, σ, tanh, σ of (W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh), split in four
          cₜ = f ⊙ cₜ₋₁ + i ⊙ g          hₜ = o ⊙ tanh(cₜ)

    GRU   r = σ(W_ir xₜ + b_ir + W_hr hₜ₋₁ + b_hr)     z = σ(W_iz xₜ + b_iz + W_hz hₜ₋₁ + b_hz)
          n = tanh(W_in xₜ + b_in + r ⊙ (W_hn hₜ₋₁ + b_hn))     hₜ = (1 − z) ⊙ n + z ⊙ hₜ₋₁

A mask mₜ ∈ {0, 1} per sequence (padding) keeps the state through padded steps:
hₜ = mₜ h̃ₜ + (1 − mₜ) hₜ₋₁, so the last state is each sequence's last real one, as packing gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.recurrent.kernels import (ACTIVATION_CODES, CELL_CODES, matmul, matmul_tn,
                                    recurrent_backward, recurrent_forward)

CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "relu", "linear")
#: The gates each cell computes, in PyTorch's order inside weight_ih / weight_hh.
GATES: dict[str, tuple[str, ...]] = {"rnn": ("a",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _check_cell(cell: str) -> int:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
    return len(GATES[cell])


def init_weights(cell: str, input_size: int, hidden_size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch's initial weights for `cell`: every entry uniform in (−1/√H, 1/√H).

    Returns {"weight_ih": (G·H, D), "weight_hh": (G·H, H), "bias_ih": (G·H,), "bias_hh": (G·H,)}
    with G = 1 (rnn), 4 (lstm) or 3 (gru).
    """
    gates = _check_cell(cell)
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(hidden_size)
    shapes = {"weight_ih": (gates * hidden_size, input_size),
              "weight_hh": (gates * hidden_size, hidden_size),
              "bias_ih": (gates * hidden_size,), "bias_hh": (gates * hidden_size,)}
    return {name: rng.uniform(-k, k, size=shape) for name, shape in shapes.items()}


def recurrent_matrix(hidden_size: int, rho: float, kind: str = "orthogonal", seed: int = 0) -> np.ndarray:
    """An (H, H) matrix with spectral radius `rho`.

    "orthogonal": ρ·Q with Q a random orthogonal matrix, so every singular value is ρ and
    ‖(Wᵀ)ᵏ v‖ = ρᵏ ‖v‖ exactly. "gaussian": a Gaussian matrix rescaled to spectral radius ρ
    (its norm growth is ρᵏ only asymptotically).
    """
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number ≥ 0, got {rho!r}")
    if kind not in ("orthogonal", "gaussian"):
        raise ValueError(f"kind must be orthogonal or gaussian, got {kind!r}")
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((hidden_size, hidden_size))
    if kind == "orthogonal":
        q, r = np.linalg.qr(a)
        return rho * q * np.sign(np.diag(r))
    radius = float(np.max(np.abs(np.linalg.eigvals(a))))
    return rho * a / radius


@dataclass
class Unrolled:
    """A forward pass kept whole, for drawing and for `bptt`.

    x (T, B, D); h (T+1, B, H) with h[0] = h₀; c (T+1, B, H) for LSTM (else None);
    gates[name] (T, B, H) the gate activations (RNN: "a" the pre-activation);
    hn (T, B, H) the GRU's W_hn hₜ₋₁ + b_hn; mask (T, B) or None.
    """

    cell: str
    activation: str
    weights: dict[str, np.ndarray]
    x: np.ndarray
    h: np.ndarray
    c: np.ndarray | None
    gates: dict[str, np.ndarray] = field(default_factory=dict)
    hn: np.ndarray | None = None
    mask: np.ndarray | None = None
    packed_gates: np.ndarray | None = None  # (T, B, G·H): the gates side by side (for bptt)

    @property
    def steps(self) -> int:
        return self.x.shape[0]


def _check_weights(cell: str, weights: dict, input_size: int) -> int:
    gates = _check_cell(cell)
    missing = [n for n in PARAM_NAMES if n not in weights]
    if missing:
        raise ValueError(f"weights lack {missing[0]!r}; expected {', '.join(PARAM_NAMES)}")
    w_hh = np.asarray(weights["weight_hh"])
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"weight_hh must be ({gates}·H, H) for {cell}, got {w_hh.shape}")
    hidden = w_hh.shape[1]
    expected = {"weight_ih": (gates * hidden, input_size), "bias_ih": (gates * hidden,),
                "bias_hh": (gates * hidden,)}
    for name, shape in expected.items():
        if np.shape(weights[name]) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {np.shape(weights[name])}")
    return hidden


def unroll(cell: str, weights: dict, x, h0=None, c0=None, activation: str = "tanh",
           mask=None) -> Unrolled:
    """Run `cell` over x (T, B, D) from h₀ (B, H) (and c₀ for LSTM; zeros when None).

    `activation` (tanh, relu, linear) is the RNN's φ (LSTM and GRU have fixed ones); `mask`
    (T, B) of 0/1 marks real steps (1) and padding (0).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"x must be (T, B, D) with T, B, D ≥ 1, got shape {x.shape}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    steps, batch, _ = x.shape
    hidden = _check_weights(cell, weights, x.shape[2])
    w = {k: np.ascontiguousarray(weights[k], dtype=np.float64) for k in PARAM_NAMES}
    h = np.zeros((steps + 1, batch, hidden))
    if h0 is not None:
        h0 = np.asarray(h0, dtype=np.float64)
        if h0.shape != (batch, hidden):
            raise ValueError(f"h0 must be (B, H) = {(batch, hidden)}, got {h0.shape}")
        h[0] = h0
    c = None
    if cell == "lstm":
        c = np.zeros((steps + 1, batch, hidden))
        if c0 is not None:
            c0 = np.asarray(c0, dtype=np.float64)
            if c0.shape != (batch, hidden):
                raise ValueError(f"c0 must be (B, H) = {(batch, hidden)}, got {c0.shape}")
            c[0] = c0
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
        if mask.shape != (steps, batch) or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"mask must be (T, B) = {(steps, batch)} of 0 and 1")
    names = GATES[cell]
    G = len(names)
    gi = matmul(x, w["weight_ih"].T) + w["bias_ih"]  # the input half of every step: one product
    all_gates = np.empty((steps, batch, G * hidden))
    hn = np.empty((steps, batch, hidden)) if cell == "gru" else np.empty((1, 1, 1))
    c_arr = c if c is not None else np.empty((1, 1, 1))
    ones = np.ones((steps, batch)) if mask is None else mask
    recurrent_forward(CELL_CODES[cell], ACTIVATION_CODES[activation], gi,
                      np.ascontiguousarray(w["weight_hh"].T), w["bias_hh"], ones, h, c_arr,
                      all_gates, hn)
    gates = {g: all_gates[:, :, k * hidden:(k + 1) * hidden] for k, g in enumerate(names)}
    if cell != "gru":
        hn = None
    return Unrolled(cell, activation, w, x, h, c, gates, hn, mask, all_gates)


@dataclass
class Gradients:
    """What `bptt` returns: ∂ℒ/∂θ for every weight (PyTorch's names), ∂ℒ/∂hₜ for t = 1..T
    (dh (T, B, H): everything that reaches hₜ, through the output and through later steps),
    ∂ℒ/∂xₜ (T, B, D), ∂ℒ/∂h₀ and, for LSTM, ∂ℒ/∂cₜ (T, B, H) and ∂ℒ/∂c₀."""

    weights: dict[str, np.ndarray]
    dh: np.ndarray
    dx: np.ndarray | None
    dh0: np.ndarray
    dc: np.ndarray | None = None
    dc0: np.ndarray | None = None


def bptt(run: Unrolled, dh_out, dc_last=None, need_dx: bool = True) -> Gradients:
    """Backpropagation through time for a loss ℒ whose direct gradient is dh_out[t] = ∂ℒ/∂hₜ₊₁
    through the outputs only, (T, B, H) (zeros for steps with no loss).

    The recursion, from t = T down to 1: δₜ = dh_out[t] + (∂hₜ₊₁/∂hₜ)ᵀ δₜ₊₁; for the RNN
    (∂hₜ₊₁/∂hₜ)ᵀ δ = W_hhᵀ (φ'(aₜ₊₁) ⊙ δ): a product of one Jacobian per step.
    `need_dx=False` skips ∂ℒ/∂x (training does not need it; dx is then None).
    """
    dh_out = np.asarray(dh_out, dtype=np.float64)
    steps, batch, hidden = run.h.shape[0] - 1, run.h.shape[1], run.h.shape[2]
    if dh_out.shape != (steps, batch, hidden):
        raise ValueError(f"dh_out must be (T, B, H) = {(steps, batch, hidden)}, got {dh_out.shape}")
    w = run.weights
    grads = {}
    G = w["weight_ih"].shape[0] // hidden
    all_gates = run.packed_gates
    if all_gates is None:
        all_gates = np.ascontiguousarray(np.concatenate([run.gates[g] for g in GATES[run.cell]], axis=2))
    dgi_all = np.zeros((steps, batch, G * hidden))
    dgh_all = np.zeros_like(dgi_all)
    dh_total = np.zeros((steps, batch, hidden))
    dc_total = np.zeros((steps, batch, hidden))
    carry = np.zeros((batch, hidden))
    carry_c = np.zeros((batch, hidden))
    if dc_last is not None and run.cell == "lstm":
        carry_c[...] = np.asarray(dc_last, dtype=np.float64)
    empty = np.empty((1, 1, 1))
    ones = np.ones((steps, batch)) if run.mask is None else run.mask
    recurrent_backward(CELL_CODES[run.cell], ACTIVATION_CODES[run.activation], all_gates, run.h,
                       run.c if run.c is not None else empty,
                       run.hn if run.hn is not None else empty, ones, w["weight_hh"],
                       np.ascontiguousarray(dh_out), dgi_all, dgh_all, dh_total, dc_total,
                       carry, carry_c)
    # the weight gradients: sums over time and batch, one product each
    flat_x = run.x.reshape(steps * batch, -1)
    flat_h = run.h[:-1].reshape(steps * batch, hidden)
    dgi2 = dgi_all.reshape(steps * batch, -1)
    dgh2 = dgh_all.reshape(steps * batch, -1)
    grads["weight_ih"] = matmul_tn(dgi2, flat_x)
    grads["weight_hh"] = matmul_tn(dgh2, flat_h)
    grads["bias_ih"] = dgi2.sum(axis=0)
    grads["bias_hh"] = dgh2.sum(axis=0)
    dx = matmul(dgi_all, w["weight_ih"]) if need_dx else None
    lstm = run.cell == "lstm"
    return Gradients(grads, dh_total, dx, carry, dc_total if lstm else None, carry_c if lstm else None)
