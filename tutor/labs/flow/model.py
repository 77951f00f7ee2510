"""The flow lab's state without Textual: the 1-D change of variables and a 2-D flow's training."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.generative import (AffineCoupling, Flow, FlowTrainer, Monotone1D, PlanarFlow,
                             grad_log_density_2d, log_density_2d, sample_2d)
from core.generative.flows import standard_normal_log_prob
from tutor.labs.flow import params as P
from tutor.labs.flow.code import pytorch_code
from tutor.history import CheckpointHistory, PicturesAhead
from tutor.labs.params import ParamError
from tutor.labs.planemap import coarse_values, plane_grid, to_dots
from tutor.widgets.braille import BrailleCanvas
from tutor.widgets.colormap import colormap
from tutor.widgets.palette import BRIGHT_PINK

LOG_2PI = math.log(2 * math.pi)
#: Base samples drawn on the map (fixed noise: what moves is the flow).
N_SHOWN = 400
#: Grid lines of the warped-grid view: from -GRID to GRID in z-space.
#: −log p is reported on N_EVAL data points drawn once (an unbiased estimate, cheap per step).
N_EVAL = 256
GRID = 3.0
GRID_LINES = 13
GRID_POINTS = 80
LEVELS = 48
#: Colours of the 2-D map: the flow's samples, the data points, the warped grid.
SAMPLE_COLOR = BRIGHT_PINK
DATA_COLOR = "#f8f8f2"
GRID_COLOR = "#6fa8dc"


def parse_widths(value) -> list[int]:
    if isinstance(value, str):
        try:
            value = [float(p) for p in value.replace(",", " ").split()]
        except ValueError:
            raise ValueError("hidden widths must be whole numbers, e.g. 16, 16") from None
    widths = []
    for w in value:
        if not float(w).is_integer() or not 1 <= w <= 64:
            raise ValueError(f"each hidden width must be a whole number from 1 to 64; got {w:g}")
        widths.append(int(w))
    if not widths or len(widths) > 3:
        raise ValueError(f"give 1 to 3 hidden widths; got {len(widths)}")
    return widths


# --- one dimension ------------------------------------------------------------------------------
class ChangeOfVariables:
    """x = f_t(z) = (1 − t) z + t f(z), t from 0 (identity) to 1 in `morph_steps` steps.

    A mix of increasing maps is increasing, so every f_t is a flow; the density of x is
    p_X(x) = p_Z(z) / f_t'(z) at z = f_t⁻¹(x)."""

    def __init__(self, params: dict) -> None:
        self.f = Monotone1D(params["transform"], params["a"])
        self.z0 = float(params["z0"])
        self.n = int(params["morph_steps"])
        self.k = 0
        self._curves: dict[tuple[int, int], tuple] = {}  # (k, n) -> curves: f and t are fixed

    @property
    def t(self) -> float:
        return self.k / self.n

    def forward(self, z):
        z = np.asarray(z, dtype=np.float64)
        return (1 - self.t) * z + self.t * self.f(z)

    def derivative(self, z):
        return (1 - self.t) + self.t * self.f.derivative(z)

    def inverse(self, x):
        """Bisection on the increasing f_t (closed forms differ per transform and t)."""
        x = np.asarray(x, dtype=np.float64)
        lo, hi = np.full_like(x, -12.0), np.full_like(x, 12.0)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            above = self.forward(mid) > x
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        z = 0.5 * (lo + hi)
        ok = (x > self.forward(-12.0)) & (x < self.forward(12.0))
        return np.where(ok, z, np.nan)

    def density(self, x):
        z = self.inverse(x)
        ok = np.isfinite(z)
        zz = np.where(ok, z, 0.0)
        p = np.exp(-0.5 * zz * zz) / math.sqrt(2 * math.pi) / self.derivative(zz)
        return np.where(ok, p, 0.0)

    def at_point(self) -> dict:
        """The numbers at z₀: x₀, |det| = f_t'(z₀), p_Z(z₀), p_X(x₀) and their logs."""
        z0 = self.z0
        det = float(self.derivative(z0))
        pz = math.exp(-0.5 * z0 * z0) / math.sqrt(2 * math.pi)
        return {"z0": z0, "x0": float(self.forward(z0)), "det": det, "p_z": pz,
                "p_x": pz / det, "log_det": math.log(det)}

    def final(self) -> dict:
        """The same numbers for the full transform f (t = 1): the prediction's answer."""
        det = float(self.f.derivative(self.z0))
        pz = math.exp(-0.5 * self.z0**2) / math.sqrt(2 * math.pi)
        return {"x0": float(self.f(self.z0)), "det": det, "p_x": pz / det}

    def curves(self, n: int = 161):
        """(z grid, p_Z, x grid, p_X): the base density and the pushed-forward one (computed
        once per step: a step back or a replay shows the very same arrays)."""
        kept = self._curves.get((self.k, n))
        if kept is None:
            kept = self._curves[(self.k, n)] = self._compute_curves(n)
        return kept

    def _compute_curves(self, n: int):
        z = np.linspace(-3.5, 3.5, n)
        pz = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        lo, hi = self.forward(-3.5), self.forward(3.5)
        x = np.linspace(float(lo), float(hi), n)
        return z, pz, x, self.density(x)


