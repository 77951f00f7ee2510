"""The regularization view: a wide network on few noisy points, trained plain and with weight
decay and dropout; train and test curves side by side, and where early stopping would stop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.nn import make_dataset, train_test_split
from tutor.labs.robustness import code, nets
from tutor.labs.robustness.common import Stepper

#: Records (evaluations) along each run.
RECORDS = 100


@dataclass(frozen=True)
class EarlyStop:
    """Where patience-based early stopping halts: `stop` (record index) and the best record."""

    best: int
    stop: int


def early_stopping(test_loss, patience: int) -> EarlyStop:
    """Stop at the first record that is `patience` records after the best test loss so far
    (or at the last record); keep the weights of the best one."""
    best, best_value = 0, float("inf")
    for i, value in enumerate(test_loss):
        if value < best_value:
            best, best_value = i, value
        elif i - best >= patience:
            return EarlyStop(best, i)
    return EarlyStop(best, len(test_loss) - 1)


@dataclass
class Runs:
    plain: nets.TrainLog
    regular: nets.TrainLog
    n_train: int


def make_runs(p: dict) -> Runs:
    """Half the points for training, half held out; the same seed for both runs."""
    X, y = make_dataset("moons", p["n_points"], p["noise"], p["seed"])
    X, y, Xt, yt = train_test_split(X, y, 0.5, p["seed"])
    every = max(1, p["train_steps"] // RECORDS)
    kw = dict(steps=p["train_steps"], lr=p["lr"], batch_size=32, seed=p["seed"], every=every)
    sizes = [2, p["hidden"], p["hidden"], 2]
    plain = nets.train(nets.make_mlp(sizes, p["seed"]), X, y, Xt, yt, **kw)
    regular = nets.train(nets.make_mlp(sizes, p["seed"], dropout=p["dropout"]), X, y, Xt, yt,
                         weight_decay=p["weight_decay"], **kw)
    return Runs(plain, regular, len(y))


class RegularizationView(Stepper):
    """State k: the first k records of both runs are shown."""

    def __init__(self, params: dict, runs: Runs | None = None) -> None:
        self.params = p = dict(params)
        self.runs = runs if runs is not None else make_runs(p)
        self.n_states = len(self.runs.plain.steps)
        self.stops = {name: early_stopping(log.test_loss, p["patience"])
                      for name, log in (("plain", self.runs.plain), ("regular", self.runs.regular))}
        self._start_history()

    def label(self) -> str:
        p = self.params
        return f"λ = {p['weight_decay']:g}, p = {p['dropout']:g}"

    # --- protocol ---------------------------------------------------------------------
    def status(self) -> str:
        k = self.k
        a, b = self.runs.plain, self.runs.regular
        return (f"step {a.steps[k]}/{a.steps[-1]} · test acc {a.test_acc[k]:.0%} / "
                f"{b.test_acc[k]:.0%}")

    def pytorch_code(self) -> str:
        return code.regularization(self.params)

    def question(self) -> tuple[str, float, float, str]:
        a = self.runs.plain
        gap = 100 * (a.train_acc[-1] - a.test_acc[-1])
        return (f"Predict the plain network's gap train − test accuracy after "
                f"{a.steps[-1]} steps (percentage points)", round(gap, 1), 8.0,
                f"Train {a.train_acc[-1]:.0%}, test {a.test_acc[-1]:.0%}: a gap of "
                f"{gap:.0f} points. The network memorises its {self.runs.n_train} points.")

    # --- text and drawing --------------------------------------------------------------
    def lines(self) -> list[str]:
        k = self.k
        a, b = self.runs.plain, self.runs.regular
        rows = [f"{self.runs.n_train} training points, MLP 2-{self.params['hidden']}-"
                f"{self.params['hidden']}-2, step {a.steps[k]}",
                "             train loss  test loss  train  test"]
        for name, log in (("plain", a), ("regularized", b)):
            rows.append(f"{name:<12} {log.train_loss[k]:>9.3f}  {log.test_loss[k]:>9.3f}  "
                        f"{log.train_acc[k]:>5.0%}  {log.test_acc[k]:>4.0%}")
        rows.append(f"gap train − test acc: plain {100 * (a.train_acc[k] - a.test_acc[k]):.0f}, "
                    f"regularized {100 * (b.train_acc[k] - b.test_acc[k]):.0f} points")
        for name, log in (("plain", a), ("regularized", b)):
            s = self.stops["plain" if name == "plain" else "regular"]
            if k >= s.stop:
                rows.append(f"early stop, {name}: at step {log.steps[s.stop]}, keeps step "
                            f"{log.steps[s.best]} (test {log.test_loss[s.best]:.3f})")
        return rows

    def series(self, which: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, train losses, test losses) of one run up to state k."""
        log = self.runs.plain if which == "plain" else self.runs.regular
        k = self.k + 1
        return (np.array(log.steps[:k], dtype=float), np.array(log.train_loss[:k]),
                np.array(log.test_loss[:k]))
