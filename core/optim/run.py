"""`run` and `trace`: an optimizer's trajectory on a surface, compiled for built-in surfaces."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.optim.loop import NESTEROV, NEWTON, REASONS, SCHEDULES, run_loop
from core.optim.steps import HYPER_NAMES, OPTIMIZER_CODES, apply_step, make_hyper
from core.optim.surfaces import Surface, as_point, surface as builtin_surface

__all__ = ["OPTIMIZERS", "DIVERGENCE_LIMIT", "Run", "Trajectory", "run", "trace"]

#: Every optimizer `run` accepts: the seven first-order methods of 3.5, then Newton (2.2.4).
OPTIMIZERS: tuple[str, ...] = (*OPTIMIZER_CODES, "newton")

#: A run whose iterate leaves [-limit, limit] in any coordinate has diverged.
DIVERGENCE_LIMIT = 1e6


class Trajectory(np.ndarray):
    """The iterates theta_0 ... theta_{k-1} as an ndarray (k, dim), with the outcome attached:
    `diverged_at` (the step whose iterate was non-finite or exploded, else None) and `reason`."""

    diverged_at: int | None
    reason: str

    def __array_finalize__(self, obj):
        self.diverged_at = getattr(obj, "diverged_at", None)
        self.reason = getattr(obj, "reason", "")

    @property
    def diverged(self) -> bool:
        """True when the run stopped early."""
        return self.diverged_at is not None


@dataclass(frozen=True)
class Run:
    """Everything a run recorded, one row per iterate theta_0 ... theta_{k-1}.

    thetas (k, dim); losses (k,) the full loss L(theta_t); grad_norms (k,) the full-gradient
    norm ||grad L(theta_t)||; states (k, 3, dim) the optimizer state after step t (row 0 v or m,
    row 1 s or v, row 2 AMSGrad's max); diverged_at and reason as in `Trajectory`.
    """

    optimizer: str
    surface: str
    hyper: dict
    schedule: str
    thetas: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    states: np.ndarray
    diverged_at: int | None
    reason: str

    @property
    def steps(self) -> int:
        """The number of completed steps (rows - 1)."""
        return self.thetas.shape[0] - 1

    @property
    def trajectory(self) -> Trajectory:
        traj = np.array(self.thetas).view(Trajectory)
        traj.diverged_at = self.diverged_at
        traj.reason = self.reason
        return traj

    def bias_corrected(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Adam's (m-hat, v-hat) after step t >= 1: m / (1 - beta1^t), v / (1 - beta2^t)."""
        if not 1 <= t <= self.steps:
            raise ValueError(f"t must be in [1, {self.steps}], got {t}")
        m, v = self.states[t, 0], self.states[t, 1]
        return m / (1 - self.hyper["beta1"] ** t), v / (1 - self.hyper["beta2"] ** t)


MAX_STEPS = 1_000_000
"""The most steps one `run`/`trace` takes (the records of 10⁹ steps would need 15 GiB)."""


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"steps must be a whole number, got {steps!r}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most MAX_STEPS = {MAX_STEPS:,}, got {steps:,}")
    return int(steps)


