"""Benchmark core.nn: 100 full-batch training steps of a 2-16-16-2 MLP on 50 points, and one
frame of the MLP lab (a training step plus a 120x36 redraw of the decision regions).

Compared with the same network in plain NumPy (vectorised forward and backward written below)
and with PyTorch when installed (`nn.Sequential`, `CrossEntropyLoss`, `optim.SGD`). Goals
(issue 7): at least 4x faster than PyTorch's CPU steps at this size; one lab frame under 16 ms.

    python benchmarks/nn.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, any venv

import core  # noqa: E402
from core.nn import MLP, Trainer, make_dataset, train  # noqa: E402
from _frame import textual_frame_ms  # noqa: E402  (benchmarks/_frame.py, beside this script)

SIZES = [2, 16, 16, 2]
STEPS = 100
LR = 0.1


def best_of(fn, repeats: int) -> float:
    """The fastest of `repeats` runs of fn(), in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# --- plain NumPy ----------------------------------------------------------------------------
def numpy_train(params, X, y, steps: int) -> float:
    """Full-batch SGD with ReLU and cross-entropy, forward and backward vectorised."""
    W1, b1, W2, b2, W3, b3 = (p.copy() for p in params)
    n = len(y)
    rows = np.arange(n)
    loss = 0.0
    for _ in range(steps):
        z1 = X @ W1.T + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2.T + b2
        a2 = np.maximum(z2, 0)
        z3 = a2 @ W3.T + b3
        m = z3.max(axis=1, keepdims=True)
        e = np.exp(z3 - m)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z3[rows, y]))
        d3 = e / s
        d3[rows, y] -= 1
        d3 /= n
        gW3, gb3 = d3.T @ a2, d3.sum(0)
        d2 = (d3 @ W3) * (z2 > 0)
        gW2, gb2 = d2.T @ a1, d2.sum(0)
        d1 = (d2 @ W2) * (z1 > 0)
        gW1, gb1 = d1.T @ X, d1.sum(0)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2), (W3, gW3), (b3, gb3)):
            p -= LR * g
    return loss