# --- two dimensions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowState:
    step: int
    checkpoint: tuple
    loss: float          # the batch loss before the step (NaN at step 0)
    eval_loss: float     # −mean log p on N_EVAL data points (coupling), KL on fixed z (planar)
    log_dets: tuple      # mean log |det| of each layer on the shown samples


def build_flow(params: dict) -> Flow:
    d, k = 2, params["layers"]
    if params["flow"] == "planar":
        return Flow([PlanarFlow(d, seed=params["seed"] * 100 + i) for i in range(k)])
    hidden = parse_widths(params["hidden"])
    return Flow([AffineCoupling(d, hidden, [1, 0] if i % 2 == 0 else [0, 1],
                                seed=params["seed"] * 100 + i) for i in range(k)])


@dataclass(frozen=True)
class FlowPicture:
    """What the 2-D map shows of one state at one size: the density (or the warped grid) as
    pixels and the points over it as a braille overlay. Computed ahead in the lab's worker
    while it plays, else when drawn."""

    key: tuple         # (width, rows, grid, layer)
    pixels: np.ndarray
    overlay: dict


class FlowTraining(PicturesAhead, CheckpointHistory):
    """A 2-D flow, its trainer, and the history of its states."""

    def __init__(self, params: dict) -> None:
        p = params
        if p["flow"] == "planar" and p["dataset"] not in P.TARGETS:
            raise ValueError(f"a planar flow has no inverse, so it is fitted to a known density: "
                             f"choose dataset ring or banana, not {p['dataset']}")
        self.params = p
        self.planar = p["flow"] == "planar"
        self.data = sample_2d(p["dataset"], p["n_points"], p["seed"])
        pick = np.random.default_rng(p["seed"] + 5).choice(len(self.data), N_EVAL, replace=False)
        self.eval_data = self.data[np.sort(pick)]
        self.flow = build_flow(p)
        name = p["dataset"]
        self.target = ((lambda x: log_density_2d(name, x), lambda x: grad_log_density_2d(name, x))
                       if self.planar else None)
        self.trainer = self._trainer(self.flow)
        self.z_shown = np.random.default_rng(p["seed"] + 11).standard_normal((N_SHOWN, 2))
        self.message = ""
        self.states = [self._state(0, math.nan)]
        self.index = 0
        lo, hi = self.data.min(axis=0), self.data.max(axis=0)
        span = np.maximum(hi - lo, 1.0)
        self.bounds = (lo - 0.2 * span, hi + 0.2 * span)
        #: Pictures computed ahead: id(state) -> (state, FlowPicture) (the state kept, so its
        #: id is not reused).
        self.pictures: dict[int, tuple[FlowState, FlowPicture]] = {}
        self._spare: list[FlowTraining] = []  # copies for `compute_ahead`, built once

    def _trainer(self, flow: Flow) -> FlowTrainer:
        p = self.params
        if self.planar:
            return FlowTrainer(flow, target=self.target, lr=p["lr"], batch_size=p["batch_size"],
                               seed=p["seed"])
        return FlowTrainer(flow, data=self.data, lr=p["lr"], batch_size=p["batch_size"],
                           seed=p["seed"])

    def _state(self, step: int, loss: float) -> FlowState:
        xs, lds = self.flow.forward_layers(self.z_shown)
        if self.planar:
            log_q = standard_normal_log_prob(self.z_shown) - np.sum(lds, axis=0)
            ev = float((log_q - self.target[0](xs[-1])).mean())
        else:
            ev = float(-self.flow.log_prob(self.eval_data).mean())
        return FlowState(step, self.trainer.checkpoint(), loss, ev,
                         tuple(float(ld.mean()) for ld in lds))

    def restore_checkpoint(self, checkpoint) -> None:
        self.trainer.restore(checkpoint)

    def step(self) -> bool:
        if self.index + 1 < len(self.states):
            self.index += 1
            self._sync()
            return True
        if self.state.step >= self.params["max_steps"]:
            self.message = f"reached max_steps = {self.params['max_steps']}"
            return False
        self.trainer.restore(self.state.checkpoint)
        loss = self.trainer.step()
        if not math.isfinite(loss) or not np.all(np.isfinite(self.flow.theta)):
            self._sync()
            self.message = "diverged: the loss became NaN or infinite (try a smaller lr)"
            return False
        self.states.append(self._state(self.state.step + 1, loss))
        self.index += 1
        self.message = ""
        return True

    def run(self, n: int, cancelled=lambda: False) -> list[FlowState]:
        """(For a worker.) Up to n new states after the current one, on a copy of the flow."""
        copy = FlowTraining(self.params)
        copy.states = [self.state]
        copy.index = 0
        copy._sync()
        for _ in range(n):
            if cancelled() or not copy.step():
                break
        return copy.states[1:]

    @property
    def start(self) -> FlowState:
        """The state at step 0."""
        return self.states[0]

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, evaluated losses) of the states up to the current one."""
        states = self.states[: self.index + 1]
        return (np.array([st.step for st in states], dtype=np.float64),
                np.array([st.eval_loss for st in states]))

    # --- steps computed ahead (a worker, while the lab plays) ---------------------------------
    def ahead_tail(self) -> FlowState:
        """The history's last state: steps computed after it continue what is shown."""
        return self.states[-1]

    def compute_ahead(self, tail: FlowState, n: int, first: int, every: int,
                      size: tuple | None, cancelled=lambda: False) -> tuple[list, list]:
        """(A worker thread.) Up to `n` steps after `tail` on a copy of this training, and the
        pictures (`size`: (width, rows, grid, layer); None: none) of the states `first`,
        `first + every`, ... of them (those a playing lab draws). Nothing here changes: the
        lab adds them with `add_ahead` if `tail` is still the last state."""
        spare = self._spare
        try:  # a copy no other worker uses (list.pop and append are atomic)
            copy = spare.pop()
        except IndexError:
            copy = FlowTraining(self.params)
        copy.states, copy.index, copy.message = [tail], 0, ""
        copy._sync()
        pictures = []
        for i in range(n):
            if cancelled() or not copy.step():
                break
            if size is not None and i >= first and (i - first) % every == 0:
                pictures.append((copy.state, flow_picture(copy, *size)))
        spare.append(copy)
        return copy.states[1:], pictures

    def picture(self, width: int, rows: int, grid: bool, layer: int) -> FlowPicture:
        """The map of the current state at this size: the one computed ahead, else now."""
        kept = self.picture_ahead((width, rows, grid, layer))
        return kept if kept is not None else flow_picture(self, width, rows, grid, layer)

    # --- pictures ---
    def grid(self, width: int, height: int):
        return plane_grid(self.bounds, width, height)

    def density_values(self, width: int, height: int) -> np.ndarray:
        """(height, width) density on the map: the flow's p(x) (coupling) or the target's
        p(x) (planar, whose own density cannot be evaluated at a given x)."""
        logp = self.target[0] if self.planar else self.flow.log_prob
        return coarse_values(lambda pts: np.exp(logp(pts)), self.bounds, width, height)

    def samples(self) -> np.ndarray:
        return self.flow.forward(self.z_shown)[0]

    def warped(self, layer: int):
        """(grid lines after `layer` layers (list of (GRID_POINTS, 2) arrays), samples after it)."""
        t = np.linspace(-GRID, GRID, GRID_POINTS)
        ticks = np.linspace(-GRID, GRID, GRID_LINES)
        lines = [np.column_stack([np.full_like(t, c), t]) for c in ticks]
        lines += [np.column_stack([t, np.full_like(t, c)]) for c in ticks]
        pts = np.vstack(lines + [self.z_shown])
        xs, _ = self.flow.forward_layers(pts) if layer > 0 else ([pts], None)
        out = xs[min(layer, len(xs) - 1)]
        n = GRID_POINTS * len(lines)
        return [out[i: i + GRID_POINTS] for i in range(0, n, GRID_POINTS)], out[n:]


