"""Value iteration on 20x20, 100x100 and 300x300 Gridworlds (γ = 0.99): core.rl vs NumPy.

Run: `python benchmarks/rl.py [--quick]`. Prints the time per sweep and to convergence for
core.rl (numba kernel, one call per sweep from a Python generator) and for a vectorised NumPy
value iteration on the same transitions (the faster of a
sparse gather and a four-neighbour formulation), the speed-up, a PyTorch line when installed,
and, for the Gridworld lab at 20x20 beside a lesson and at full width, one sweep plus a redraw
and the playback rate the whole app reaches (CPU per step included).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

import core
from core.rl import Gridworld, value_iteration
from core.rl.planning import bellman_sweep

GAMMA = 0.99
TOL = 1e-6


def make_grid(n: int) -> Gridworld:
    """An n x n grid with a goal corner, a trap, a wall segment and slip 0.1."""
    walls = [(n // 2, c) for c in range(n // 4, 3 * n // 4)]
    return Gridworld(n, n, terminals=[(0, n - 1), (n - 1, n - 1)], walls=walls, slip=0.1,
                     rewards={(0, n - 1): 10.0, (n - 1, n - 1): -10.0}, step_reward=-0.04)


def numpy_sweep(nxt, prob, R, gamma, V):
    """One vectorised sweep: Q = R + γ Σₖ prob · V[nxt]; V' = maxₐ Q."""
    Q = R + gamma * np.einsum("sak,sak->sa", prob, V[nxt])
    return Q.max(axis=1), Q


def numpy_grid_sweep(nbr, special, nxt, prob, R, gamma, p_main, p_side, V):
    """The same sweep reading each cell's four neighbours once (as core.rl's grid kernel)."""
    Vn = V[nbr]
    ud, lr = Vn[:, 2] + Vn[:, 3], Vn[:, 0] + Vn[:, 1]
    Q = R + gamma * (p_main * Vn + p_side * np.stack([ud, ud, lr, lr], axis=1))
    Q[special] = R[special] + gamma * np.einsum("sak,sak->sa", prob[special], V[nxt[special]])
    return Q.max(axis=1), Q


def numpy_args(grid):
    return (grid.neighbours, grid.special, grid.next_states, grid.probs, grid.expected_rewards,
            GAMMA, 1 - grid.slip, grid.slip / 2)


def numpy_value_iteration(grid, gamma, tol, max_iter):
    V = np.zeros(grid.n_states)
    args = numpy_args(grid)
    for k in range(1, max_iter + 1):
        V_new, _ = numpy_grid_sweep(*args, V)
        delta = np.abs(V_new - V).max()
        V = V_new
        if delta < tol:
            return V, k
    return V, max_iter


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def time_per_sweep(grid, sweeps):
    S = grid.n_states
    V, V_out, Q, pol = np.zeros(S), np.empty(S), np.empty((S, 4)), np.empty(S, np.int64)
    t_ours, _ = best_of(
        lambda: [bellman_sweep(grid, GAMMA, V, V_out, Q, pol) for _ in range(sweeps)], 3)
    args = (grid.next_states, grid.probs, grid.expected_rewards, GAMMA)
    t_sparse, _ = best_of(lambda: [numpy_sweep(*args, V) for _ in range(sweeps)], 3)
    t_grid, _ = best_of(lambda: [numpy_grid_sweep(*numpy_args(grid), V) for _ in range(sweeps)], 3)
    return t_ours / sweeps, min(t_sparse, t_grid) / sweeps


def torch_line(grid, sweeps, per_ours):
    try:
        import torch
    except ImportError:
        return "PyTorch not installed"
    nxt = torch.from_numpy(grid.next_states)
    prob = torch.from_numpy(grid.probs)
    R = torch.from_numpy(grid.expected_rewards)
    V = torch.zeros(grid.n_states, dtype=torch.float64)

    def run():
        v = V
        for _ in range(sweeps):
            v = (R + GAMMA * (prob * v[nxt]).sum(-1)).max(dim=1).values
        return v

    t, _ = best_of(run, 3)
    per = t / sweeps
    return (f"PyTorch (CPU, {torch.get_num_threads()} threads, same gather) {per * 1e3:8.3f} "
            f"ms/sweep, x{per / per_ours:5.1f} slower than ours")


#: The lab benchmark's grid: 20 x 20 with slip, evaluating the random policy (hundreds of sweeps
#: before it settles, so every step changes the picture).
LAB_PARAMS = {"preset": "open", "rows": 20, "cols": 20, "slip": 0.1, "mode": "random_policy",
              "select": [10, 10]}
