"""Benchmark issue 12's pieces: core.data.digits, a SmallCNN SGD step (ours vs PyTorch, float64),
and core.rl.dqn's time to the optimal policy of the notes' 5 x 5 Gridworld.

Run: `python benchmarks/data_cnn_dqn.py` (PyTorch rows when torch is installed). Times are the
best of several repeats in milliseconds (the DQN row is one run in seconds).
"""

from __future__ import annotations

import time
import timeit

import numpy as np


def best_ms(fn, number: int = 3, repeat: int = 5) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3


def main() -> None:
    from core.data import digits
    from core.rl import DQN, Gridworld, value_iteration
    from core.vision import SmallCNNTrainer

    print(f"digits() 1000 x 16x16         {best_ms(lambda: digits()):9.2f} ms")
    print(f"digits(2000, 64) 20000 x 64x64 {best_ms(lambda: digits(2000, 64), 1, 2):9.0f} ms")

    X, y = digits()
    for bn in (False, True):
        trainer = SmallCNNTrainer(X, y, batch_norm=bn)
        ours = best_ms(trainer.step, 10, 5)
        line = f"SmallCNN step, batch 64, BN {bn!s:5}  ours {ours:7.2f} ms"
        try:
            import torch
            import torch.nn as nn

            torch.manual_seed(0)
            model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8) if bn else nn.Identity(),
                                  nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10)).double()
            opt = torch.optim.SGD(model.parameters(), lr=0.05)
            xb, yb = torch.tensor(X[:64]), torch.tensor(y[:64])

            def torch_step():
                loss = nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()

            theirs = best_ms(torch_step, 10, 5)
            line += f"  PyTorch {theirs:7.2f} ms  ratio {ours / theirs:5.2f}"
        except ImportError:
            pass
        print(line)

    grid = Gridworld(5, 5, terminals=[(0, 0), (4, 4)], step_reward=-1.0)
    Q = value_iteration(grid, gamma=0.9).Q
    best = np.isclose(Q, Q.max(axis=1, keepdims=True), atol=1e-9)
    free = np.flatnonzero(~grid.absorbing)
    agent = DQN(grid, seed=0)
    start = time.perf_counter()
    while not best[free, agent.policy[free]].all():
        agent.episode()
    took = time.perf_counter() - start
    print(f"DQN to the optimal policy (5x5, γ 0.9, seed 0): {len(agent.returns)} episodes, "
          f"{agent.updates} updates, {took:.2f} s")


if __name__ == "__main__":
    main()
