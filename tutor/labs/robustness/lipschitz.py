"""The lipschitz view: power iteration on each layer, the product bound against the largest
local Jacobian norm found, and what spectral normalization does."""

from __future__ import annotations

import numpy as np

from core.robust import local_lipschitz, power_iteration
from tutor.labs.robustness import code, nets
from tutor.labs.robustness.common import Plane, Stepper, grid, make_plane, region_pixels
from tutor.labs.robustness.plane import GLYPHS

#: Points where the local constant ‖J(x)‖₂ is measured: the test set and a GRID x GRID grid.
GRID = 30


class LipschitzView(Stepper):
    """State k: k power iterations done on every layer (k = 0: none yet)."""

    def __init__(self, params: dict, planes: dict[bool, Plane] | None = None) -> None:
        self.params = p = dict(params)
        if planes is None:
            planes = {flag: make_plane(p, spectral=flag, adversarial=False) for flag in (False, True)}
        self.planes = planes
        self.plane = planes[p["spectral"]]
        model = self.plane.model
        self.weights = [np.array(m.weight.data) for m in nets.linears(model)]
        self.estimates = [power_iteration(W, iters=p["power_iters"], seed=i)[0]
                          for i, W in enumerate(self.weights)]
        self.true = [float(np.linalg.svd(W, compute_uv=False)[0]) for W in self.weights]
        self.bound = float(np.prod(self.true))
        pts, _, _ = grid(self.plane.bounds, GRID, GRID)
        pts = np.concatenate([self.plane.Xt, pts])
        local = local_lipschitz(model, pts)
        self.found = float(local.max())
        self.n_points = len(pts)
        self.accuracy = {flag: pl.log.test_acc[-1] for flag, pl in planes.items()}
        self.bounds_of = {flag: float(np.prod([np.linalg.svd(np.array(m.weight.data),
                                                             compute_uv=False)[0]
                                               for m in nets.linears(pl.model)]))
                          for flag, pl in planes.items()}
        self.n_states = p["power_iters"] + 1
        self._pixels: dict = {}
        self._start_history()

    def sigma(self, layer: int, k: int | None = None) -> float:
        """The estimate of layer `layer` after k iterations (NaN at k = 0)."""
        k = self.k if k is None else k
        return float(self.estimates[layer][k - 1]) if k > 0 else float("nan")

    # --- protocol ---------------------------------------------------------------------
    def product(self) -> str:
        """Π σ_k of the current estimates ("—" before the first iteration)."""
        if self.k == 0:
            return "—"
        return f"{np.prod([self.sigma(i) for i in range(len(self.weights))]):.4f}"

    def status(self) -> str:
        return f"k = {self.k}/{self.n_states - 1} · Π σ_k = {self.product()}"

    def pytorch_code(self) -> str:
        return code.lipschitz(self.params)

    def question(self) -> tuple[str, float, float, str]:
        ratio = self.bound / self.found
        return ("The bound multiplies each layer's σ(W). Predict how many times larger than "
                "the largest local ‖J(x)‖₂ it is (±50%)", round(ratio, 2), 0.5 * ratio,
                f"Π σ = {self.bound:.3f}, largest ‖J(x)‖₂ = {self.found:.3f}: {ratio:.2f}×. "
                "The worst directions of the layers do not line up.")

    # --- text and drawing --------------------------------------------------------------
    def lines(self) -> list[str]:
        k = self.k
        rows = [f"power iteration k = {k}/{self.n_states - 1}"
                + (" · spectral norm." if self.params["spectral"] else ""),
                "layer  W       σ_k        σ (SVD)"]
        for i, W in enumerate(self.weights):
            est = f"{self.sigma(i):<9.5f}" if k else "—        "
            rows.append(f"{i + 1:<6} {W.shape[0]}×{W.shape[1]:<5} {est}  {self.true[i]:.5f}")
        rows += [
            f"bound Π σ_k = {self.product()}  (exact Π σ = {self.bound:.4f})",
            f"largest ‖J(x)‖₂ at {self.n_points} points = "
            + (f"{self.found:.4f}" if self.revealed else "? (predict first)"),
            f"the bound is {self.bound / self.found:.2f}× the largest found"
            if self.revealed else "",
            f"test accuracy: plain {self.accuracy[False]:.0%} (L ≤ {self.bounds_of[False]:.2f})",
            f"  spectral norm. {self.accuracy[True]:.0%} (L ≤ {self.bounds_of[True]:.2f})",
        ]
        return rows

    def series(self) -> list[tuple[str, np.ndarray]]:
        """(name, σ_1 .. σ_k) of each layer, for the chart."""
        return [(f"layer {i + 1}", est[: self.k]) for i, est in enumerate(self.estimates)]

    def pixels(self, width: int, height: int) -> np.ndarray:
        key = (width, height)
        if key not in self._pixels:
            self._pixels = {key: region_pixels(self.plane.model, self.plane.bounds, width, height)}
        return self._pixels[key]

    def overlay(self, width: int, height: int) -> dict:
        _, scale, origin = grid(self.plane.bounds, width, height)
        pl = self.plane
        cols = np.floor((pl.Xt[:, 0] - origin[0]) / scale).astype(int)
        rows = np.floor((origin[1] - pl.Xt[:, 1]) / scale).astype(int) // 2
        return {(r, c): (GLYPHS[lab], "#202020" if lab else "#f0f0f0")
                for r, c, lab in zip(rows.tolist(), cols.tolist(), pl.yt.tolist())
                if 0 <= r < (height + 1) // 2 and 0 <= c < width}
