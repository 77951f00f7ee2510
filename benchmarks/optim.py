"""Benchmark core.optim: the seven first-order optimizers x 1000 steps on built-in Rosenbrock.

Compared with a plain-NumPy loop (the notes' equations, one step per Python iteration) and with
torch.optim when PyTorch is installed, plus one animation frame of the optimizer lab (every
optimizer one step, then the redraw at 120x36). Goals (issue 4): the seven optimizers' 7000
steps together at least 100x faster than torch.optim's Adam alone for 1000 steps; one frame
under 16 ms.

    python benchmarks/optim.py        (PyTorch figures need torch; the frame needs textual)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, any venv

import core  # noqa: E402
from core.optim import FIRST_ORDER, OPTIMIZERS, apply_step, make_hyper, surface, trace  # noqa: E402
from core.optim.steps import OPTIMIZER_CODES  # noqa: E402

STEPS = 1000
X0 = (-1.2, 1.0)
#: Step sizes small enough that no optimizer diverges on Rosenbrock (all run 1000 steps).
LR = {"sgd": 1e-4, "momentum": 1e-4, "nesterov": 1e-4, "adagrad": 0.1, "rmsprop": 0.01,
      "adam": 0.01, "amsgrad": 0.01}


def best_of(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def ours_all() -> None:
    for name in FIRST_ORDER:
        r = trace(name, "rosenbrock", X0, STEPS, lr=LR[name])
        assert r.diverged_at is None


def rosen_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def numpy_run(name: str) -> np.ndarray:
    """The notes' update equations in plain NumPy, one Python iteration per step."""
    h = make_hyper(name, lr=LR[name])
    lr, g_, b1, b2, eps = h
    theta = np.array(X0)
    v = np.zeros(2)
    m = np.zeros(2)
    s = np.zeros(2)
    vmax = np.zeros(2)
    for t in range(1, STEPS + 1):
        if name == "nesterov":
            g = rosen_grad(theta - g_ * v)
        else:
            g = rosen_grad(theta)
        if name == "sgd":
            theta = theta - lr * g
        elif name in ("momentum", "nesterov"):
            v = g_ * v + lr * g
            theta = theta - v
        elif name == "adagrad":
            s = s + g * g
            theta = theta - lr / np.sqrt(s + eps) * g
        elif name == "rmsprop":
            s = g_ * s + (1 - g_) * g * g
            theta = theta - lr / np.sqrt(s + eps) * g
        else:
            m = b1 * m + (1 - b1) * g
            s = b2 * s + (1 - b2) * g * g
            if name == "adam":
                theta = theta - lr / (np.sqrt(s / (1 - b2**t)) + eps) * (m / (1 - b1**t))
            else:
                vmax = np.maximum(vmax, s)
                theta = theta - lr / (np.sqrt(vmax) + eps) * m
    return theta


def numpy_all() -> None:
    for name in FIRST_ORDER:
        numpy_run(name)


def torch_times():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    makers = {
        "sgd": lambda p, h: torch.optim.SGD([p], lr=h["lr"]),
        "momentum": lambda p, h: torch.optim.SGD([p], lr=h["lr"], momentum=0.9),
        "nesterov": lambda p, h: torch.optim.SGD([p], lr=h["lr"], momentum=0.9, nesterov=True),
        "adagrad": lambda p, h: torch.optim.Adagrad([p], lr=h["lr"]),
        "rmsprop": lambda p, h: torch.optim.RMSprop([p], lr=h["lr"], alpha=0.9),
        "adam": lambda p, h: torch.optim.Adam([p], lr=h["lr"]),
        "amsgrad": lambda p, h: torch.optim.Adam([p], lr=h["lr"], amsgrad=True),
    }

    def run(name):
        p = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        opt = makers[name](p, {"lr": LR[name]})
        for _ in range(STEPS):
            opt.zero_grad()
            loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
            loss.backward()
            opt.step()
        return p.detach().numpy()

    end_adam = run("adam")
    ours_adam = trace("adam", "rosenbrock", X0, STEPS, lr=LR["adam"]).thetas[-1]
    assert np.allclose(end_adam, ours_adam, rtol=1e-6), (end_adam, ours_adam)
    adam = best_of(lambda: run("adam"), 3)
    every = best_of(lambda: [run(n) for n in FIRST_ORDER], 1)
    return torch.__version__, adam, every


