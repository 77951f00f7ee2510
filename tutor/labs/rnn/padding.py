"""The padding view's model (no Textual): a small batch of words of unequal length, padded to
the longest, run through a GRU with a mask, step by step, beside the packed batch sizes."""

from __future__ import annotations

import numpy as np

from core.recurrent import init_weights, one_hot, unroll
from tutor.history import History, HistoryModel

WORDS = ("pie", "garden", "a", "Peter")
PAD = "·"
HIDDEN = 6


class PaddingModel(HistoryModel):
    """States k = 0 … T_max: after k steps, hₖ of every word (frozen where the word has ended)."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.words = WORDS
        self.lengths = np.array([len(w) for w in WORDS])
        self.T = int(self.lengths.max())
        self.chars = sorted(set("".join(WORDS)))
        index = {c: i for i, c in enumerate(self.chars)}
        B = len(WORDS)
        codes = np.zeros((self.T, B), dtype=np.int64)
        for b, w in enumerate(WORDS):
            codes[:len(w), b] = [index[c] for c in w]
        self.mask = (np.arange(self.T)[:, None] < self.lengths[None, :]).astype(np.float64)  # (T, B)
        self.x = one_hot(codes, len(self.chars)) * self.mask[..., None]  # padding: zero vectors
        self.weights = init_weights("gru", len(self.chars), HIDDEN, seed=int(self.params["seed"]))
        self.run = unroll("gru", self.weights, self.x, mask=self.mask)
        # each word alone, without padding: the final states padding must reproduce
        self.alone = np.stack([unroll("gru", self.weights, self.x[:len(w), b:b + 1]).h[-1, 0]
                               for b, w in enumerate(WORDS)])
        self.history: History[int] = History(0, lambda k: k + 1 if k < self.T else None)

    # --- the protocol -----------------------------------------------------------------------
    @property
    def k(self) -> int:
        return self.history.current

    # --- figures ---------------------------------------------------------------------------
    def batch_sizes(self) -> np.ndarray:
        """pack_padded_sequence's batch_sizes: how many words are still running at t = 1 … T."""
        return self.mask.sum(axis=1).astype(int)

    def sorted_order(self) -> list[int]:
        """The words by decreasing length (the order packing stores them in)."""
        return sorted(range(len(self.words)), key=lambda b: -self.lengths[b])

    @property
    def real_tokens(self) -> int:
        return int(self.mask.sum())

    def final_gap(self) -> float:
        """max |h_last(padded, masked) − h_last(word alone)| over the batch."""
        return float(np.max(np.abs(self.run.h[-1] - self.alone)))

    def status(self) -> str:
        if self.k == 0:
            return f"ready: {len(self.words)} words, T = {self.T}"
        return f"t = {self.k}: {self.batch_sizes()[self.k - 1]} of {len(self.words)} running"

    def grid_lines(self) -> list[str]:
        """The padded batch as text: one row per word, then the mask, a cursor under step k."""
        width = max(len(w) for w in self.words) + 5
        rows = []
        for b, w in enumerate(self.words):
            cells = " ".join(w[t] if t < len(w) else PAD for t in range(self.T))
            rows.append(f"{w:<{width}}  {cells}   len {len(w)}")
        for b, w in enumerate(self.words):
            cells = " ".join(str(int(self.mask[t, b])) for t in range(self.T))
            rows.append(f"{'mask ' + w:<{width}}  {cells}")
        sizes = " ".join(str(s) for s in self.batch_sizes())
        rows.append(f"{'sizes':<{width}}  {sizes}   (packed batch_sizes)")
        cursor = "  " * (self.k - 1) + "▲" if self.k else ""
        rows.append(f"{'t':<{width}}  {cursor}")
        return rows