#: The lab beside a lesson at 120x36 (about 81 x 33), and the lab alone at full width.
LAB_SIZES = {"beside a lesson": (81, 33), "full width": (120, 36)}


async def sweep_and_redraw_ms(runs: int, size: tuple[int, int]) -> tuple[float, float]:
    """Median ms at 20x20 of (one step of the lab plus re-rendering every line of the widgets it
    changes: grid, chart, backup panel, status), and of the same step plus a full Pilot round
    trip (Textual's idle wait and whole-screen composition included)."""
    from textual.geometry import Region

    from tutor.labdemo import LabApp
    from tutor.labs import validate_lab

    app = LabApp("gridworld", validate_lab("gridworld", LAB_PARAMS))
    redraw, round_trip = [], []
    async with app.run_test(size=size) as pilot:
        lab = app.query_one("#lab")
        await pilot.pause()
        widgets = [lab.query_one("#gw-grid"), lab.query_one("#gw-chart"),
                   lab.query_one("#gw-backup"), lab.query_one("#gw-controls")]
        for _ in range(runs):
            t0 = time.perf_counter()
            lab.step_forward()
            for w in widgets:
                w.render_lines(Region(0, 0, *w.size))
            redraw.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            lab.step_forward()
            await pilot.pause()
            round_trip.append(time.perf_counter() - t0)
    return float(np.median(redraw)) * 1e3, float(np.median(round_trip)) * 1e3


async def playback(size: tuple[int, int], seconds: float) -> tuple[float, float]:
    """(steps per second, CPU ms per step) while the lab plays at its top speed (60 steps/s):
    the whole app, Textual's composition and the terminal output included."""
    from tutor.labdemo import LabApp
    from tutor.labs import validate_lab

    app = LabApp("gridworld", validate_lab("gridworld", LAB_PARAMS))
    async with app.run_test(size=size) as pilot:
        lab = app.query_one("#lab")
        await pilot.pause()
        lab.fps = 60
        k0, c0, t0 = lab.model.k, time.process_time(), time.perf_counter()
        lab.playing = True
        await asyncio.sleep(seconds)
        lab.playing = False
        steps = lab.model.k - k0
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return steps / wall, cpu / max(steps, 1) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the full 300x300 NumPy run")
    args = parser.parse_args()
    core.warmup()
    print(f"value iteration, gamma={GAMMA}, tol={TOL}, slip 0.1 (3 successors per move)")
    for n in (20, 100, 300):
        grid = make_grid(n)
        sweeps = {20: 200, 100: 50, 300: 10}[n]
        per_ours, per_np = time_per_sweep(grid, sweeps)
        t_ours, res = best_of(lambda: value_iteration(grid, GAMMA, tol=TOL, history=False), 1)
        line = (f"{n:3d}x{n:<3d} S={grid.n_states:6d}  sweep: ours {per_ours * 1e3:8.3f} ms, "
                f"NumPy {per_np * 1e3:8.3f} ms, x{per_np / per_ours:5.1f} | to convergence "
                f"({res.iterations} sweeps): ours {t_ours:7.3f} s")
        if n < 300 or not args.quick:
            t_np, (V_np, k_np) = best_of(
                lambda: numpy_value_iteration(grid, GAMMA, TOL, 10_000), 1)
            assert np.abs(V_np - res.V).max() < 1e-4, "NumPy and core.rl disagree"
            line += f", NumPy {t_np:7.3f} s, x{t_np / t_ours:5.1f}"
        print(line)
        print("        " + torch_line(grid, sweeps, per_ours))
    try:
        print("Gridworld lab, 20x20, slip 0.1, random policy (goal: a frame under 16 ms)")
        for where, size in LAB_SIZES.items():
            ms, trip = asyncio.run(sweep_and_redraw_ms(20, size))
            rate, cpu = asyncio.run(playback(size, 2.0 if args.quick else 4.0))
            print(f"  {where:16s} one sweep + redraw of its widgets {ms:5.2f} ms (median of 20); "
                  f"with a Pilot round trip {trip:5.1f} ms; playing: {rate:4.1f} steps/s of 60, "
                  f"CPU {cpu:4.1f} ms/step")
    except Exception as exc:  # the lab needs the widgets; the core figures stand alone
        print(f"Gridworld lab timing unavailable: {exc!r}")


if __name__ == "__main__":
    main()