# --- PyTorch ----------------------------------------------------------------------------------
def torch_runner(params, X, y):
    """A function running STEPS PyTorch steps from the same weights, or None without torch."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    torch.set_num_threads(1)  # core.nn and NumPy use one core too; at this size threads only add waiting
    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y)

    def run():
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                              nn.Linear(16, 2)).double()
        with torch.no_grad():
            for p, v in zip(model.parameters(), params):
                p.copy_(torch.from_numpy(v))
        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=LR)
        for _ in range(STEPS):
            optimizer.zero_grad()
            loss = criterion(model(Xt), yt)
            loss.backward()
            optimizer.step()
        return loss.item()

    return run, torch.__version__


def torch_agreement(X, y) -> str:
    """Max |θ_ours - θ_torch| after 30 steps of each optimizer PyTorch has in the same form."""
    import torch
    from torch import nn

    out = []
    for name, hyper, make in (
        ("sgd", {}, lambda ps: torch.optim.SGD(ps, lr=0.05)),
        ("momentum", {"gamma": 0.9}, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
        ("nesterov", {"gamma": 0.9},
         lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
        ("adam", {}, lambda ps: torch.optim.Adam(ps, lr=0.05)),
    ):
        ours = MLP([2, 8, 8, 2], "tanh", seed=1)
        theirs = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                               nn.Linear(8, 2)).double()
        with torch.no_grad():
            for p, v in zip(theirs.parameters(), ours.parameters()):
                p.copy_(torch.from_numpy(v.copy()))
        train(ours, X, y, "cross_entropy", name, lr=0.05, steps=30, **hyper)
        optimizer, criterion = make(theirs.parameters()), nn.CrossEntropyLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for _ in range(30):
            optimizer.zero_grad()
            criterion(theirs(Xt), yt).backward()
            optimizer.step()
        diff = max(float(np.abs(p.detach().numpy() - v).max())
                   for p, v in zip(theirs.parameters(), ours.parameters()))
        out.append(f"{name} {diff:.1e}")
    return ", ".join(out)


# --- the lab frame ------------------------------------------------------------------------------
def lab_frame(repeats: int) -> tuple[float, float]:
    """(ms of step + 120x72-pixel regions + points, ms with the weight view too)."""
    from tutor.labs import validate_lab
    from tutor.labs.mlp.model import MlpModel

    model = MlpModel(validate_lab("mlp", {"dataset": "circles", "n_points": 200,
                                          "hidden": [16, 16], "max_steps": 100_000}))

    def frame():
        model.step()
        model.region_pixels(120, 72)
        model.point_overlay(120, 72)

    def frame_all():
        frame()
        model.curves()
        model.layer_view(1)

    frame()
    return (best_of(frame, repeats * 5) * 1e3, best_of(frame_all, repeats * 5) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    core.warmup()
    X, y = make_dataset("circles", n=50, noise=0.1, seed=0)
    net = MLP(SIZES, "relu", seed=0)
    params = [p.copy() for p in net.parameters()]

    def ours_train():
        model = MLP(SIZES, "relu", seed=0)
        return train(model, X, y, "cross_entropy", "sgd", lr=LR, steps=STEPS)

    def ours_stepwise():  # one Python call per step, as the lab plays
        trainer = Trainer(MLP(SIZES, "relu", seed=0), X, y, "cross_entropy", "sgd", lr=LR)
        for _ in range(STEPS):
            trainer.step()

    ours_train()
    ours_stepwise()
    numpy_train(params, X, y, 2)
    # the three agree on the final loss (same weights, same data, float64 everywhere)
    final_ours = float(nn_loss(X, y))
    final_numpy = numpy_train(params, X, y, STEPS)
    t_ours = best_of(ours_train, args.repeats)
    t_step = best_of(ours_stepwise, args.repeats)
    t_numpy = best_of(lambda: numpy_train(params, X, y, STEPS), args.repeats)
    print(f"core.nn benchmark: {STEPS} full-batch SGD steps, MLP {'-'.join(map(str, SIZES))}, "
          f"{len(y)} points, cross-entropy, float64")
    print(f"  core.nn train()            {t_ours * 1e3:8.3f} ms  ({t_ours / STEPS * 1e6:6.1f} µs/step)")
    print(f"  core.nn Trainer.step() x{STEPS} {t_step * 1e3:7.3f} ms  ({t_step / STEPS * 1e6:6.1f} µs/step)")
    print(f"  NumPy                      {t_numpy * 1e3:8.3f} ms  ({t_numpy / STEPS * 1e6:6.1f} µs/step)"
          f"   core.nn is {t_numpy / t_ours:.1f}x faster")
    print(f"  final loss: core.nn {final_ours:.10f}, NumPy {final_numpy:.10f}")
    runner = torch_runner(params, X, y)
    if runner is None:
        print("  PyTorch not installed")
    else:
        run, version = runner
        final_torch = run()
        t_torch = best_of(run, args.repeats)
        print(f"  PyTorch {version:<18} {t_torch * 1e3:8.3f} ms  ({t_torch / STEPS * 1e6:6.1f} µs/step)"
              f"   core.nn is {t_torch / t_ours:.1f}x faster (goal ≥ 4x); "
              f"NumPy is {t_torch / t_numpy:.1f}x faster; final loss {final_torch:.10f}")
        print(f"  same weights after 30 steps as PyTorch (2-8-8-2 tanh, max |Δθ|): "
              f"{torch_agreement(X, y)}")
    try:
        frame, frame_all = lab_frame(args.repeats)
    except ImportError as exc:  # the lab needs the tutor package's dependencies
        print(f"  lab frame: skipped ({exc})")
    else:
        print(f"  lab frame (1 step of 2-16-16-2 on 150 points + 120x36-cell regions + points): "
              f"{frame:.2f} ms (goal < 16 ms); with the loss curves and weight view: {frame_all:.2f} ms")
        for size in ((120, 36), (80, 34)):  # full width; about the lab's share beside a lesson
            step_ms, paint_ms = textual_frame_ms("mlp", {"hidden": [16, 16]}, size)
            print(f"  MLP lab in Textual at {size[0]}x{size[1]}: step + widget updates "
                  f"{step_ms:.2f} ms, repaint {paint_ms:.2f} ms per step (PixelView rows dominate)")


def nn_loss(X, y) -> float:
    """The final loss of core.nn's 100 steps (the loss of the last step's batch)."""
    model = MLP(SIZES, "relu", seed=0)
    losses = train(model, X, y, "cross_entropy", "sgd", lr=LR, steps=STEPS)
    return losses[-1]


if __name__ == "__main__":
    main()
