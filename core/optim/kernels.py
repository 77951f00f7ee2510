"""Compiled loss surfaces: value, gradient and Hessian of every built-in surface, by integer code.

All built-in surfaces are functions of theta = (x, y) in R^2 so they can be drawn as a map.
`p` is each surface's float64 parameter vector (for least squares: the data, x then y).
"""

from __future__ import annotations

import math

import numpy as np

from core._jit import jit, kernel

QUADRATIC, ROSENBROCK, BEALE, HIMMELBLAU, SADDLE, PLATEAU, LEAST_SQUARES = range(7)

_BEALE_C = (1.5, 2.25, 2.625)


@jit
def surface_f(code, p, x, y):
    """The value f(x, y) of surface `code` with parameters p."""
    if code == QUADRATIC:  # f = (a x^2 + b y^2) / 2
        return 0.5 * (p[0] * x * x + p[1] * y * y)
    if code == ROSENBROCK:  # f = (a - x)^2 + b (y - x^2)^2
        return (p[0] - x) ** 2 + p[1] * (y - x * x) ** 2
    if code == BEALE:  # f = sum_k (c_k - x + x y^k)^2
        r1 = 1.5 - x + x * y
        r2 = 2.25 - x + x * y * y
        r3 = 2.625 - x + x * y * y * y
        return r1 * r1 + r2 * r2 + r3 * r3
    if code == HIMMELBLAU:  # f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2
    if code == SADDLE:  # f = x^2 / 2 + y^4 / 4 - y^2 / 2
        return 0.5 * x * x + 0.25 * y**4 - 0.5 * y * y
    if code == PLATEAU:  # f = 1 - exp(-(x^2 + y^2) / s^2)
        return 1.0 - math.exp(-(x * x + y * y) / (p[0] * p[0]))
    # LEAST_SQUARES: f = mean_i (x theta0 + theta1 - y_i)^2 with data (u_i, v_i)
    n = p.shape[0] // 2
    total = 0.0
    for i in range(n):
        r = x * p[i] + y - p[n + i]
        total += r * r
    return total / n


@jit
def surface_grad(code, p, x, y, out):
    """Writes the gradient (df/dx, df/dy) into out (2,)."""
    if code == QUADRATIC:
        out[0] = p[0] * x
        out[1] = p[1] * y
    elif code == ROSENBROCK:
        out[0] = -2.0 * (p[0] - x) - 4.0 * p[1] * x * (y - x * x)
        out[1] = 2.0 * p[1] * (y - x * x)
    elif code == BEALE:
        gx = 0.0
        gy = 0.0
        for k in range(1, 4):
            r = _BEALE_C[k - 1] - x + x * y**k
            gx += 2.0 * r * (y**k - 1.0)
            gy += 2.0 * r * k * x * y ** (k - 1)
        out[0] = gx
        out[1] = gy
    elif code == HIMMELBLAU:
        r1 = x * x + y - 11.0
        r2 = x + y * y - 7.0
        out[0] = 4.0 * x * r1 + 2.0 * r2
        out[1] = 2.0 * r1 + 4.0 * y * r2
    elif code == SADDLE:
        out[0] = x
        out[1] = y**3 - y
    elif code == PLATEAU:
        s2 = p[0] * p[0]
        e = math.exp(-(x * x + y * y) / s2)
        out[0] = 2.0 * x / s2 * e
        out[1] = 2.0 * y / s2 * e
    else:
        n = p.shape[0] // 2
        gx = 0.0
        gy = 0.0
        for i in range(n):
            r = x * p[i] + y - p[n + i]
            gx += 2.0 * r * p[i]
            gy += 2.0 * r
        out[0] = gx / n
        out[1] = gy / n


