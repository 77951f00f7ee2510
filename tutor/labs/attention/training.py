"""The tiny transformer trained on a digit task, and the character-level decoder on a built-in
text: each lab step is `chunk` Adam steps; the history keeps what is drawn (plain NumPy)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from tutor.history import History
from tutor.labs.attention import corpus
from tutor.labs.attention.numerics import causal_mask, softmax
from tutor.labs.attention.transformer import Adam, TinyTransformer

DIGITS = 10


def task_targets(task: str, x: np.ndarray) -> np.ndarray:
    """The answer for digit sequences x (B, T): reversed, sorted, or copied."""
    if task == "reverse":
        return x[:, ::-1].copy()
    if task == "sort":
        return np.sort(x, axis=1)
    return x.copy()


def ideal_attention(task: str, x: np.ndarray) -> np.ndarray:
    """(T, T) permutation: output i needs input π(i) (the reverse's anti-diagonal, the sorting
    permutation of x, or the diagonal for a copy)."""
    t = x.size
    if task == "reverse":
        src = t - 1 - np.arange(t)
    elif task == "sort":
        src = np.argsort(x, kind="stable")
    else:
        src = np.arange(t)
    p = np.zeros((t, t))
    p[np.arange(t), src] = 1.0
    return p


@dataclass(frozen=True)
class TrainState:
    """What the lab shows after `step` optimizer steps."""

    step: int
    loss: float  # the last training batch's loss (NaN at step 0: the loss of the held-out set)
    accuracy: float  # held-out digits right (train view) or NaN (lm view)
    maps: np.ndarray  # (layers, heads, T, T) attention weights on the example
    prediction: str  # the model's answer to the example (train) or a sample of text (lm)
    alignment: np.ndarray  # (layers, heads): mean weight on the ideal permutation (train view)


class _Trainer:
    """Shared by both views: a TinyTransformer, Adam, a lock, and a history of TrainStates."""

    #: The view this trainer serves (for messages).
    kind = ""

    def __init__(self, params: dict, vocab: int, t: int, causal: bool) -> None:
        self.params = dict(params)
        d, h = params["d_model_train"], params["heads"]
        if d % h:
            raise ValueError(f"d_model_train = {d} must be a multiple of heads = {h}")
        self.t, self.causal, self.vocab = t, causal, vocab
        self.mask = causal_mask(t) if causal else None
        self.lock = threading.Lock()
        self._build()
        self.history: History[TrainState] = History(self._state(0, float("nan")), self._next,
                                                     max_len=5000)

    def _build(self) -> None:
        p = self.params
        self.net = TinyTransformer(self.vocab, self.vocab, p["d_model_train"], p["heads"], p["layers"],
                                   2 * p["d_model_train"], max_len=max(self.t, 8), seed=p["seed"])
        self.opt = Adam(self.net.params, lr=p["lr"])

    # the history only ever computes from its last state, which is the trainer's live state
    def _next(self, state: TrainState) -> TrainState | None:
        loss = float("nan")
        for _ in range(self.params["chunk"]):
            x, y = self.batch(self.opt.t)
            loss, grads = self.net.loss_and_grads(x, y, self.mask)
            if not np.isfinite(loss):
                return None
            self.opt.step(grads)
        return self._state(self.opt.t, loss)

    def step(self) -> bool:
        with self.lock:
            return self.history.step()

    def advance(self, n: int) -> int:
        with self.lock:
            return self.history.advance(n)

    def back(self) -> bool:
        with self.lock:
            return self.history.back()

    def reset(self) -> None:
        """Step 0 again: the seed's initial weights and a fresh optimizer."""
        with self.lock:
            self._build()
            self.history.reset()

    @property
    def state(self) -> TrainState:
        return self.history.current

    @property
    def states(self) -> list[TrainState]:
        """Every state up to the one shown (for the loss curve)."""
        return self.history.states

    @property
    def at_end(self) -> bool:
        """True when a step computes a new state (false after stepping back: it replays)."""
        return len(self.history.states) == len(self.history)


