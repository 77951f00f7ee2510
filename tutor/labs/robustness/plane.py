"""The plane view: a 2-D classifier, one test point, its ε-ball and the attack's steps."""

from __future__ import annotations

import math

import numpy as np

from core.robust import (
    certified_radius,
    fgsm,
    lipschitz_upper_bound,
    logits_of,
    margins,
    per_sample_losses,
    pgd_path,
)
from tutor.labs.robustness import code
from tutor.labs.robustness.common import (
    Plane,
    Stepper,
    boundary_distance,
    grid,
    make_plane,
    region_pixels,
)
from tutor.widgets.braille import BrailleCanvas

BALL_COLOR = "#ffd700"
CERT_COLOR = "#00e0a0"
PATH_COLOR = "#ff4fd8"
GLYPHS = "ox"


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class PlaneView(Stepper):
    """One correctly classified test point attacked step by step until it crosses the boundary.

    State k is the k-th iterate of the attack (FGSM: 0 and 1; PGD: up to pgd_steps, stopping
    at the first iterate the network misclassifies).
    """

    def __init__(self, params: dict, plane: Plane | None = None) -> None:
        self.params = p = dict(params)
        self.plane = plane if plane is not None else make_plane(p)
        m, pl = self.plane.model, self.plane
        z = logits_of(m, pl.Xt)
        right = np.flatnonzero(z.argmax(axis=1) == pl.yt)
        pool = right if right.size else np.arange(len(pl.yt))
        self.index = int(pool[p["point"] % len(pool)])
        self.x0 = pl.Xt[self.index]
        self.label = int(pl.yt[self.index])
        x, y = self.x0[None], np.array([self.label])
        if p["attack"] == "fgsm":
            path = [x, fgsm(m, x, y, p["eps"])]
        else:
            path, _ = pgd_path(m, x, y, p["eps"], p["alpha"], p["pgd_steps"], norm=p["norm"])
        points = np.array([q[0] for q in path])
        zs = logits_of(m, points)
        preds = zs.argmax(axis=1)
        wrong = np.flatnonzero(preds[1:] != self.label)
        self.crossing = int(wrong[0]) + 1 if wrong.size else 0
        stop = self.crossing + 1 if self.crossing else len(points)
        self.points, self.logits = points[:stop], zs[:stop]
        self.losses = per_sample_losses(self.logits, np.full(stop, self.label))
        self.n_states = stop
        self.bound = lipschitz_upper_bound(m)
        z0 = self.logits[:1]
        self.margin = float(margins(z0, y)[0])
        self.radius = float(certified_radius(z0, y, self.bound)[0])
        span = float(np.max(pl.bounds[1] - pl.bounds[0]))
        self.distance = boundary_distance(m, self.x0, self.label, span)
        self._pixels: dict[tuple[int, int], np.ndarray] = {}
        self._start_history()

    # --- protocol ---------------------------------------------------------------------
    def status(self) -> str:
        k, p = self.k, self.params
        pred = int(self.logits[k].argmax())
        total = 1 if p["attack"] == "fgsm" else p["pgd_steps"]
        return (f"{p['attack'].upper()} {k}/{total} · loss {self.losses[k]:.3f} · class "
                f"{self.label}→{pred}" + (" fooled" if pred != self.label else ""))

    def pytorch_code(self) -> str:
        return code.plane(self.params)

    def question(self) -> tuple[str, float, float, str] | None:
        """(prompt, answer, tolerance, explanation) asked before the first step."""
        p = self.params
        n = 1 if p["attack"] == "fgsm" else p["pgd_steps"]
        return ("After how many steps does the point cross the boundary? (0 = never, "
                f"within {n})", float(self.crossing), 0.0,
                f"It crosses at step {self.crossing}." if self.crossing else
                "It never crosses: the ball does not reach the boundary (or the attack misses it).")

    # --- text and drawing --------------------------------------------------------------
    def lines(self) -> list[str]:
        k, p = self.k, self.params
        prob = softmax(self.logits[k])
        pred = int(prob.argmax())
        ball = "L∞ (a square)" if p["norm"] == "inf" else "L2 (a disc)"
        mark = "✗ fooled" if pred != self.label else "✓ still right"
        step = f"α = {p['alpha']:g}, {p['pgd_steps']} steps" if p["attack"] == "pgd" else "one step of ε"
        dist = "none found" if math.isinf(self.distance) else f"{self.distance:.3f}"
        safe = self.radius if p["norm"] == "2" else self.radius / math.sqrt(2)
        return [
            f"test point #{self.index}: class {self.label} ({GLYPHS[self.label]})",
            f"ε = {p['eps']:g} in {ball}",
            f"{p['attack'].upper()}: {step}",
            f"step {k}: loss {self.losses[0]:.3f} → {self.losses[k]:.3f}",
            f"P(class {self.label}) = {prob[self.label]:.3f}  {mark}",
            f"moved ‖δ‖∞ = {np.abs(self.points[k] - self.x0).max():.3f}, "
            f"‖δ‖₂ = {np.linalg.norm(self.points[k] - self.x0):.3f}",
            "",
            f"margin m = f_y − f_other = {self.margin:.3f}",
            f"bound L ≤ Π σ(W) = {self.bound:.2f}",
            f"certified radius m/(√2 L) = {self.radius:.4f}",
            f"so no attack with ε ≤ {safe:.4f} can succeed",
            f"nearest boundary (L2) = {dist}",
        ]

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The region drawn: all the data, or (zoom) a square around the point that holds
        the ε-ball, the whole path and the nearest boundary point's distance."""
        if not self.params["zoom"]:
            return self.plane.bounds
        reach = np.abs(self.points - self.x0).max() if len(self.points) else 0.0
        near = self.distance if math.isfinite(self.distance) else 0.0
        half = 1.6 * max(self.params["eps"], reach, near, 1e-3)
        return self.x0 - half, self.x0 + half

    def pixels(self, width: int, height: int) -> np.ndarray:
        key = (width, height)
        if key not in self._pixels:
            self._pixels = {key: region_pixels(self.plane.model, self.bounds, width, height)}
        return self._pixels[key]

    def overlay(self, width: int, height: int) -> dict:
        """Test points (o, x), the ε-ball, the certified disc and the path up to step k."""
        _, scale, origin = grid(self.bounds, width, height)
        rows = (height + 1) // 2
        canvas = BrailleCanvas(width, rows)

        def dots(xy):
            xy = np.atleast_2d(xy)
            return 2 * (xy[:, 0] - origin[0]) / scale, 2 * (origin[1] - xy[:, 1]) / scale

        out: dict = {}
        pl = self.plane
        cols = np.floor((pl.Xt[:, 0] - origin[0]) / scale).astype(int)
        rws = np.floor((origin[1] - pl.Xt[:, 1]) / scale).astype(int) // 2
        for r, c, lab in zip(rws.tolist(), cols.tolist(), pl.yt.tolist()):
            if 0 <= r < rows and 0 <= c < width:
                out[(r, c)] = (GLYPHS[lab], "#202020" if lab else "#f0f0f0")
        eps = self.params["eps"]
        t = np.linspace(0, 2 * np.pi, 96)
        if self.params["norm"] == "inf":
            sq = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]) * eps + self.x0
            canvas.polyline(*dots(sq), color=BALL_COLOR)
        else:
            canvas.polyline(*dots(self.x0 + eps * np.column_stack([np.cos(t), np.sin(t)])),
                            color=BALL_COLOR)
        if self.radius > 0:
            circle = self.x0 + self.radius * np.column_stack([np.cos(t), np.sin(t)])
            canvas.polyline(*dots(circle), color=CERT_COLOR)
        if self.k > 0:
            canvas.polyline(*dots(self.points[: self.k + 1]), color=PATH_COLOR)
        out.update(canvas.cells())
        for i, glyph in ((0, "◆"), (self.k, "●")):
            dx, dy = dots(self.points[i])
            r, c = int(dy[0] // 4), int(dx[0] // 2)
            if 0 <= r < rows and 0 <= c < width:
                out[(r, c)] = (glyph, PATH_COLOR if i else BALL_COLOR)
        return out
