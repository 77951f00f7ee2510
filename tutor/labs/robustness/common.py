"""Shared by the lab's views: a step history over precomputed states, the 2-D data and net."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.nn import make_dataset, train_test_split
from core.robust import logits_of
from tutor.history import History, HistoryModel
from tutor.labs.robustness import nets
from tutor.labs.planemap import plane_grid as grid  # the plane the lab draws
from tutor.widgets.colormap import colormap

#: Probabilities are rounded to 1/LEVELS before colouring (steady pictures across CPUs).
LEVELS = 64


class Stepper(HistoryModel):
    """States 0 .. n_states − 1 walked with a History (step, back, reset, advance)."""

    n_states: int = 1
    #: Whether the answer to the view's prediction question may be shown (the UI sets it).
    revealed: bool = False

    def _start_history(self) -> None:
        self.history: History[int] = History(0, self._next, max_len=100_000)

    def _next(self, k: int) -> int | None:
        return k + 1 if k + 1 < self.n_states else None

    @property
    def k(self) -> int:
        return self.history.current


@dataclass
class Plane:
    """Two moons split into train and test, and an MLP 2-h-h-2 trained on them."""

    X: np.ndarray
    y: np.ndarray
    Xt: np.ndarray
    yt: np.ndarray
    model: object
    log: nets.TrainLog
    bounds: tuple[np.ndarray, np.ndarray]


def make_plane(params: dict, spectral: bool | None = None, adversarial: bool | None = None) -> Plane:
    """Train the 2-D network of `params` (the flags override spectral / adv_train)."""
    p = params
    spectral = p["spectral"] if spectral is None else spectral
    adversarial = p["adv_train"] if adversarial is None else adversarial
    X, y = make_dataset("moons", p["n_points"], p["noise"], p["seed"])
    X, y, Xt, yt = train_test_split(X, y, 0.25, p["seed"])
    model = nets.make_mlp([2, p["hidden"], p["hidden"], 2], p["seed"])
    attack = nets.attacker("pgd", p["eps"], p["alpha"], p["pgd_steps"], p["norm"]) if adversarial else None
    every = max(1, p["train_steps"] // 10)
    log = nets.train(model, X, y, Xt, yt, steps=p["train_steps"], lr=p["lr"], batch_size=32,
                     seed=p["seed"], attack=attack, spectral=spectral, every=every)
    lo = np.minimum(X.min(axis=0), Xt.min(axis=0))
    hi = np.maximum(X.max(axis=0), Xt.max(axis=0))
    pad = 0.15 * np.maximum(hi - lo, 1e-6)
    return Plane(X, y, Xt, yt, model, log, (lo - pad, hi + pad))


def region_pixels(model, bounds, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8: P(class 1) as a diverging heat map (white = the boundary)."""
    points, _, _ = grid(bounds, width, height)
    z = logits_of(model, points)
    p1 = 1.0 / (1.0 + np.exp(np.clip(z[:, 0] - z[:, 1], -500, 500)))
    p1 = np.round(p1 * LEVELS) / LEVELS
    return colormap(p1.reshape(height, width), 0.0, 1.0, "diverging")


def boundary_distance(model, x0: np.ndarray, label: int, radius: float,
                      directions: int = 360, samples: int = 64, refine: int = 18) -> float:
    """The L2 distance from x0 to the nearest point the model gives another class than
    `label`: each of `directions` rays is sampled at `samples` radii up to `radius`, then the
    first change on each ray is located by bisection (`refine` halvings). inf if none."""
    angles = np.linspace(0, 2 * np.pi, directions, endpoint=False)
    rays = np.column_stack([np.cos(angles), np.sin(angles)])
    radii = np.linspace(radius / samples, radius, samples)
    pts = x0[None, None, :] + radii[None, :, None] * rays[:, None, :]
    pred = logits_of(model, pts.reshape(-1, 2)).argmax(axis=1).reshape(directions, samples)
    wrong = pred != label
    hit = wrong.any(axis=1)
    if not hit.any():
        return float("inf")
    first = wrong[hit].argmax(axis=1)
    hi = radii[first]
    lo = np.where(first > 0, radii[np.maximum(first - 1, 0)], 0.0)
    rays = rays[hit]
    for _ in range(refine):
        mid = (lo + hi) / 2
        flipped = logits_of(model, x0 + mid[:, None] * rays).argmax(axis=1) != label
        hi = np.where(flipped, mid, hi)
        lo = np.where(flipped, lo, mid)
    return float(hi.min())
