"""Built-in loss surfaces (notes 3.3): analytic value, gradient and Hessian, drawable on a map."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.optim import kernels as K

__all__ = ["Surface", "LeastSquares", "SURFACE_NAMES", "surface", "least_squares", "as_point"]


def as_point(theta, what: str = "theta", dim: int | None = 2) -> np.ndarray:
    """`theta` as a finite C-contiguous float64 vector (of length `dim` when given)."""
    try:
        arr = np.ascontiguousarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a vector of numbers, got {theta!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D vector, got shape {arr.shape}")
    if dim is not None and arr.size != dim:
        raise ValueError(f"{what} must have {dim} entries, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite, got {arr}")
    return arr


@dataclass(frozen=True, eq=False)
class Surface:
    """A built-in 2-D loss surface L(theta), theta = (x, y), evaluated by compiled kernels.

    `bounds` ((xmin, xmax), (ymin, ymax)) is the window the lab draws, `start` a start point that
    shows the surface's difficulty, `minima` its global minima (local ones too for Himmelblau;
    for the saddle its two minima, the saddle point being (0, 0)).
    """

    name: str
    code: int
    params: np.ndarray
    formula: str
    bounds: tuple[tuple[float, float], tuple[float, float]]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    dim: int = field(default=2)

    def f(self, theta) -> float:
        """The loss at theta (2,)."""
        x, y = as_point(theta)
        return float(K.point_values(self.code, self.params, x, y)[0])

    def grad(self, theta) -> np.ndarray:
        """The gradient (2,) at theta."""
        x, y = as_point(theta)
        return K.point_values(self.code, self.params, x, y)[1]

    def hessian(self, theta) -> np.ndarray:
        """The Hessian (2, 2) at theta."""
        x, y = as_point(theta)
        return K.point_values(self.code, self.params, x, y)[2]

    def grid(self, xs, ys) -> np.ndarray:
        """Values on a grid: out[i, j] = f(xs[j], ys[i]), shape (len(ys), len(xs))."""
        xs = np.ascontiguousarray(xs, dtype=np.float64).ravel()
        ys = np.ascontiguousarray(ys, dtype=np.float64).ravel()
        if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
            raise ValueError("grid coordinates must be finite")
        with np.errstate(all="ignore"):
            return K.surface_grid(self.code, self.params, xs, ys)

    @property
    def f_min(self) -> float:
        """The smallest value among `minima`."""
        return min(self.f(np.array(m)) for m in self.minima)


@dataclass(frozen=True, eq=False)
class LeastSquares(Surface):
    """Stochastic least squares (notes 3.3.4): fit y = w x + b to n sampled points (x_i, y_i).

    theta = (w, b); L(theta) = (1/n) sum_i (w x_i + b - y_i)^2 = (1/n) sum_i L_i(theta).
    A step uses the mini-batch estimate (1/b) sum over `batch_size` random distinct samples;
    `batch_size` = n is batch gradient descent (the exact gradient), 1 is single-sample SGD.
    """

    batch_size: int = 1
    seed: int = 0

    @property
    def n(self) -> int:
        """The number of data points."""
        return self.params.size // 2

    @property
    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """The samples (x (n,), y (n,))."""
        return self.params[: self.n], self.params[self.n :]

    def batches(self, steps: int, seed: int | None = None) -> np.ndarray:
        """Sample indices (steps, batch_size) for `steps` mini-batches; (steps, 0) when the batch
        is the whole data set (the exact gradient)."""
        if self.batch_size >= self.n:
            return np.zeros((steps, 0), dtype=np.int64)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        if self.batch_size == 1:
            return rng.integers(0, self.n, size=(steps, 1), dtype=np.int64)
        keys = rng.random((steps, self.n))
        return np.ascontiguousarray(
            np.argpartition(keys, self.batch_size - 1, axis=1)[:, : self.batch_size], np.int64
        )

    def sample_grad(self, theta, batch) -> np.ndarray:
        """The mini-batch gradient estimate at theta for sample indices `batch`."""
        x, y = as_point(theta)
        batch = np.ascontiguousarray(batch, dtype=np.int64).ravel()
        if batch.size and (batch.min() < 0 or batch.max() >= self.n):
            raise ValueError(f"batch indices must be in [0, {self.n}), got {batch}")
        out = np.empty(2)
        K.batch_grad(self.code, self.params, x, y, batch, out)
        return out

    def noise_variance(self, theta) -> float:
        """sigma^2 of the notes' theorem (3.4): E||g_batch - grad L||^2 at theta."""
        theta = as_point(theta)
        xs, ys = self.data
        r = xs * theta[0] + theta[1] - ys
        per = np.stack([2 * r * xs, 2 * r], axis=1)
        var = float(np.sum(per.var(axis=0)))
        b = min(self.batch_size, self.n)
        return var / b * (self.n - b) / max(self.n - 1, 1)  # sampling without replacement

    def smoothness(self) -> float:
        """beta: the largest eigenvalue of the (constant) Hessian, so grad L is beta-Lipschitz."""
        return float(np.linalg.eigvalsh(self.hessian(np.zeros(2)))[-1])

    @property
    def solution(self) -> np.ndarray:
        """The exact minimizer (w*, b*), the ordinary least-squares fit."""
        xs, ys = self.data
        a = np.stack([xs, np.ones_like(xs)], axis=1)
        return np.linalg.lstsq(a, ys, rcond=None)[0]


