"""The digits view: a digit, its perturbation, the adversarial digit, accuracy against ε."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data import digits as make_digits
from core.nn import train_test_split
from core.robust import fgsm, logits_of, pgd, pgd_path
from tutor.labs.robustness import code, nets
from tutor.labs.robustness.common import Stepper
from tutor.labs.robustness.plane import softmax
from tutor.widgets.colormap import colormap

SIDE = 16
PER_CLASS = 40
#: The ε of the accuracy curves (L∞ on pixels in [0, 1]).
EPS_GRID = np.round(np.linspace(0.0, 0.25, 11), 3)
CURVE_STEPS = 10


@dataclass
class DigitNets:
    """The data and the trained networks (standard, and adversarially trained when asked)."""

    X: np.ndarray
    y: np.ndarray
    Xt: np.ndarray
    yt: np.ndarray
    standard: object
    robust: object | None
    curves: dict  # name -> accuracies over EPS_GRID


def accuracy(model, X, y) -> float:
    return float(np.mean(logits_of(model, X).argmax(axis=1) == y))


def accuracy_curves(model, X, y, eps_grid=EPS_GRID, steps: int = CURVE_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """(FGSM accuracies, PGD accuracies) over eps_grid; PGD with α = 2.5 ε / steps (L∞)."""
    f, g = [], []
    for eps in eps_grid:
        if eps == 0:
            a = accuracy(model, X, y)
            f.append(a)
            g.append(a)
            continue
        f.append(accuracy(model, fgsm(model, X, y, eps, clip=(0.0, 1.0)), y))
        g.append(accuracy(model, pgd(model, X, y, eps, 2.5 * eps / steps, steps,
                                     clip=(0.0, 1.0)), y))
    return np.array(f), np.array(g)


def make_digit_nets(p: dict) -> DigitNets:
    """Digits (40 per class, 16 x 16), 25% held out; an MLP 256-h-10 trained by Adam, and
    with adv_train a second one trained on PGD examples of radius ε."""
    images, labels = make_digits(PER_CLASS, SIDE, p["seed"])
    X, y, Xt, yt = train_test_split(images.reshape(len(labels), -1), labels, 0.25, p["seed"])
    kw = dict(steps=p["train_steps"], lr=p["lr"], batch_size=32, seed=p["seed"])
    standard = nets.make_mlp([SIDE * SIDE, p["hidden"], 10], p["seed"])
    nets.train(standard, X, y, Xt, yt, **kw)
    curves = dict(zip(("FGSM", "PGD"), accuracy_curves(standard, Xt, yt)))
    robust = None
    if p["adv_train"]:
        robust = nets.make_mlp([SIDE * SIDE, p["hidden"], 10], p["seed"])
        attack = nets.attacker("pgd", p["eps"], p["alpha"], p["pgd_steps"], p["norm"],
                               clip=(0.0, 1.0))
        nets.train(robust, X, y, Xt, yt, attack=attack, **kw)
        f, g = accuracy_curves(robust, Xt, yt)
        curves["FGSM, adv. trained"], curves["PGD, adv. trained"] = f, g
    return DigitNets(X, y, Xt, yt, standard, robust, curves)


class DigitsView(Stepper):
    """One test digit the shown network gets right, attacked step by step (clipped to [0, 1])."""

    def __init__(self, params: dict, data: DigitNets | None = None) -> None:
        self.params = p = dict(params)
        self.data = d = data if data is not None else make_digit_nets(p)
        self.model = d.robust if d.robust is not None else d.standard
        pred = logits_of(self.model, d.Xt).argmax(axis=1)
        right = np.flatnonzero(pred == d.yt)
        pool = right if right.size else np.arange(len(d.yt))
        self.index = int(pool[p["point"] % len(pool)])
        x, y = d.Xt[self.index][None], d.yt[self.index:self.index + 1]
        self.label = int(y[0])
        if p["attack"] == "fgsm":
            path = [x, fgsm(self.model, x, y, p["eps"], clip=(0.0, 1.0))]
        else:
            path, _ = pgd_path(self.model, x, y, p["eps"], p["alpha"], p["pgd_steps"],
                               norm=p["norm"], clip=(0.0, 1.0))
        self.images = np.array([q[0] for q in path])
        self.probs = softmax(logits_of(self.model, self.images))
        wrong = np.flatnonzero(self.probs[1:].argmax(axis=1) != self.label)
        self.crossing = int(wrong[0]) + 1 if wrong.size else 0
        self.n_states = len(self.images)
        f, g = accuracy_curves(self.model, d.Xt, d.yt, np.array([p["eps"]]))
        self.acc_fgsm, self.acc_pgd = float(f[0]), float(g[0])
        self.clean = accuracy(self.model, d.Xt, d.yt)
        self._start_history()

    # --- protocol ---------------------------------------------------------------------
    def status(self) -> str:
        k = self.k
        pred = int(self.probs[k].argmax())
        return (f"{self.params['attack'].upper()} {k}/{self.n_states - 1} · {self.label}→{pred} "
                f"({self.probs[k, pred]:.0%})" + (" fooled" if pred != self.label else ""))

    def pytorch_code(self) -> str:
        return code.digits(self.params)

    def question(self) -> tuple[str, float, float, str]:
        p = self.params
        which = "adversarially trained" if self.data.robust is not None else "trained"
        return (f"Predict the accuracy (%) of the {which} network on the test digits under "
                f"PGD with ε = {p['eps']:g} (clean: {self.clean:.0%})",
                round(100 * self.acc_pgd, 1), 10.0,
                f"PGD ({p['pgd_steps']} steps of α = {p['alpha']:g}) leaves "
                f"{self.acc_pgd:.0%}; FGSM leaves {self.acc_fgsm:.0%}.")

    # --- text and drawing --------------------------------------------------------------
    def lines(self) -> list[str]:
        k, p = self.k, self.params
        q0, qk = self.probs[0], self.probs[k]
        pred = int(qk.argmax())
        delta = self.images[k] - self.images[0]
        mark = "✗ fooled" if pred != self.label else "✓ still right"
        which = "adv. trained" if self.data.robust is not None else "standard"
        return [
            f"{which} net, test digit #{self.index}",
            f"x: class {int(q0.argmax())} ({q0.max():.0%})   x̃: class {pred} ({qk[pred]:.0%}) {mark}",
            f"ε = {p['eps']:g} (L{'∞' if p['norm'] == 'inf' else '2'}), step {k}: "
            f"‖δ‖∞ = {np.abs(delta).max():.3f}, ‖δ‖₂ = {np.linalg.norm(delta):.3f}",
            f"test accuracy: clean {self.clean:.0%} · FGSM {self.acc_fgsm:.0%} · "
            f"PGD {self.acc_pgd:.0%}" if self.revealed else
            f"test accuracy: clean {self.clean:.0%} · under attack: predict first",
        ]

    def pixels(self, scale: int) -> tuple[np.ndarray, list[int]]:
        """x, δ amplified to ±ε, x̃ side by side (each SIDE·scale pixels, 2-pixel gaps);
        returns (image, the left column of each panel)."""
        k = self.k
        x, adv = self.images[0].reshape(SIDE, SIDE), self.images[k].reshape(SIDE, SIDE)
        eps = max(self.params["eps"], 1e-12)
        panels = [colormap(x, 0.0, 1.0, "gray"),
                  colormap(np.clip((adv - x) / eps, -1, 1), -1.0, 1.0, "diverging"),
                  colormap(adv, 0.0, 1.0, "gray")]
        big = [np.repeat(np.repeat(a, scale, axis=0), scale, axis=1) for a in panels]
        gap = np.zeros((SIDE * scale, 2, 3), dtype=np.uint8)
        image = np.concatenate([big[0], gap, big[1], gap, big[2]], axis=1)
        w = SIDE * scale
        return image, [0, w + 2, 2 * w + 4]

    def curve_series(self) -> dict[str, np.ndarray]:
        return self.data.curves