def trace(optimizer: str, surface, x0, steps: int, *, schedule: str = "constant",
          limit: float = DIVERGENCE_LIMIT, **hyper: float) -> Run:
    """Run `optimizer` for `steps` steps from x0 on `surface` and return everything recorded.

    `surface`: a name of `SURFACE_NAMES`, a `Surface`, or any object with `f(theta) -> float` and
    `grad(theta) -> array` (and `hessian(theta) -> (dim, dim)` for "newton").
    `schedule`: "constant" step size, or "inv_sqrt" for eta_t = eta / sqrt(t) (notes 3.4).
    Divergence (non-finite values, an iterate beyond `limit`, a singular Hessian for Newton)
    stops the run and is reported in `diverged_at` / `reason`; it never raises.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    hvec = make_hyper(optimizer, **hyper)
    steps = _check_steps(steps)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
        raise ValueError(f"limit must be a number > 0, got {limit!r}")
    if isinstance(surface, str):
        surface = builtin_surface(surface)
    code = NEWTON if optimizer == "newton" else OPTIMIZER_CODES[optimizer]
    if isinstance(surface, Surface):
        x0 = as_point(x0, "x0", 2)
        rows = _run_builtin(code, surface, x0, steps, hvec, SCHEDULES.index(schedule), limit)
        name = surface.name
    else:
        for attr in ("f", "grad") + (("hessian",) if optimizer == "newton" else ()):
            if not callable(getattr(surface, attr, None)):
                raise ValueError(
                    f"surface must be a built-in name or have a callable {attr}(theta); "
                    f"{type(surface).__name__} has none"
                )
        x0 = as_point(x0, "x0", None)
        rows = _run_python(code, surface, x0, steps, hvec, SCHEDULES.index(schedule), limit)
        name = getattr(surface, "name", type(surface).__name__)
    thetas, losses, gnorms, states, at, reason = rows
    return Run(
        optimizer=optimizer,
        surface=name,
        hyper=dict(zip(HYPER_NAMES, map(float, hvec))),
        schedule=schedule,
        thetas=thetas,
        losses=losses,
        grad_norms=gnorms,
        states=states,
        diverged_at=at,
        reason=reason,
    )


def run(optimizer: str, surface, x0, steps: int, *, schedule: str = "constant",
        limit: float = DIVERGENCE_LIMIT, **hyper: float) -> Trajectory:
    """The trajectory (k, dim) of `optimizer` on `surface` from x0, starting with x0.

    k = steps + 1 unless the run diverged: then `result.diverged_at` is the step and
    `result.reason` says why (it never raises for divergence). Hyperparameters: lr, gamma,
    beta1, beta2, eps (defaults `DEFAULTS[optimizer]`). See `trace` for the arguments.

    >>> run("momentum", "quadratic", [1.0, 1.0], 2, lr=0.1, gamma=0.9).shape
    (3, 2)
    """
    return trace(optimizer, surface, x0, steps, schedule=schedule, limit=limit,
                 **hyper).trajectory


def _run_builtin(code, surf: Surface, x0, steps, hvec, schedule, limit):
    if hasattr(surf, "batches"):
        batches = surf.batches(steps)
    else:
        batches = np.zeros((steps, 0), dtype=np.int64)
    thetas = np.empty((steps + 1, 2))
    losses = np.empty(steps + 1)
    gnorms = np.empty(steps + 1)
    states = np.zeros((steps + 1, 3, 2))
    k, at, reason = run_loop(code, surf.code, surf.params, batches, x0, steps, hvec, schedule,
                             float(limit), thetas, losses, gnorms, states)
    return (thetas[:k].copy(), losses[:k].copy(), gnorms[:k].copy(), states[:k].copy(),
            None if at < 0 else int(at), REASONS[reason])


def _vector(value, dim, what):
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (dim,):
        raise ValueError(f"{what} must return shape ({dim},), got {arr.shape}")
    return arr


def _run_python(code, obj, x0, steps, hvec, schedule, limit):
    """The same loop as `run_loop`, in Python, for any object with f / grad (/ hessian)."""
    dim = x0.size
    theta = x0.copy()
    phi = x0.copy()
    state = np.zeros((3, dim))
    h = hvec.copy()
    lr, gamma = hvec[0], hvec[1]
    thetas, losses, gnorms, states = [theta.copy()], [], [], [state.copy()]
    at, reason = None, 0
    with np.errstate(all="ignore"):
        losses.append(float(obj.f(theta)))
        gnorms.append(float(np.linalg.norm(_vector(obj.grad(theta), dim, "grad"))))
        if not math.isfinite(losses[0]):
            at, reason = 0, 1
        for t in range(1, steps + 1 if at is None else 0):
            h[0] = lr / math.sqrt(t) if schedule == 1 else lr
            if code == NEWTON:
                g = _vector(obj.grad(theta), dim, "grad")
                hess = np.asarray(obj.hessian(theta), dtype=np.float64)
                if hess.shape != (dim, dim):
                    raise ValueError(f"hessian must return shape ({dim}, {dim}), got {hess.shape}")
                try:
                    if not np.all(np.isfinite(hess)) or np.linalg.cond(hess) > 1e12:
                        raise np.linalg.LinAlgError
                    theta = theta - h[0] * np.linalg.solve(hess, g)
                except np.linalg.LinAlgError:
                    at, reason = t, 3
                    break
            elif code == NESTEROV:
                g = np.ascontiguousarray(_vector(obj.grad(phi), dim, "grad"))
                apply_step(code, phi, g, state, t, h)
                theta = phi + gamma * state[0]
            else:
                g = np.ascontiguousarray(_vector(obj.grad(theta), dim, "grad"))
                apply_step(code, theta, g, state, t, h)
            if not np.all(np.isfinite(theta)):
                at, reason = t, 1
                break
            if np.max(np.abs(theta)) > limit:
                at, reason = t, 2
                break
            loss = float(obj.f(theta))
            if not math.isfinite(loss):
                at, reason = t, 1
                break
            thetas.append(theta.copy())
            losses.append(loss)
            gnorms.append(float(np.linalg.norm(_vector(obj.grad(theta), dim, "grad"))))
            states.append(state.copy())
    return (np.array(thetas), np.array(losses), np.array(gnorms), np.array(states), at,
            REASONS[reason])