def one_step_all_ms(repeat: int = 2000) -> float:
    """Median-free estimate: every optimizer (7 first-order + Newton) one live step, in ms."""
    s = surface("rosenbrock")
    thetas = {n: np.array(X0) for n in OPTIMIZERS}
    states = {n: np.zeros((3, 2)) for n in OPTIMIZERS}
    hyper = {n: make_hyper(n, lr=LR.get(n, 1.0)) for n in OPTIMIZERS}

    def frame(t):
        for name in FIRST_ORDER:
            apply_step(OPTIMIZER_CODES[name], thetas[name], s.grad(thetas[name]), states[name], t,
                       hyper[name])
        th = thetas["newton"]
        thetas["newton"] = th - np.linalg.solve(s.hessian(th), s.grad(th))

    t0 = time.perf_counter()
    for t in range(1, repeat + 1):
        frame(t)
    return (time.perf_counter() - t0) / repeat * 1e3


async def frame_ms(runs: int = 30, fps: float | None = None, at: int = 300) -> tuple[float, float, float]:
    """Median main-thread CPU ms of one frame of the lab at 120x36 with all eight optimizers
    from step `at` on (long trails): (the step: `step_forward`, which updates the model and
    hands new data to the widgets; the paint: Textual's layout, compositor and every widget's
    `render_line`; their sum). Stepped by hand (everything redrawn) or as playback at `fps`.
    Pilot's own waiting is not counted: only the step and the screen updates are timed."""
    from textual.screen import Screen

    from tutor.labdemo import LabApp

    paint = [0.0]
    originals = {name: getattr(Screen, name) for name in ("_on_timer_update", "_refresh_layout")}

    def timed(original):
        def wrapper(*args, **kwargs):
            c0 = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                paint[0] += time.thread_time() - c0
        return wrapper

    for name, original in originals.items():
        setattr(Screen, name, timed(original))
    try:
        app = LabApp("optimizer", {"surface": "rosenbrock", "optimizers": list(OPTIMIZERS),
                                   "steps": at + runs + 1, "at": at})
        steps, paints = [], []
        async with app.run_test(size=(120, 36)) as pilot:
            lab = app.query_one("#lab")
            for _ in range(3):
                await pilot.pause()
            if fps is not None:
                lab.fps = fps
                lab.set_reactive(type(lab).playing, True)  # playback state without the timer
            for _ in range(runs):
                paint[0] = 0.0
                c0 = time.thread_time()
                lab.step_forward()
                steps.append(time.thread_time() - c0)
                paint[0] = 0.0
                for _ in range(3):
                    await pilot.pause()
                paints.append(paint[0])
    finally:
        for name, original in originals.items():
            setattr(Screen, name, original)
    step, drawn = float(np.median(steps)) * 1e3, float(np.median(paints)) * 1e3
    return step, drawn, float(np.median(np.add(steps, paints))) * 1e3


def main() -> None:
    core.warmup()
    ours_all()  # load every compiled signature before timing
    ours = best_of(ours_all)
    raw = best_of(lambda: [trace(n, "rosenbrock", X0, STEPS, lr=LR[n]) for n in ("adam",)])
    np_time = best_of(numpy_all, 3)
    print(f"7 optimizers x {STEPS} steps on Rosenbrock (float64, from {X0})")
    print(f"  core.optim (compiled loop, incl. validation): {ours * 1e3:8.3f} ms for all 7"
          f"  ({ours / (7 * STEPS) * 1e9:6.0f} ns/step); Adam alone {raw * 1e3:.3f} ms")
    print(f"  plain NumPy loop:                             {np_time * 1e3:8.3f} ms"
          f"  -> ours x{np_time / ours:6.1f} faster")
    got = torch_times()
    if got is None:
        print("  PyTorch not installed")
    else:
        version, adam, every = got
        print(f"  torch.optim {version} (1 thread): Adam alone {adam * 1e3:8.3f} ms for {STEPS}"
              f" steps; all 7: {every * 1e3:8.3f} ms")
        print(f"  -> our 7000 steps vs torch's Adam 1000: x{adam / ours:6.1f} (goal >= 100x);"
              f" all 7 vs all 7: x{every / ours:6.1f}")
    step_ms = one_step_all_ms()
    print(f"one live step of all 8 optimizers (apply_step + analytic grad/Hessian): {step_ms:.4f} ms")
    try:
        print("optimizer lab frame at 120x36, 8 optimizers, steps 300-330, main-thread CPU ms"
              " (median of 30; goal: well under 16 ms)")
        for label, fps in (("stepped by hand (everything redrawn)", None),
                           ("playing at 5 fps (the default)", 5.0), ("playing at 60 fps", 60.0)):
            step, drawn, total = asyncio.run(frame_ms(fps=fps))
            print(f"  {label:<38} step {step:5.2f} + paint {drawn:5.2f} = {total:5.2f} ms")
    except ImportError as exc:
        print(f"optimizer lab frame: needs the app's dependencies ({exc.name} missing)")
    print(f"(load average while measuring: {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
