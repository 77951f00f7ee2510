"""Sequence tasks: "recall the first symbol" (a long-memory toy) and character-level text.

Every batch is drawn from a generator seeded by (seed, step), so a step replays exactly.
"""

from __future__ import annotations

import numpy as np


def one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    """(…) integers in [0, size) -> (…, size) float64 one-hot vectors."""
    return np.eye(size)[np.asarray(indices)]


def recall_batch(length: int, batch: int, n_symbols: int = 4, noise: float = 0.5,
                 seed: int = 0, step: int = 0):
    """"Recall the first symbol": x₁ is one of `n_symbols` symbols (one-hot) with a marker
    channel set; x₂ … x_T are Gaussian noise (standard deviation `noise`) on the symbol
    channels, marker 0. The label, read from the last state, is x₁'s symbol: the network must
    carry it through T − 1 noisy steps.

    Returns x (T, B, n_symbols + 1) and labels (B,) int64; the batch of (seed, step) is always
    the same."""
    for name, value, low in (("length", length, 1), ("batch", batch, 1), ("n_symbols", n_symbols, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be a whole number ≥ {low}, got {value!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number ≥ 0, got {noise!r}")
    rng = np.random.default_rng([seed, step])
    labels = rng.integers(0, n_symbols, size=batch)
    x = np.zeros((length, batch, n_symbols + 1))
    x[0, np.arange(batch), labels] = 1.0
    x[0, :, n_symbols] = 1.0
    x[1:, :, :n_symbols] = noise * rng.standard_normal((length - 1, batch, n_symbols))
    return x, labels


class CharCorpus:
    """A text as integer codes over its sorted set of characters, cut into training windows."""

    def __init__(self, text: str) -> None:
        if len(text) < 3:
            raise ValueError("the text needs at least 3 characters")
        self.text = text
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}
        self.codes = np.array([self.index[ch] for ch in text], dtype=np.int64)

    @property
    def vocab(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not in the text's alphabet")
        return np.array([self.index[ch] for ch in text], dtype=np.int64)

    def decode(self, codes) -> str:
        return "".join(self.chars[int(i)] for i in codes)

    def batch(self, length: int, batch: int, seed: int = 0, step: int = 0):
        """Random windows: x (T, B, V) one-hot of characters t, targets (T, B) the next ones."""
        if length < 1 or batch < 1:
            raise ValueError(f"length and batch must be ≥ 1, got {length} and {batch}")
        length = min(length, len(self.codes) - 1)
        rng = np.random.default_rng([seed, step])
        starts = rng.integers(0, len(self.codes) - length, size=batch)
        idx = starts[None, :] + np.arange(length)[:, None]
        return one_hot(self.codes[idx], self.vocab), self.codes[idx + 1]


def sample(net, corpus: CharCorpus, prefix: str, n: int, temperature: float = 1.0,
           seed: int = 0) -> str:
    """`n` characters drawn one at a time from softmax(logits / temperature), after `prefix`.

    temperature → 0 picks the most likely character (greedy); 1 samples the model's own
    distribution; larger values flatten it."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    from core.recurrent.cells import unroll

    rng = np.random.default_rng(seed)
    codes = corpus.encode(prefix or corpus.text[0])
    w = net.cell_weights()
    run = unroll(net.cell, w, one_hot(codes, corpus.vocab)[:, None, :], activation=net.activation)
    h = run.h[-1]
    c = None if run.c is None else run.c[-1]
    out = []
    for _ in range(n):
        z = net.logits(h)[0] / temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        k = int(rng.choice(len(p), p=p))
        out.append(k)
        step = unroll(net.cell, w, one_hot([k], corpus.vocab)[:, None, :], h, c, net.activation)
        h = step.h[-1]
        c = None if step.c is None else step.c[-1]
    return corpus.decode(out)
