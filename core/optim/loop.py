"""The compiled optimization loop over built-in surfaces (one kernel call runs a whole race lane)."""

from __future__ import annotations

import math

import numpy as np

from core._jit import jit, kernel
from core.optim.kernels import batch_grad, surface_f, surface_grad, surface_hess
from core.optim.steps import apply_step

NEWTON = 7
NESTEROV = 2
#: Why a run stopped early (index = reason code returned by the loop).
REASONS = ("", "non-finite values", "exploding iterates", "singular Hessian")
SCHEDULES = ("constant", "inv_sqrt")


@jit
def newton_step(theta, grad, hess, lr):
    """theta <- theta - lr H^-1 g for 2-D theta (notes 2.2.4); False when H is singular
    (condition number above about 1e12) or not finite."""
    a = hess[0, 0]
    b = hess[0, 1]
    c = hess[1, 0]
    d = hess[1, 1]
    det = a * d - b * c
    scale = a * a + b * b + c * c + d * d  # |det| / ||H||_F^2 ~ 1 / condition number
    if not math.isfinite(det) or det == 0.0 or abs(det) <= 1e-12 * scale:
        return False
    dx = (d * grad[0] - b * grad[1]) / det
    dy = (-c * grad[0] + a * grad[1]) / det
    theta[0] -= lr * dx
    theta[1] -= lr * dy
    return True


@jit
def step_lr(lr, schedule, t):
    """The step size at 1-based step t: constant, or eta / sqrt(t) (decreasing, notes 3.4)."""
    if schedule == 1:
        return lr / math.sqrt(t)
    return lr


def _loop_example():
    out = []
    for opt in range(8):
        steps = 2
        out.append(
            (opt, 0, np.array([1.0, 20.0]), np.zeros((steps, 0), np.int64), np.array([1.0, 1.0]),
             steps, np.array([0.01, 0.9, 0.9, 0.999, 1e-8]), 0, 1e6,
             np.empty((steps + 1, 2)), np.empty(steps + 1), np.empty(steps + 1),
             np.empty((steps + 1, 3, 2)))
        )
    return out


@kernel(example=_loop_example)
def run_loop(opt, surf, sp, batches, x0, steps, hyper, schedule, limit,
             thetas, losses, gnorms, states):
    """Run optimizer `opt` (0-6 first order, 7 Newton) on built-in surface `surf` from x0 (2,).

    batches (steps, b): sample indices of each step's mini-batch (b = 0: exact gradient).
    Fills thetas (steps+1, 2), losses, gnorms (full-gradient norms) (steps+1,) and the optimizer
    state after each step, states (steps+1, 3, 2). Returns (rows filled, step of divergence or
    -1, reason code of `REASONS`). Nesterov keeps phi = theta - gamma v internally (see
    `apply_step`) and records the notes' theta. With eps = 0 a coordinate whose gradients were
    all 0 is not moved (`apply_step`), never a division by zero.
    """
    h = hyper.copy()
    lr = hyper[0]
    gamma = hyper[1]
    theta = x0.copy()
    phi = x0.copy()
    state = np.zeros((3, 2))
    g = np.empty(2)
    full = np.empty(2)
    hess = np.empty((2, 2))
    thetas[0, 0] = theta[0]
    thetas[0, 1] = theta[1]
    losses[0] = surface_f(surf, sp, theta[0], theta[1])
    surface_grad(surf, sp, theta[0], theta[1], full)
    gnorms[0] = math.sqrt(full[0] * full[0] + full[1] * full[1])
    states[0, :, :] = 0.0
    if not math.isfinite(losses[0]):
        return 1, 0, 1
    for t in range(1, steps + 1):
        h[0] = step_lr(lr, schedule, t)
        if opt == NEWTON:
            batch_grad(surf, sp, theta[0], theta[1], batches[t - 1], g)
            surface_hess(surf, sp, theta[0], theta[1], hess)
            if not newton_step(theta, g, hess, h[0]):
                return t, t, 3
        elif opt == NESTEROV:
            batch_grad(surf, sp, phi[0], phi[1], batches[t - 1], g)
            apply_step(opt, phi, g, state, t, h)
            theta[0] = phi[0] + gamma * state[0, 0]
            theta[1] = phi[1] + gamma * state[0, 1]
        else:
            batch_grad(surf, sp, theta[0], theta[1], batches[t - 1], g)
            apply_step(opt, theta, g, state, t, h)
        if not (math.isfinite(theta[0]) and math.isfinite(theta[1])):
            return t, t, 1
        if abs(theta[0]) > limit or abs(theta[1]) > limit:
            return t, t, 2
        loss = surface_f(surf, sp, theta[0], theta[1])
        if not math.isfinite(loss):
            return t, t, 1
        thetas[t, 0] = theta[0]
        thetas[t, 1] = theta[1]
        losses[t] = loss
        surface_grad(surf, sp, theta[0], theta[1], full)
        gnorms[t] = math.sqrt(full[0] * full[0] + full[1] * full[1])
        states[t, :, :] = state
    return steps + 1, -1, 0
