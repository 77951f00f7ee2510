"""The training views' models (no Textual): the memory task with RNN, LSTM and GRU side by
side, and a character-level language model, each a history of seeded training steps."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from core.recurrent import (PETER_RABBIT, CharCorpus, Checkpoint, RecurrentNet, Trainer,
                            open_gate, recall_batch, sample)
from tutor.history import History, HistoryModel

MEMORY_CELLS = ("rnn", "lstm", "gru")
N_SYMBOLS = 4
MEMORY_HIDDEN = 16
MEMORY_BATCH = 32
MEMORY_NOISE = 0.5
MEMORY_BUDGET = 400  # training steps the memory race runs (the same for the three cells)

TEXT_HIDDEN = 64
TEXT_WINDOW = 32
TEXT_BATCH = 16
TEXT_BUDGET = 1500
SAMPLE_LENGTH = 120
PROMPT = "Peter "


@dataclass(frozen=True)
class RaceState:
    """One step of the memory race: each cell's checkpoint and what its last step measured."""

    step: int
    checkpoints: tuple[Checkpoint, ...]
    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    reach: tuple[float, ...]


class _Stepped(HistoryModel):
    """The protocol over a History of states (step, back, reset, advance)."""

    @property
    def state(self):
        return self.history.current

    @property
    def k(self) -> int:
        return self.history.index