@jit
def surface_hess(code, p, x, y, out):
    """Writes the Hessian [[fxx, fxy], [fxy, fyy]] into out (2, 2)."""
    fxx = 0.0
    fxy = 0.0
    fyy = 0.0
    if code == QUADRATIC:
        fxx = p[0]
        fyy = p[1]
    elif code == ROSENBROCK:
        fxx = 2.0 - 4.0 * p[1] * (y - x * x) + 8.0 * p[1] * x * x
        fxy = -4.0 * p[1] * x
        fyy = 2.0 * p[1]
    elif code == BEALE:
        for k in range(1, 4):
            r = _BEALE_C[k - 1] - x + x * y**k
            rx = y**k - 1.0
            ry = k * x * y ** (k - 1)
            rxy = k * y ** (k - 1)
            ryy = k * (k - 1) * x * y ** (k - 2) if k >= 2 else 0.0
            fxx += 2.0 * rx * rx
            fxy += 2.0 * (rx * ry + r * rxy)
            fyy += 2.0 * (ry * ry + r * ryy)
    elif code == HIMMELBLAU:
        fxx = 4.0 * (x * x + y - 11.0) + 8.0 * x * x + 2.0
        fxy = 4.0 * x + 4.0 * y
        fyy = 2.0 + 4.0 * (x + y * y - 7.0) + 8.0 * y * y
    elif code == SADDLE:
        fxx = 1.0
        fyy = 3.0 * y * y - 1.0
    elif code == PLATEAU:
        s2 = p[0] * p[0]
        e = math.exp(-(x * x + y * y) / s2)
        fxx = (2.0 / s2 - 4.0 * x * x / (s2 * s2)) * e
        fxy = -4.0 * x * y / (s2 * s2) * e
        fyy = (2.0 / s2 - 4.0 * y * y / (s2 * s2)) * e
    else:
        n = p.shape[0] // 2
        for i in range(n):
            fxx += 2.0 * p[i] * p[i]
            fxy += 2.0 * p[i]
        fxx /= n
        fxy /= n
        fyy = 2.0
    out[0, 0] = fxx
    out[0, 1] = fxy
    out[1, 0] = fxy
    out[1, 1] = fyy


def _batch_example():
    p = np.array([1.0, 2.0, 0.5, 1.5])
    return [(6, p, 0.5, -0.5, np.array([1], dtype=np.int64), np.empty(2)),
            (0, p, 0.5, -0.5, np.zeros(0, dtype=np.int64), np.empty(2))]


@kernel(example=_batch_example)
def batch_grad(code, p, x, y, batch, out):
    """The gradient estimate used for a step: the full gradient when `batch` is empty,
    else the least-squares mini-batch mean (1/b) sum_{i in batch} grad L_i (notes 3.3.4)."""
    b = batch.shape[0]
    if b == 0 or code != LEAST_SQUARES:
        surface_grad(code, p, x, y, out)
        return
    n = p.shape[0] // 2
    gx = 0.0
    gy = 0.0
    for j in range(b):
        i = batch[j]
        r = x * p[i] + y - p[n + i]
        gx += 2.0 * r * p[i]
        gy += 2.0 * r
    out[0] = gx / b
    out[1] = gy / b


def _grid_example():
    xs = np.linspace(-1.0, 1.0, 3)
    return [(code, np.array([1.0, 2.0, 0.5, 1.5]), xs, xs) for code in range(7)]


@kernel(example=_grid_example)
def surface_grid(code, p, xs, ys):
    """f on the grid: out[i, j] = f(xs[j], ys[i]), xs (W,), ys (H,) -> (H, W)."""
    out = np.empty((ys.shape[0], xs.shape[0]))
    for i in range(ys.shape[0]):
        for j in range(xs.shape[0]):
            out[i, j] = surface_f(code, p, xs[j], ys[i])
    return out


def _point_example():
    return [(code, np.array([1.0, 2.0, 0.5, 1.5]), 0.5, -0.5) for code in range(7)]


@kernel(example=_point_example)
def point_values(code, p, x, y):
    """(f, grad (2,), Hessian (2, 2)) at one point."""
    g = np.empty(2)
    h = np.empty((2, 2))
    surface_grad(code, p, x, y, g)
    surface_hess(code, p, x, y, h)
    return surface_f(code, p, x, y), g, h
