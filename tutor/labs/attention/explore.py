"""The two experiments of the lab that need no training: why the scores are divided by √d, and
the sinusoidal positional encodings (plain NumPy, no Textual)."""

from __future__ import annotations

import numpy as np

from tutor.history import History
from tutor.labs.attention.numerics import positional_encoding, saturation, softmax

#: The dimensions d the √d experiment walks through (one per lab step).
DIMS = tuple(2 ** k for k in range(11))  # 1 … 1024


class ScalingModel:
    """History of d = 1, 2, 4 … 1024: the spread of q·k and how peaked its softmax gets."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.keys, self.seed = params["keys"], params["seed"]
        self.stats = [saturation(d, self.keys, seed=self.seed) for d in DIMS]
        self.history: History[int] = History(0, lambda i: i + 1 if i + 1 < len(DIMS) else None)

    @property
    def d(self) -> int:
        return DIMS[self.history.current]

    @property
    def shown(self) -> int:
        """How many dimensions d are shown so far (1 at the start)."""
        return self.history.current + 1

    def example(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One random query against `keys` random keys in dimension d: (q·k, softmax(q·k),
        softmax(q·k / √d))."""
        rng = np.random.default_rng((self.seed, self.d))
        q = rng.standard_normal(self.d)
        k = rng.standard_normal((self.keys, self.d))
        s = k @ q
        return s, softmax(s), softmax(s / np.sqrt(self.d))

    def status(self) -> str:
        st = self.stats[self.history.current]
        return (f"d = {self.d}: std(q·k) = {st['std']:.2f}, largest weight "
                f"{st['max_raw']:.2f} unscaled, {st['max_scaled']:.2f} with 1/√d")

    def question(self):
        i = self.history.current
        if i + 1 >= len(DIMS):
            return None
        d = DIMS[i + 1]
        return ("sqrt-d-std", f"Predict the standard deviation of q·k at d = {d} "
                "(q, k with independent N(0, 1) entries):",
                float(np.sqrt(d)), 0.15 * np.sqrt(d),
                f"Var(q·k) = Σᵢ Var(qᵢkᵢ) = d, so std = √{d} = {np.sqrt(d):.3g} "
                f"(measured {self.stats[i + 1]['std']:.3g}).")

    def pytorch_code(self) -> str:
        return "\n".join([
            "import torch",
            "",
            f"torch.manual_seed({self.seed})",
            f"t = {self.keys}                      # keys",
            "for d in [1, 4, 16, 64, 256, 1024]:",
            "    q = torch.randn(200, 1, d)       # 200 random queries",
            "    k = torch.randn(200, t, d)",
            "    s = (q @ k.transpose(1, 2)).squeeze(1)           # q·k, std ≈ √d",
            "    raw = torch.softmax(s, -1).amax(-1).mean()       # → 1: one-hot, saturated",
            "    scaled = torch.softmax(s / d ** 0.5, -1).amax(-1).mean()   # stays moderate",
            "    print(d, s.std().item(), raw.item(), scaled.item())",
        ]) + "\n"


class PositionsModel:
    """History of the selected position p = 0 … length − 1: its row of the table PE and its
    similarity PE(p)·PE(j) with every position j."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        d = params["pe_dim"]
        if d % 2:
            raise ValueError(f"pe_dim must be even (sin and cos pairs); got {d}")
        self.length, self.dim = params["length"], d
        self.pe = positional_encoding(self.length, d)
        self.similarity = self.pe @ self.pe.T
        self.history: History[int] = History(0, lambda p: p + 1 if p + 1 < self.length else None)

    @property
    def pos(self) -> int:
        return self.history.current

    def status(self) -> str:
        p = self.pos
        near = self.similarity[p, min(p + 1, self.length - 1)]
        return (f"position {p}: PE(p)·PE(p) = {self.similarity[p, p]:.1f} = d/2, "
                f"with the next one {near:.2f}")

    def question(self):
        p = self.pos + 1
        if p >= self.length:
            return None
        return ("pe-value", f"Predict PE({p}, 0) = sin({p} / 10000^0):",
                float(np.sin(p)), 0.02, f"PE({p}, 0) = sin({p}) = {np.sin(p):.3f} (radians).")

    def pytorch_code(self) -> str:
        return "\n".join([
            "import math",
            "import torch",
            "",
            f"length, d = {self.length}, {self.dim}",
            "pos = torch.arange(length, dtype=torch.float64)[:, None]",
            "div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))",
            "pe = torch.zeros(length, d, dtype=torch.float64)",
            "pe[:, 0::2] = torch.sin(pos * div)     # PE(pos, 2i)   = sin(pos / 10000^(2i/d))",
            "pe[:, 1::2] = torch.cos(pos * div)     # PE(pos, 2i+1) = cos(pos / 10000^(2i/d))",
            "similarity = pe @ pe.T                 # depends on the offset between positions",
            f"print(similarity[{self.pos}].round(decimals=2))",
        ]) + "\n"