class DigitTaskModel(_Trainer):
    """Digit sequences of length seq_len and their reversal / sorting / copy (causal)."""

    kind = "train"

    def __init__(self, params: dict) -> None:
        self.task = params["task"]
        t = params["seq_len"]
        rng = np.random.default_rng((params["seed"], 10_001))
        self.example = rng.choice(DIGITS, size=t, replace=t > DIGITS)
        self.ideal = ideal_attention(self.task, self.example)
        held = np.random.default_rng((params["seed"], 10_002)).integers(0, DIGITS, (256, t))
        self.held_out = (held, task_targets(self.task, held))
        super().__init__(params, DIGITS, t, causal=self.task == "copy")

    def batch(self, step: int):
        rng = np.random.default_rng((self.params["seed"], step))
        x = rng.integers(0, DIGITS, (self.params["batch"], self.t))
        return x, task_targets(self.task, x)

    def _state(self, step: int, loss: float) -> TrainState:
        x, y = self.held_out
        logits = self.net.forward(x, self.mask)
        if not np.isfinite(loss):
            m = logits.max(-1, keepdims=True)
            logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
            loss = float(-np.take_along_axis(logp, y[..., None], -1).mean())
        acc = float((logits.argmax(-1) == y).mean())
        maps = self.net.attention_maps(self.example, self.mask)
        pred = self.net.forward(self.example[None], self.mask)[0].argmax(-1)
        align = (maps * self.ideal).sum(axis=(-1, -2)) / self.t
        return TrainState(step, loss, acc, maps, "".join(map(str, pred)), align)

    def status(self) -> str:
        s = self.state
        return (f"{self.task} · step {s.step} · loss {s.loss:.3f} · held-out digits right "
                f"{s.accuracy:.0%} · best head on the ideal map {s.alignment.max():.2f}")

    def question(self):
        if self.history.index != 0:
            return None
        t = self.t
        if self.task == "reverse":
            return ("reverse-source", f"To reverse {t} digits, which input position must output "
                    f"position 0 attend to (0-based)?", float(t - 1), 0.0,
                    f"Output 0 is the last input digit, at position {t - 1}: the ideal map is the "
                    "anti-diagonal.")
        if self.task == "copy":
            return ("copy-source", "To copy under a causal mask, which input position must output "
                    "position 3 attend to?", 3.0, 0.0, "Its own: the ideal map is the diagonal.")
        ex = self.example
        first = int(np.argmin(ex))
        return ("sort-source", f"Sorting {''.join(map(str, ex))}: which input position holds the "
                "digit output 0 needs (0-based)?", float(first), 0.0,
                f"The smallest digit, {ex[first]}, is at position {first}.")


class CharModel(_Trainer):
    """A decoder-only character model (causal mask) on the opening of Alice in Wonderland."""

    kind = "lm"

    def __init__(self, params: dict) -> None:
        self.data = np.array(corpus.encode(corpus.TEXT))
        t = params["context"]
        self.example = self.data[:min(t, 16)]  # the maps' characters (16 keep them small)
        super().__init__(params, len(corpus.CHARS), t, causal=True)

    def batch(self, step: int):
        rng = np.random.default_rng((self.params["seed"], step))
        starts = rng.integers(0, self.data.size - self.t - 1, self.params["batch"])
        idx = starts[:, None] + np.arange(self.t)
        return self.data[idx], self.data[idx + 1]

    def sample(self, prompt: str = "Alice ", n: int = 48, seed: int = 0) -> str:
        """`n` characters drawn one at a time from softmax(logits / temperature) after `prompt`."""
        rng = np.random.default_rng((self.params["seed"], seed))
        ids = corpus.encode(prompt)
        temp = self.params["temperature"]
        for _ in range(n):
            ctx = np.array(ids[-self.t:])
            logits = self.net.forward(ctx[None], causal_mask(ctx.size))[0, -1]
            ids.append(int(rng.choice(self.vocab, p=softmax(logits / temp))))
        return corpus.decode(ids)

    def _state(self, step: int, loss: float) -> TrainState:
        if not np.isfinite(loss):
            x, y = self.batch(999_999)  # a fixed batch no training step draws
            logits = self.net.forward(x, self.mask)
            m = logits.max(-1, keepdims=True)
            logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
            loss = float(-np.take_along_axis(logp, y[..., None], -1).mean())
        maps = self.net.attention_maps(self.example, causal_mask(self.example.size))
        layers, heads = maps.shape[:2]
        return TrainState(step, loss, float("nan"), maps, self.sample(seed=step),
                          np.zeros((layers, heads)))

    def status(self) -> str:
        s = self.state
        return (f"characters · step {s.step} · loss {s.loss:.3f} "
                f"(uniform guess ln {self.vocab} = {np.log(self.vocab):.2f})")

    def question(self):
        if self.history.index != 0:
            return None
        v = self.vocab
        return ("lm-initial-loss", f"Before training, a model that spreads its bets evenly over "
                f"the {v} characters has what cross-entropy (natural log)?",
                float(np.log(v)), 0.1, f"−ln(1/{v}) = ln {v} = {np.log(v):.2f}.")
