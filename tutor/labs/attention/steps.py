"""One attention computed step by step on a short sentence (plain NumPy, no Textual)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tutor.history import History
from tutor.labs.attention.numerics import lab_mask, positional_encoding, softmax

#: The stages of the computation, in order: what each lab step reveals.
STAGES = (
    ("X", "x: one vector per token" ),
    ("Q", "Q = X W_Q: what each position looks for"),
    ("K", "K = X W_K: what each position offers"),
    ("V", "V = X W_V: what each position passes on"),
    ("S", "S = Q Kᵀ / √d: every query against every key"),
    ("M", "S + M: the mask sets forbidden scores to −∞"),
    ("A", "A = softmax(S + M), row by row: each row sums to 1"),
    ("Y", "Y = A V: each output is a weighted mean of the values"),
)


def parse_sentence(text: str) -> list[str]:
    """2 to 8 words separated by spaces (ValueError saying what is expected otherwise)."""
    words = text.split()
    if not 2 <= len(words) <= 8:
        raise ValueError(f"give 2 to 8 words separated by spaces; got {len(words)}")
    if any(len(w) > 12 for w in words):
        raise ValueError("words of at most 12 letters")
    return words


@dataclass(frozen=True)
class Attention:
    """Every matrix of one attention, rounded inputs so a student can redo the sums."""

    words: list
    X: np.ndarray  # (T, d_model)
    Wq: np.ndarray  # (d_model, d)
    Wk: np.ndarray
    Wv: np.ndarray
    Q: np.ndarray  # (T, d)
    K: np.ndarray
    V: np.ndarray
    S: np.ndarray  # (T, T) scores / √d
    mask: np.ndarray  # (T, T) bool, True: may attend
    M: np.ndarray  # S + (0 or −∞)
    A: np.ndarray  # softmax rows
    Y: np.ndarray  # (T, d)


def compute(words, d_model: int, d: int, causal: bool, pad: int, positions: bool, seed: int) -> Attention:
    """The lab's attention: one vector per distinct word (a repeated word gets the same vector,
    unless the positions are added), weights drawn from the seed, rounded to one decimal."""
    t = len(words)
    rng = np.random.default_rng(seed)
    vocab = sorted(set(words))
    table = np.round(rng.normal(0.0, 1.0, (len(vocab), d_model)), 1)
    X = table[[vocab.index(w) for w in words]]
    if positions:
        X = X + np.round(positional_encoding(t, d_model), 1)
    scale = 1.0 / np.sqrt(d_model)
    Wq, Wk, Wv = (np.round(rng.normal(0.0, scale * 1.5, (d_model, d)), 1) for _ in range(3))
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    S = Q @ K.T / np.sqrt(d)
    mask = lab_mask(t, causal, pad)
    M = np.where(mask, S, -np.inf)
    A = softmax(M)
    Y = A @ V
    return Attention(list(words), X, Wq, Wk, Wv, Q, K, V, S, mask, M, A, Y)


class StepsModel:
    """The history is the stage shown (0 = x only, 7 = the output Y); settings rebuild it."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.words = parse_sentence(params["sentence"])
        t = len(self.words)
        if params["pad"] >= t:
            raise ValueError(f"pad must leave at least one real token: at most {t - 1} for {t} words")
        self.query = min(params["query"], t - 1)
        self.att = compute(self.words, params["d_model"], params["d"], params["causal"],
                           params["pad"], params["positions"], params["seed"])
        self.history: History[int] = History(0, self._next, max_len=100)

    def _next(self, stage: int) -> int | None:
        return stage + 1 if stage + 1 < len(STAGES) else None

    @property
    def stage(self) -> int:
        return self.history.current

    def status(self) -> str:
        name, text = STAGES[self.stage]
        return f"stage {self.stage}/{len(STAGES) - 1}: {text}"

    def key_for_score(self) -> int:
        """The key the score question asks about: the query's own position (j = i)."""
        return self.query

    def question(self) -> tuple[str, str, float, float, str] | None:
        """(key, prompt, answer, tolerance, explanation) about what the next step reveals."""
        a, i = self.att, self.query
        w = a.words[i]
        if self.stage == 3:
            j = self.key_for_score()
            return ("attn-score", f"Predict S[{i},{j}] = q{_sub(i)}·k{_sub(j)} / √{a.Q.shape[1]} ('{w}' with itself):",
                    float(a.S[i, j]), 0.02,
                    f"S[{i},{j}] = {a.S[i, j]:.3f}.")
        if self.stage == 5:
            j = int(np.argmax(a.A[i]))
            return ("attn-weight", f"Predict A[{i},{j}], the weight of key {j} in row {i} (softmax of the row):",
                    float(a.A[i, j]), 0.02, f"A[{i},{j}] = {a.A[i, j]:.3f}.")
        if self.stage == 6:
            return ("attn-output", f"Predict Y[{i},0] = Σⱼ A[{i},j] V[j,0]:",
                    float(a.Y[i, 0]), 0.02, f"Y[{i},0] = {a.Y[i, 0]:.3f}.")
        return None

    def pytorch_code(self) -> str:
        a, p = self.att, self.params
        rows = lambda m: "[" + ", ".join("[" + ", ".join(f"{v:.1f}" for v in r) + "]" for r in m) + "]"
        t = len(a.words)
        lines = [
            "import torch",
            "import torch.nn.functional as F",
            "",
            f"# {' '.join(a.words)!r}: one row of X per token (d_model = {p['d_model']})",
            f"X = torch.tensor({rows(a.X)}, dtype=torch.float64)",
            f"W_Q = torch.tensor({rows(a.Wq)}, dtype=torch.float64)",
            f"W_K = torch.tensor({rows(a.Wk)}, dtype=torch.float64)",
            f"W_V = torch.tensor({rows(a.Wv)}, dtype=torch.float64)",
            "Q, K, V = X @ W_Q, X @ W_K, X @ W_V",
            f"mask = torch.ones({t}, {t}, dtype=torch.bool)   # True: may attend (torch's convention)",
        ]
        if p["causal"]:
            lines.append(f"mask &= torch.tril(torch.ones({t}, {t}, dtype=torch.bool))   # causal")
        if p["pad"]:
            lines.append(f"mask[:, {t - p['pad']}:] = False   # the last {p['pad']} keys are padding")
        lines += [
            "",
            "S = Q @ K.T / Q.shape[-1] ** 0.5                # scores",
            "A = torch.softmax(S.masked_fill(~mask, float('-inf')), dim=-1)",
            "Y = A @ V",
            "Y2 = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)   # the same, in one call",
            "print(A.round(decimals=3), torch.allclose(Y, Y2), sep='\\n')",
        ]
        if p["d"] == p["d_model"]:  # nn.MultiheadAttention projects to its own width
            lines += [
                "",
                "# nn.MultiheadAttention, one head, with these projections and no output projection:",
                f"mha = torch.nn.MultiheadAttention({p['d']}, num_heads=1, bias=False, batch_first=True).double()",
                "with torch.no_grad():",
                "    mha.in_proj_weight.copy_(torch.cat([W_Q.T, W_K.T, W_V.T]))   # PyTorch stores Wᵀ",
                f"    mha.out_proj.weight.copy_(torch.eye({p['d']}))",
                "Y3, A3 = mha(X[None], X[None], X[None], attn_mask=~mask)   # its bool mask: True = masked",
                "print(torch.allclose(Y, Y3[0]), torch.allclose(A, A3[0]))",
            ]
        return "\n".join(lines) + "\n"


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
