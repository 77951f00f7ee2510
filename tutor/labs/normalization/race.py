"""The 4.5.4 race (no Textual): a small CNN on the digits, with and without BN, at two learning rates.

Four `SmallCNNTrainer`s train side by side; one lab step is `CHUNK` SGD steps of every run,
after which each run's held-out accuracy is measured. Computed chunks are kept, so stepping
back and forward again replays them; only the newest chunk is ever computed (by the widget's
thread worker, through `compute_next`, or directly by `step`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.data import digits
from core.vision import SmallCNNTrainer
from tutor.history import ComputedSteps

#: SGD steps per lab step.
CHUNK = 10
#: The digits every run trains on (core.data's defaults: 100 per class, 16 x 16, seed 0).
DATA = {"n_per_class": 100, "size": 16, "seed": 0}
BATCH_SIZE = 64
CHANNELS = 8


@dataclass(frozen=True)
class Run:
    """One of the four runs: with or without BN, at a learning rate."""

    number: int
    batch_norm: bool
    lr: float

    @property
    def label(self) -> str:
        return f"{self.number} {'BN' if self.batch_norm else 'plain'} η={self.lr:g}"


@dataclass(frozen=True)
class Chunk:
    """`CHUNK` steps of every run: their losses (runs, CHUNK) and accuracies after them (runs,)."""

    index: int
    losses: np.ndarray
    accuracy: np.ndarray
    #: After the last chunk only: the BN runs' held-out accuracy when the model is left in
    #: training mode and classifies one image at a time (the train/eval bug); NaN otherwise.
    no_eval: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))


class RaceModel(ComputedSteps):
    """The four runs, the chunks computed so far, and how many of them are shown (`index`)."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        lo, hi = float(self.params["lr_low"]), float(self.params["lr_high"])
        if not lo < hi:
            raise ValueError(f"the race needs lr_low < lr_high, got {lo:g} and {hi:g}")
        self.runs = [Run(1, False, lo), Run(2, True, lo), Run(3, False, hi), Run(4, True, hi)]
        self.total_chunks = -(-int(self.params["cnn_steps"]) // CHUNK)
        self.seed = int(self.params["seed"])
        X, y = digits(**DATA)
        self._trainers = [
            SmallCNNTrainer(X, y, batch_norm=r.batch_norm, lr=r.lr, batch_size=BATCH_SIZE, seed=self.seed,
                            channels=CHANNELS)  # fmt: skip
            for r in self.runs
        ]
        self.start_accuracy = np.full(4, np.nan)  # not measured before training (keeps opening fast)
        self.chunks: list[Chunk] = []
        self.index = 0

    # --- settings --------------------------------------------------------------------------
    def with_setting(self, name: str, value) -> RaceModel:
        """A new race with one setting changed, from step 0 (ValueError when refused). The lab
        replaces its model with it: a worker may still be computing on this one."""
        if name not in self.params:
            raise ValueError(f"unknown setting {name!r}")
        return RaceModel({**self.params, name: value})

    def apply(self, name: str, value) -> str | None:
        """Change one setting in place, the race started again (not while a worker computes
        on this model: the lab takes `with_setting`'s new model instead). None when applied,
        else why not (the race unchanged)."""
        try:
            fresh = self.with_setting(name, value)
        except ValueError as exc:
            return str(exc)
        self.__dict__.update(fresh.__dict__)
        return None

    # --- computing -----------------------------------------------------------------------
    @property
    def computed(self) -> int:
        return len(self.chunks)

    def compute_next(self) -> Chunk | None:
        """Train every run `CHUNK` more steps (slow: call it from a worker); None at the end.

        Only computes: `append` the result (on the UI thread) to show it.
        """
        done = len(self._trainers[0].losses) // CHUNK
        if done >= self.total_chunks:
            return None
        losses = np.array([t.run(CHUNK) for t in self._trainers])
        accuracy = np.array([t.accuracy() for t in self._trainers])
        no_eval = np.full(4, np.nan)
        if done + 1 == self.total_chunks:
            for i, (run, t) in enumerate(zip(self.runs, self._trainers)):
                if run.batch_norm:
                    no_eval[i] = t.accuracy(training=True, batch_size=1)
        return Chunk(done, losses, accuracy, no_eval)

    def append(self, chunk: Chunk) -> bool:
        """Keep a computed chunk (ignored unless it is the next one)."""
        if chunk.index != len(self.chunks):
            return False
        self.chunks.append(chunk)
        return True

    @property
    def finished(self) -> bool:
        return self.index >= self.total_chunks

    # --- what is shown -------------------------------------------------------------------
    @property
    def steps_shown(self) -> int:
        return self.index * CHUNK

    def losses(self) -> np.ndarray:
        """The training losses shown so far, (4, steps_shown)."""
        if self.index == 0:
            return np.zeros((4, 0))
        return np.concatenate([c.losses for c in self.chunks[: self.index]], axis=1)

    def accuracy(self) -> np.ndarray:
        """Each run's held-out accuracy at the step shown."""
        return self.start_accuracy if self.index == 0 else self.chunks[self.index - 1].accuracy

    def no_eval_accuracy(self) -> np.ndarray:
        """The BN runs' accuracy without model.eval(), one image at a time (once finished)."""
        if self.index < self.total_chunks or self.index == 0:
            return np.full(4, np.nan)
        return self.chunks[self.index - 1].no_eval

    def first_below(self, threshold: float | None = None) -> list[int | None]:
        """For each run, the first step (0-based) whose loss is below the threshold, if any yet."""
        t = float(self.params["threshold"]) if threshold is None else threshold
        out: list[int | None] = []
        for row in self.losses():
            hits = np.flatnonzero(row < t)
            out.append(int(hits[0]) if hits.size else None)
        return out

    def winner(self) -> int | None:
        """The number of the run that gets below the threshold first (ties: the lower number)."""
        firsts = [(f, r.number) for f, r in zip(self.first_below(), self.runs) if f is not None]
        return min(firsts)[1] if firsts else None

    def status(self) -> str:
        total = self.total_chunks * CHUNK
        return f"step {self.steps_shown} / {total}"

    def pytorch_code(self) -> str:
        lo, hi = self.runs[0].lr, self.runs[2].lr
        steps = self.total_chunks * CHUNK
        return f'''import numpy as np
import torch
import torch.nn as nn
from core.data import digits          # dl-tutor's digits: X (1000, 1, 16, 16), y (1000,)

X, y = digits(n_per_class=100, size=16, seed=0)
X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
order = np.random.default_rng({self.seed}).permutation(len(X))   # 80% train, 20% held out
train, test = order[:800], order[800:]


def small_cnn(batch_norm):
    return nn.Sequential(
        nn.Conv2d(1, {CHANNELS}, kernel_size=3, padding=1),
        nn.BatchNorm2d({CHANNELS}) if batch_norm else nn.Identity(),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear({CHANNELS} * 8 * 8, 10),
    )


for lr in ({lo:g}, {hi:g}):
    for batch_norm in (False, True):
        torch.manual_seed({self.seed})
        model = small_cnn(batch_norm)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        losses = []
        for step in range({steps}):
            batch = train[torch.randint(len(train), ({BATCH_SIZE},))]
            model.train()                          # BN: statistics of this batch
            loss = nn.functional.cross_entropy(model(X[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())             # inf or nan if the run diverges
        model.eval()                               # BN: running statistics (forget it: a bug)
        with torch.no_grad():
            acc = (model(X[test]).argmax(1) == y[test]).float().mean().item()
        print(f"BN={{batch_norm!s:5}} lr={{lr:<5}} first loss < {self.params['threshold']:g}: "
              f"{{next((i for i, l in enumerate(losses) if l < {self.params['threshold']:g}), None)}}, "
              f"held-out accuracy {{acc:.1%}}")
'''
