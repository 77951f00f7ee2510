"""The optimizer race as plain state (no Textual): settings, one precomputed run per optimizer,
the step shown, and the convergence experiment of notes 3.4."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.optim import Run, least_squares, surface as make_surface, trace
from core.optim.convergence import noise_floor, running_min_sq, theorem_bound
from tutor.history import History, HistoryModel
from tutor.labs.optimizer.code import pytorch_convergence, pytorch_race
from tutor.labs.optimizer.params import CHARTS, MODES, OPTIMIZERS, SURFACES
from tutor.labs.optimizer.presets import SURFACE_LR

HYPER_KEYS = ("lr", "gamma", "beta1", "beta2", "eps")


@dataclass(frozen=True)
class Convergence:
    """SGD with a fixed and with a decreasing step size on the same stochastic problem."""

    fixed: Run
    decreasing: Run
    beta: float
    delta: float
    sigma2: float
    floor: float

    def bound(self, T: np.ndarray) -> np.ndarray:
        """The theorem's bound on E[min_{t<=T} ||grad L||^2]."""
        return theorem_bound(T, self.beta, self.delta, self.sigma2)


class RaceModel(HistoryModel):
    """Everything the optimizer lab shows, computed with core.optim.

    Each selected optimizer's whole run (`steps` steps) is computed at once in compiled code;
    the lab then plays it back by step number (`t`), so editing a hyperparameter redraws the
    race up to the current step at once. Stepping (`step`, `back`, `reset`, `advance`) walks
    the history of step numbers; `apply` changes a setting (see there).
    """

    def __init__(self, params: dict) -> None:
        self.steps = int(params["steps"])
        self.batch_size = int(params["batch_size"])
        self.noise = float(params["noise"])
        self.seed = int(params["seed"])
        self.chart = params["chart"]
        self.mode = params["mode"]
        self.selected = [o for o in OPTIMIZERS if o in params["optimizers"]] or ["sgd"]
        self.hyper: dict[str, dict[str, float]] = {}
        given_lr = dict(zip(params["optimizers"], params["lr"]))
        self.surface_name = params["surface"]
        self._shared = {k: float(params[k]) for k in ("gamma", "beta1", "beta2", "eps")}
        self._given_lr = given_lr
        self._reset_hyper()
        #: SGD's η in the convergence view (fixed, and η/√t for the decreasing run).
        self.conv_lr = float(given_lr.get("sgd", 0.05))
        focus = params.get("focus") or ""
        self.focus = focus if focus in OPTIMIZERS else self.selected[-1]
        self.surface = self._build_surface()
        start = params.get("start") or []
        self.start = (tuple(float(v) for v in start) if len(start) == 2
                      else tuple(self.surface.start))
        self.runs: dict[str, Run] = {}
        self.convergence: Convergence | None = None
        self.history = History(0, self._next_step, max_len=10_000)
        self.recompute()
        self.history.advance(min(int(params.get("at", 0)), self.steps))

    # --- settings ---------------------------------------------------------------------
    def _reset_hyper(self) -> None:
        lrs = SURFACE_LR[self.surface_name]
        for name in OPTIMIZERS:
            self.hyper[name] = {"lr": self._given_lr.get(name, lrs[name]), **self._shared}

    def _build_surface(self):
        if self.surface_name == "least_squares" or self.mode == "convergence":
            return least_squares(batch_size=self.batch_size, noise=self.noise, seed=self.seed)
        return make_surface(self.surface_name)

    def _next_step(self, t: int) -> int | None:
        return t + 1 if t < self.steps else None

    @property
    def t(self) -> int:
        """The step shown (0 = the start point)."""
        return self.history.index

    def status(self) -> str:
        return f"step {self.t}/{self.steps}"

    def pytorch_code(self) -> str:
        if self.mode == "convergence":
            return pytorch_convergence(self)
        return pytorch_race(self)

    def apply(self, name: str, value) -> str | None:
        """Change one setting: None when applied, else why not (the race is kept as it was).

        "mode", "surface", "chart", "focus" (the optimizer shown), "optimizers" (the race),
        "start" ((x, y), kept inside the map), "batch_size", and the focused optimizer's
        hyperparameters "lr", "gamma", "beta1", "beta2", "eps" (in the convergence view,
        "lr" is SGD's η there).
        """
        try:
            if name == "mode":
                if value not in MODES:
                    raise ValueError(f"unknown view {value!r}")
                self.set_mode(value)
            elif name == "surface":
                self.set_surface(value)
            elif name == "chart":
                if value not in CHARTS:
                    raise ValueError(f"unknown chart {value!r}")
                self.chart = value
            elif name == "focus":
                if value not in OPTIMIZERS:
                    raise ValueError(f"unknown optimizer {value!r}")
                self.focus = value
            elif name == "optimizers":
                self._set_race(list(value))
            elif name == "start":
                x, y = value
                self.set_start(x, y)
            elif name == "batch_size":
                self.set_batch_size(value)
            elif name in HYPER_KEYS:
                self.set_hyper(self.focus, name, value)
            else:
                raise ValueError(f"the optimizer lab has no setting {name!r}")
        except ValueError as exc:
            return str(exc)
        return None

    def _set_race(self, names: list[str]) -> None:
        """Race `names` (in the legend's order): runs are computed for the new ones only."""
        unknown = [n for n in names if n not in OPTIMIZERS]
        if unknown:
            raise ValueError(f"unknown optimizer {unknown[0]!r}")
        if not names:
            if len(self.selected) == 1:
                raise ValueError(f"{self.selected[0]} is the only optimizer in the race: "
                                 "add another first")
            raise ValueError("the race needs at least one optimizer")
        added = [n for n in names if n not in self.selected]
        for gone in set(self.selected) - set(names):
            self.runs.pop(gone, None)
        self.selected = [o for o in OPTIMIZERS if o in names]
        if added:
            self.recompute(added)

    def set_surface(self, name: str) -> None:
        """Switch surface: its own start point and step sizes that suit it."""
        if name not in SURFACES:
            raise ValueError(f"unknown surface {name!r}")
        self.surface_name = name
        self._race_start = None  # a new surface's race starts from its own point
        self._given_lr = {}
        self._reset_hyper()
        self.surface = self._build_surface()
        self.start = tuple(self.surface.start)
        self.recompute()

    def set_mode(self, mode: str) -> None:
        """Switch view. The convergence view starts from its least-squares point; back in the
        race, the race starts where it did (it came back from the convergence view's point)."""
        if mode == "convergence" and self.mode != "convergence":
            self._race_start = self.start
        self.mode = mode
        self.surface = self._build_surface()
        if self.mode == "convergence" or self.surface_name == "least_squares":
            self.start = tuple(self.surface.start)
        else:
            remembered = getattr(self, "_race_start", None)
            self.start = remembered if remembered is not None else tuple(self.surface.start)
        self.recompute()

    def set_hyper(self, name: str, key: str, value: float) -> None:
        """Change one hyperparameter of one optimizer and rerun it (ValueError if invalid)."""
        if key not in HYPER_KEYS:
            raise ValueError(f"unknown hyperparameter {key!r}")
        if self.mode == "convergence":
            if key == "lr":
                old, self.conv_lr = self.conv_lr, float(value)
                try:
                    self.recompute()
                except ValueError:
                    self.conv_lr = old
                    raise
            return
        old = self.hyper[name][key]
        self.hyper[name][key] = float(value)
        try:
            self.recompute([name])
        except ValueError:
            self.hyper[name][key] = old
            raise

    def set_batch_size(self, b: int) -> None:
        self.batch_size = int(b)
        self.surface = self._build_surface()
        self.recompute()

    def set_start(self, x: float, y: float) -> None:
        (x0, x1), (y0, y1) = self.surface.bounds
        self.start = (min(max(float(x), x0), x1), min(max(float(y), y0), y1))
        self.recompute()

    def nudged_start(self, dx: int, dy: int) -> tuple[float, float]:
        """The start moved by 1/40 of the window per key press (before it is kept inside)."""
        (x0, x1), (y0, y1) = self.surface.bounds
        return self.start[0] + dx * (x1 - x0) / 40, self.start[1] + dy * (y1 - y0) / 40

    def nudge_start(self, dx: int, dy: int) -> None:
        """Move the start by 1/40 of the window per key press."""
        self.set_start(*self.nudged_start(dx, dy))

    def toggled(self, name: str) -> list[str]:
        """The race with `name` taken out, or added if it is not in."""
        if name in self.selected:
            return [o for o in self.selected if o != name]
        return self.selected + [name]

    def toggle(self, name: str) -> bool:
        """Add or remove `name` from the race (at least one stays); True when it is now in."""
        self.apply("optimizers", self.toggled(name))
        return name in self.selected

    def next_focus(self) -> str:
        """The optimizer after the focused one (in the legend's order, round)."""
        order = list(OPTIMIZERS)
        return order[(order.index(self.focus) + 1) % len(order)]

    def cycle_focus(self) -> str:
        self.focus = self.next_focus()
        return self.focus

    # --- computing --------------------------------------------------------------------
    def recompute(self, names: list[str] | None = None) -> None:
        """Run the selected optimizers (or just `names`) for `steps` steps from the start."""
        if self.mode == "convergence":
            self._recompute_convergence()
            return
        for name in names or self.selected:
            if name in self.selected:
                self.runs[name] = trace(name, self.surface, self.start, self.steps,
                                        **self.hyper[name])

    def _recompute_convergence(self) -> None:
        s = self.surface
        lr = self.conv_lr
        fixed = trace("sgd", s, self.start, self.steps, lr=lr)
        decreasing = trace("sgd", s, self.start, self.steps, lr=lr, schedule="inv_sqrt")
        best = np.array(s.minima[0])
        beta = s.smoothness()
        sigma2 = s.noise_variance(best)
        delta = s.f(np.array(self.start)) - s.f(best)
        self.convergence = Convergence(fixed, decreasing, beta, delta, sigma2,
                                       noise_floor(lr, beta, np.sqrt(sigma2)))

    # --- reading ----------------------------------------------------------------------
    #: The race's finish line: L(θₜ) − L(θ*) below this fraction of its start value.
    FINISH = 0.1

    def finish_steps(self) -> dict[str, int]:
        """For each selected optimizer whose run crosses the finish line, the first step where
        its loss gap L(θₜ) − L(θ*) is below FINISH times its start value (90 % of the way)."""
        best_value = float(self.surface.f(np.array(self.surface.minima[0])))
        steps = {}
        for name in self.selected:
            run = self.runs.get(name)
            if run is None:
                continue
            gap = run.losses - best_value
            below = np.flatnonzero(gap < self.FINISH * gap[0])
            if below.size:
                steps[name] = int(below[0])
        return steps

    def first_down(self) -> tuple[int, str, int] | None:
        """The race's answer: (1-based place in the legend, name, step) of the optimizer that
        first gets 90 % of the way down, or None when none does or two tie."""
        steps = self.finish_steps()
        if not steps:
            return None
        name = min(steps, key=steps.get)
        if list(steps.values()).count(steps[name]) > 1:
            return None
        return self.selected.index(name) + 1, name, steps[name]

    def index(self, name: str, t: int | None = None) -> int:
        """The row of `name`'s run shown at step t (its last row once it stopped)."""
        t = self.t if t is None else t
        return min(t, self.runs[name].thetas.shape[0] - 1)

    def position(self, name: str, t: int | None = None) -> np.ndarray:
        return self.runs[name].thetas[self.index(name, t)]

    def has_diverged(self, name: str, t: int | None = None) -> bool:
        """True once step t has reached the step where `name`'s run diverged."""
        at = self.runs[name].diverged_at
        return at is not None and (self.t if t is None else t) >= at

    def curve(self, name: str, t: int | None = None) -> np.ndarray:
        """The chart's values for `name` up to step t: L(θ) − L(θ*) or ‖θ − θ*‖."""
        run = self.runs[name]
        k = self.index(name, t) + 1
        if self.chart == "distance":
            minima = np.array(self.surface.minima)
            d = np.linalg.norm(run.thetas[:k, None, :] - minima[None], axis=2)
            return d.min(axis=1)
        return run.losses[:k] - self.surface.f_min

    def smoothed(self, values: np.ndarray, t: int | None = None, window: int = 50) -> np.ndarray:
        """The mean of the last `window` values at every step up to t (fewer at the start)."""
        t = self.t if t is None else t
        v = np.asarray(values[: t + 1], dtype=np.float64)
        c = np.concatenate([[0.0], np.cumsum(v)])
        idx = np.arange(1, v.size + 1)
        lo = np.maximum(idx - window, 0)
        return (c[idx] - c[lo]) / (idx - lo)

    def min_grad_sq(self, run: Run, t: int | None = None) -> np.ndarray:
        """min_{s<=T} ||grad L(θ_s)||^2 for T = 1 .. t (the quantity the theorem bounds)."""
        t = self.t if t is None else t
        return running_min_sq(run.grad_norms[: t + 1])[1:]