class MemoryModel(_Stepped):
    """"Recall the first symbol" after `length` steps of noise, learned by an RNN, an LSTM and a
    GRU on the very same batches, with the same budget, Adam and clipping."""

    def __init__(self, params: dict) -> None:
        self.params = p = dict(params)
        self.length = int(p["length"])
        seed = int(p["seed"])
        clip = float(p["clip_norm"]) if p["clip"] else 0.0
        self.trainers = []
        for cell in MEMORY_CELLS:
            net = RecurrentNet(cell, N_SYMBOLS + 1, MEMORY_HIDDEN, N_SYMBOLS, seed=seed)
            open_gate(net, float(p["gate_bias"]))
            self.trainers.append(Trainer(net, self._batch, lr=float(p["lr"]), clip=clip))
        nan = (math.nan,) * len(MEMORY_CELLS)
        first = RaceState(0, tuple(t.checkpoint() for t in self.trainers), nan, nan, nan)
        self.history: History[RaceState] = History(first, self._next, max_len=MEMORY_BUDGET + 1)

    def _batch(self, step: int):
        x, labels = recall_batch(self.length, MEMORY_BATCH, N_SYMBOLS, MEMORY_NOISE,
                                 seed=int(self.params["seed"]), step=step)
        return x, labels, None

    def _next(self, state: RaceState) -> RaceState | None:
        if state.step >= MEMORY_BUDGET:
            return None
        infos = []
        for trainer, cp in zip(self.trainers, state.checkpoints):
            trainer.restore(cp)
            infos.append(trainer.step())
        return RaceState(state.step + 1, tuple(t.checkpoint() for t in self.trainers),
                         tuple(i.loss for i in infos), tuple(i.accuracy for i in infos),
                         tuple(i.reach for i in infos))

    def curves(self, smooth: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, loss (n, 3), accuracy (n, 3)) up to now, each a running mean over `smooth`
        steps (batch figures are noisy)."""
        states = self.history.states[1:]
        steps = np.array([s.step for s in states], dtype=np.float64)
        loss = np.array([s.loss for s in states]).reshape(-1, len(MEMORY_CELLS))
        acc = np.array([s.accuracy for s in states]).reshape(-1, len(MEMORY_CELLS))
        return steps, _running_mean(loss, smooth), _running_mean(acc, smooth)

    def status(self) -> str:
        s = self.state
        if s.step == 0:
            return f"ready: {MEMORY_BUDGET} steps for each cell, T = {self.length}"
        acc = " ".join(f"{c} {a:.0%}" for c, a in zip(MEMORY_CELLS, self.curves()[2][-1]))
        return f"step {s.step}/{MEMORY_BUDGET} · {acc}"

    @staticmethod
    def chance_loss() -> float:
        """The loss of a network that forgot the symbol: ln K (a uniform guess)."""
        return math.log(N_SYMBOLS)


def _running_mean(a: np.ndarray, k: int) -> np.ndarray:
    if len(a) == 0:
        return a
    c = np.cumsum(np.vstack([np.zeros((1, a.shape[1])), a]), axis=0)
    idx = np.arange(1, len(a) + 1)
    lo = np.maximum(0, idx - k)
    return (c[idx] - c[lo]) / (idx - lo)[:, None]


@dataclass(frozen=True)
class TextState:
    """One step of the language model: its checkpoint and the batch loss."""

    step: int
    checkpoint: Checkpoint
    loss: float


class TextModel(_Stepped):
    """A character-level language model (params["cell"]) on a built-in public-domain text,
    trained on random windows with Adam; `sample_text()` writes from the current weights at the
    chosen temperature (a separate network, so a training worker is never disturbed)."""

    def __init__(self, params: dict) -> None:
        self.params = p = dict(params)
        self.corpus = CharCorpus(PETER_RABBIT)
        self.cell = p["cell"]
        self.net = RecurrentNet(self.cell, self.corpus.vocab, TEXT_HIDDEN, self.corpus.vocab,
                                activation=p["activation"], seed=int(p["seed"]))
        open_gate(self.net, float(p["gate_bias"]))
        clip = float(p["clip_norm"]) if p["clip"] else 0.0
        self.trainer = Trainer(self.net, self._batch, every_step=True, lr=float(p["lr"]), clip=clip)
        self.sampler = RecurrentNet(self.cell, self.corpus.vocab, TEXT_HIDDEN, self.corpus.vocab,
                                    activation=p["activation"], seed=int(p["seed"]))
        self._samples: dict[tuple[int, float], str] = {}
        self._sampling = threading.Lock()  # the UI and a training worker may both ask
        first = TextState(0, self.trainer.checkpoint(), math.nan)
        self.history: History[TextState] = History(first, self._next, max_len=TEXT_BUDGET + 1)

    def _batch(self, step: int):
        x, y = self.corpus.batch(TEXT_WINDOW, TEXT_BATCH, seed=int(self.params["seed"]), step=step)
        return x, y, None

    def _next(self, state: TextState) -> TextState | None:
        if state.step >= TEXT_BUDGET:
            return None
        self.trainer.restore(state.checkpoint)
        info = self.trainer.step()
        return TextState(state.step + 1, self.trainer.checkpoint(), info.loss)

    def sample_text(self, temperature: float | None = None) -> str:
        """SAMPLE_LENGTH characters after PROMPT from the current weights (seeded, cached)."""
        temperature = float(self.params["temperature"] if temperature is None else temperature)
        state = self.state
        key = (state.step, temperature)
        with self._sampling:
            if key not in self._samples:
                if len(self._samples) > 64:
                    self._samples.clear()
                self.sampler.theta[...] = state.checkpoint.theta
                self._samples[key] = sample(self.sampler, self.corpus, PROMPT, SAMPLE_LENGTH,
                                            temperature, seed=int(self.params["seed"]))
            return self._samples[key]

    def curve(self, smooth: int = 20) -> tuple[np.ndarray, np.ndarray]:
        states = self.history.states[1:]
        steps = np.array([s.step for s in states], dtype=np.float64)
        loss = np.array([s.loss for s in states]).reshape(-1, 1)
        return steps, _running_mean(loss, smooth)[:, 0] if len(loss) else np.zeros(0)

    def chance_loss(self) -> float:
        """ln V: the loss of a uniform guess over the V characters of the text."""
        return math.log(self.corpus.vocab)

    def status(self) -> str:
        s = self.state
        if s.step == 0:
            return f"ready: {self.cell.upper()} on {len(self.corpus.text)} characters"
        return f"step {s.step}/{TEXT_BUDGET} · loss {self.curve()[1][-1]:.3f}"