def flow_picture(tr: FlowTraining, width: int, rows: int, grid: bool, layer: int) -> FlowPicture:
    """The 2-D map of `tr` as it is, `width` x `rows` cells: the flow's density (coupling) or
    the target's (planar) with the data and the flow's samples, or the grid warped by the
    first `layer` layers with the samples after them."""
    h = 2 * rows
    canvas = BrailleCanvas(width, rows)

    def dots(x):
        return to_dots(x, tr.bounds, width, h)

    if grid:
        pixels = np.full((h, width, 3), 22, dtype=np.uint8)
        lines, samples = tr.warped(layer)
        for line in lines:
            canvas.polyline(*dots(line), GRID_COLOR)
    else:
        dens = tr.density_values(width, h)
        top = float(dens.max()) or 1.0
        pixels = colormap(np.round(dens / top * LEVELS) / LEVELS, 0.0, 1.0, "viridis")
        pixels = (pixels.astype(np.float64) * 0.75).astype(np.uint8)  # dots stay readable
        if not tr.planar:
            dx, dy = dots(tr.data[:300])
            canvas.lines(dx, dy, dx, dy, DATA_COLOR)
        samples = tr.samples()
    sx, sy = dots(samples)
    canvas.lines(sx, sy, sx, sy, SAMPLE_COLOR)
    return FlowPicture((width, rows, grid, layer), pixels, canvas.cells())


