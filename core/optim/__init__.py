"""First-order optimizers, Newton's method and loss surfaces (notes 2.2, 3.3-3.6).

>>> from core.optim import run
>>> path = run("adam", "rosenbrock", [-1.5, 2.0], 500, lr=0.05)
>>> path.shape, path.diverged_at
((501, 2), None)
"""

from __future__ import annotations

from core.optim.run import DIVERGENCE_LIMIT, OPTIMIZERS, Run, Trajectory, run, trace
from core.optim.steps import DEFAULTS, FIRST_ORDER, OPTIMIZER_CODES, USES, apply_step, make_hyper
from core.optim.surfaces import SURFACE_NAMES, LeastSquares, Surface, least_squares, surface

__all__ = [
    "DEFAULTS",
    "DIVERGENCE_LIMIT",
    "FIRST_ORDER",
    "OPTIMIZERS",
    "OPTIMIZER_CODES",
    "SURFACE_NAMES",
    "USES",
    "LeastSquares",
    "Run",
    "Surface",
    "Trajectory",
    "apply_step",
    "least_squares",
    "make_hyper",
    "run",
    "surface",
    "trace",
]