_SPECS = {
    "quadratic": dict(
        code=K.QUADRATIC,
        params=(1.0, 20.0),
        names=("a", "b"),
        formula="L(x, y) = (a x² + b y²) / 2",
        bounds=((-3.0, 3.0), (-2.0, 2.0)),
        start=(-2.6, 1.5),
        minima=lambda p: ((0.0, 0.0),),
    ),
    "rosenbrock": dict(
        code=K.ROSENBROCK,
        params=(1.0, 100.0),
        names=("a", "b"),
        formula="L(x, y) = (a − x)² + b (y − x²)²",
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
        start=(-1.2, 1.0),
        minima=lambda p: ((float(p[0]), float(p[0]) ** 2),),
    ),
    "beale": dict(
        code=K.BEALE,
        params=(),
        names=(),
        formula="L(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        start=(1.0, 1.4),
        minima=lambda p: ((3.0, 0.5),),
    ),
    "himmelblau": dict(
        code=K.HIMMELBLAU,
        params=(),
        names=(),
        formula="L(x, y) = (x² + y − 11)² + (x + y² − 7)²",
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        start=(-0.5, -0.5),
        minima=lambda p: (
            (3.0, 2.0),
            (-2.805118086952745, 3.131312518250573),
            (-3.779310253377747, -3.283185991286170),
            (3.584428340330492, -1.848126526964404),
        ),
    ),
    "saddle": dict(
        code=K.SADDLE,
        params=(),
        names=(),
        formula="L(x, y) = x²/2 + y⁴/4 − y²/2   (saddle point at (0, 0))",
        bounds=((-2.0, 2.0), (-1.6, 1.6)),
        start=(-1.8, 0.001),
        minima=lambda p: ((0.0, 1.0), (0.0, -1.0)),
    ),
    "plateau": dict(
        code=K.PLATEAU,
        params=(1.0,),
        names=("s",),
        formula="L(x, y) = 1 − exp(−(x² + y²) / s²)",
        bounds=((-3.0, 3.0), (-3.0, 3.0)),
        start=(2.5, 2.0),
        minima=lambda p: ((0.0, 0.0),),
    ),
}

#: Names of the built-in surfaces accepted by `surface` and `run`.
SURFACE_NAMES: tuple[str, ...] = (*_SPECS, "least_squares")


def surface(name: str, **params: float) -> Surface:
    """The built-in surface `name` (see `SURFACE_NAMES`), with optional shape parameters:
    quadratic a, b (> 0; the condition number is b / a); rosenbrock a, b; plateau s (> 0).
    `surface("least_squares", ...)` takes `least_squares`'s arguments."""
    if name == "least_squares":
        return least_squares(**params)
    if name not in _SPECS:
        raise ValueError(f"unknown surface {name!r}; expected one of {', '.join(SURFACE_NAMES)}")
    spec = _SPECS[name]
    values = dict(zip(spec["names"], spec["params"]))
    unknown = sorted(set(params) - set(values))
    if unknown:
        takes = ", ".join(values) or "no parameters"
        raise ValueError(f"surface {name!r} has no parameter {unknown[0]!r} (it takes {takes})")
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{key} must be finite, got {value!r}")
        values[key] = float(value)
    for key in ("a", "b", "s"):
        if key in values and name != "rosenbrock" and values[key] <= 0:
            raise ValueError(f"{key} must be > 0, got {values[key]}")
    if name == "rosenbrock" and values["b"] <= 0:
        raise ValueError(f"b must be > 0, got {values['b']}")
    p = np.array(list(values.values()) or [0.0], dtype=np.float64)
    return Surface(
        name=name,
        code=spec["code"],
        params=p,
        formula=spec["formula"],
        bounds=spec["bounds"],
        start=spec["start"],
        minima=spec["minima"](p),
    )


def least_squares(
    n: int = 100, noise: float = 0.5, batch_size: int = 1, seed: int = 0
) -> LeastSquares:
    """Sample n points x_i ~ N(1, 1), y_i = 1.5 x_i - 0.5 + noise * N(0, 1) (seeded) and
    return the stochastic least-squares surface over theta = (w, b) with that batch size."""
    for key, value, low in (("n", n, 2), ("batch_size", batch_size, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{key} must be a whole number, got {value!r}")
        if value < low:
            raise ValueError(f"{key} must be at least {low}, got {value}")
    if batch_size > n:
        raise ValueError(f"batch_size must be at most n = {n}, got {batch_size}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    if not math.isfinite(noise):
        raise ValueError(f"noise must be finite, got {noise!r}")
    rng = np.random.default_rng(seed)
    xs = rng.normal(1.0, 1.0, n)
    ys = 1.5 * xs - 0.5 + noise * rng.normal(0.0, 1.0, n)
    params = np.ascontiguousarray(np.concatenate([xs, ys]))
    a = np.stack([xs, np.ones_like(xs)], axis=1)
    best = np.linalg.lstsq(a, ys, rcond=None)[0]
    return LeastSquares(
        name="least_squares",
        code=K.LEAST_SQUARES,
        params=params,
        formula="L(w, b) = (1/n) Σᵢ (w xᵢ + b − yᵢ)²",
        bounds=((-1.5, 4.5), (-3.5, 2.5)),
        start=(-1.0, 2.0),
        minima=((float(best[0]), float(best[1])),),
        batch_size=int(batch_size),
        seed=int(seed),
    )
