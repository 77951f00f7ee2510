"""The unrolled view's model: one sequence through a cell, then BPTT step by step (no Textual).

The loss is ℒ = uᵀ h_T for a fixed unit vector u, so ∂ℒ/∂h_T = u has norm 1 and every bar
‖∂ℒ/∂hₜ‖ is the norm of a product of T − t Jacobians applied to u: for a linear RNN with
W_hh = ρ·Q (Q orthogonal) it is exactly ρ^(T−t).
"""

from __future__ import annotations

import math

import numpy as np

from core.recurrent import GATES, bptt, init_weights, recurrent_matrix, unroll
from tutor.history import History, HistoryModel

INPUT_SIZE = 4


class UnrollModel(HistoryModel):
    """States 0 … 2T: k ≤ T shows the forward pass up to hₖ; k = T + j shows BPTT after j
    backward steps (∂ℒ/∂hₜ known for t > T − j)."""

    def __init__(self, params: dict) -> None:
        p = self.params = dict(params)
        self.cell, self.activation = p["cell"], p["activation"]
        self.T, self.H = int(p["T"]), int(p["hidden"])
        seed = int(p["seed"])
        w = init_weights(self.cell, INPUT_SIZE, self.H, seed)
        blocks = len(GATES[self.cell])
        w["weight_hh"] = np.concatenate(
            [recurrent_matrix(self.H, p["rho"], p["w_init"], seed=seed * 10 + k)
             for k in range(blocks)], axis=0)
        if self.cell != "rnn":  # the forget gate f (LSTM) or update gate z (GRU): block 1
            w["bias_hh"][self.H:2 * self.H] += p["gate_bias"]
        self.weights = w
        rng = np.random.default_rng([seed, 7])
        self.x = p["input_scale"] * rng.standard_normal((self.T, 1, INPUT_SIZE))
        u = rng.standard_normal(self.H)
        self.u = u / np.linalg.norm(u)
        self.run = unroll(self.cell, w, self.x, activation=self.activation)
        dh_out = np.zeros((self.T, 1, self.H))
        dh_out[-1, 0] = self.u
        with np.errstate(over="ignore", invalid="ignore"):
            self.grads = bptt(self.run, dh_out)
            self.dh_norms = np.linalg.norm(self.grads.dh[:, 0, :], axis=1)  # t = 1 … T
            flat = np.concatenate([g.ravel() for g in self.grads.weights.values()])
            self.grad_norm = float(np.linalg.norm(flat))
        self.loss = float(self.u @ self.run.h[-1, 0])
        self.history: History[int] = History(0, self._next, max_len=2 * MAX_STATES)

    # --- the protocol -----------------------------------------------------------------------
    def _next(self, k: int) -> int | None:
        return k + 1 if k < 2 * self.T else None

    @property
    def k(self) -> int:
        return self.history.current

    @property
    def forward_done(self) -> int:
        """How many hidden states are computed (0 … T)."""
        return min(self.k, self.T)

    @property
    def backward_done(self) -> int:
        """How many ∂ℒ/∂hₜ are known (0 … T), from t = T down."""
        return max(0, self.k - self.T)

    def status(self) -> str:
        if self.k == 0:
            return f"ready: n runs the forward pass, T = {self.T}"
        if self.k <= self.T:
            return f"forward: h{_sub(self.k)} ({self.k}/{self.T})"
        t = self.T - self.backward_done + 1
        if t > 1:
            return f"BPTT ‖∂ℒ/∂h{_sub(t)}‖ = {fmt(self.dh_norms[t - 1])} ({self.backward_done}/{self.T})"
        return f"BPTT done: ‖∂ℒ/∂h₁‖ = {fmt(self.dh_norms[0])}"

    # --- figures the view and lessons quote ------------------------------------------------
    def closed_form(self) -> float | None:
        """ρ^(T−1) when the RNN is linear with an orthogonal W_hh (exact), else None."""
        if self.cell == "rnn" and self.activation == "linear" and self.params["w_init"] == "orthogonal":
            return float(self.params["rho"]) ** (self.T - 1)
        return None

    def clipped_norm(self) -> float:
        """The parameter gradient's norm after clipping (as clip_grad_norm_), or unchanged."""
        if not self.params["clip"] or not math.isfinite(self.grad_norm):
            return self.grad_norm if not self.params["clip"] else float(self.params["clip_norm"])
        return min(self.grad_norm, float(self.params["clip_norm"]))

    def gradient_line(self) -> str:
        g = self.grad_norm
        if self.params["clip"]:
            c = self.params["clip_norm"]
            if not math.isfinite(g) or g > c:
                return f"‖∇θℒ‖ = {fmt(g)} → clipped to {c:g} (same direction)"
            return f"‖∇θℒ‖ = {fmt(g)} ≤ {c:g}: clipping leaves it"
        return f"‖∇θℒ‖ = {fmt(g)} (clipping off)"


#: The history holds integers only; 2·MAX_T + 1 of them at most.
MAX_STATES = 201


def fmt(v: float) -> str:
    """A norm for the screen: 3 significant digits, exponent form when tiny or huge."""
    if not math.isfinite(v):
        return "inf" if v > 0 else "nan"
    if v == 0:
        return "0"
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(n: int) -> str:
    return str(n).translate(_SUBSCRIPTS)