#: The settings of the 1-D view (changing them leaves the 2-D training alone).
ONE_D = ("transform", "a", "z0", "morph_steps")


class FlowModel:
    """The lab's model (protocol of `tutor.labs.kit.LabModel`) over the active view."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.view = self.params["view"]
        self.cov = ChangeOfVariables(self.params)
        self.training = FlowTraining(self.params)
        n_layers = self.params["layers"]
        layer = self.params["layer"]
        self.layer = n_layers if layer < 0 else min(layer, n_layers)

    @property
    def message(self) -> str:
        return self.training.message if self.view == "2d" else ""

    def step(self) -> bool:
        if self.view == "1d":
            if self.cov.k >= self.cov.n:
                return False
            self.cov.k += 1
            return True
        return self.training.step()

    def back(self) -> bool:
        if self.view == "1d":
            if self.cov.k == 0:
                return False
            self.cov.k -= 1
            return True
        return self.training.back()

    def reset(self) -> None:
        if self.view == "1d":
            self.cov.k = 0
        else:
            self.training.reset()

    def advance(self, n: int) -> int:
        taken = 0
        while taken < n and self.step():
            taken += 1
        return taken

    def status(self) -> str:
        if self.view == "1d":
            c = self.cov
            return f"t = {c.t:.2f} ({c.k}/{c.n}) · |det| at z₀ {c.at_point()['det']:.4g}"
        s = self.training.state
        what = "KL" if self.training.planar else "−log p"
        return f"step {s.step} · {what} {s.eval_loss:.3f}"

    def pytorch_code(self) -> str:
        return pytorch_code(self.params, self.view)

    def apply(self, name: str, value) -> str | None:
        """Change one setting; None if applied, else why it was refused (nothing changes).

        A 1-D setting rebuilds only the 1-D picture, `layer` only picks the grid's layer, any
        other setting rebuilds the 2-D flow from its seed."""
        if name not in P.PARAMS:
            return f"no parameter {name!r}"
        try:
            if name == "hidden":
                value = [float(w) for w in parse_widths(value)]
            else:
                value = P.PARAMS[name].check(name, value)
            params = {**self.params, name: value}
            if name in ONE_D:
                cov = ChangeOfVariables(params)
            elif name == "view":
                self.view = value
            elif name != "layer":
                training = FlowTraining(params)
        except (ParamError, ValueError) as exc:
            return str(exc)
        self.params = params
        if name in ONE_D:
            self.cov = cov
        elif name == "layer":
            self.layer = params["layers"] if value < 0 else min(value, params["layers"])
        elif name != "view":
            self.training = training
            self.layer = min(self.layer, params["layers"]) if params["layer"] >= 0 else params["layers"]
        return None


__all__ = ["FlowModel", "ChangeOfVariables", "FlowPicture", "FlowTraining", "LEVELS"]
