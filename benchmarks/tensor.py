"""Benchmark core.tensor: one training step (forward, backward, Adam) of the lab-size models.

- a 2-32-32-2 ReLU MLP on 256 points (cross-entropy), also in plain NumPy (hand-written
  backward) and with core.nn's fused MLP (value_and_grad + apply_step);
- an LSTMCell (input 8, hidden 32) unrolled over 20 steps, batch 16 (MSE on the last h);
- a 2-layer transformer encoder block (d = 32, 4 heads, feed-forward 64, post-LN, sequence 16,
  batch 16; MSE on the output);
each against PyTorch's CPU (when installed; one thread, float64 and float32), and the per-op
overhead in µs (a tiny elementwise op forward, and a whole tiny graph forward + backward).
BLAS runs on one thread too (OPENBLAS_NUM_THREADS=1 unless set): at these sizes extra threads
only add synchronisation, and it keeps the comparison with one-thread torch fair. The
contenders of a row are timed in turns (round-robin), so load on the machine hits all alike.

    python benchmarks/tensor.py [--repeats 5] [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, any venv

from core.tensor import functional as F  # noqa: E402
from core.tensor import nn, optim, tensor  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional
    torch = None


def per_step_ms(steppers: list, steps: int, repeats: int) -> list[float]:
    """For each step function: the best of `repeats` runs of `steps` calls, in ms per call.

    The functions take turns (one run of each per round) after one warm-up call each.
    """
    for step in steppers:
        step()
    best = [float("inf")] * len(steppers)
    for _ in range(repeats):
        for i, step in enumerate(steppers):
            t = time.perf_counter()
            for _ in range(steps):
                step()
            best[i] = min(best[i], (time.perf_counter() - t) / steps)
    return [1e3 * b for b in best]


# --- models -----------------------------------------------------------------------------------
def mlp_ours(X, y):
    model = nn.Sequential(nn.Linear(2, 32, seed=0), nn.ReLU(), nn.Linear(32, 32, seed=1), nn.ReLU(),
                          nn.Linear(32, 2, seed=2))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = tensor(X)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def mlp_numpy(X, y):
    rng = np.random.default_rng(0)
    shapes = [(32, 2), (32,), (32, 32), (32,), (2, 32), (2,)]
    ps = [rng.uniform(-0.5, 0.5, s) for s in shapes]
    ms = [np.zeros(s) for s in shapes]
    vs = [np.zeros(s) for s in shapes]
    n = len(y)
    rows = np.arange(n)
    t = [0]

    def step():
        W1, b1, W2, b2, W3, b3 = ps
        z1 = X @ W1.T + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2.T + b2
        a2 = np.maximum(z2, 0)
        z3 = a2 @ W3.T + b3
        e = np.exp(z3 - z3.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        p[rows, y] -= 1
        d3 = p / n
        d2 = (d3 @ W3) * (z2 > 0)
        d1 = (d2 @ W2) * (z1 > 0)
        grads = [d1.T @ X, d1.sum(0), d2.T @ a1, d2.sum(0), d3.T @ a2, d3.sum(0)]
        t[0] += 1
        c1, c2 = 1 - 0.9 ** t[0], 1 - 0.999 ** t[0]
        for q, g, m, v in zip(ps, grads, ms, vs):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            q -= 1e-3 * (m / c1) / (np.sqrt(v / c2) + 1e-8)

    return step


def mlp_core_nn(X, y):
    from core.nn import MLP, value_and_grad
    from core.optim.steps import OPTIMIZER_CODES, apply_step, make_hyper

    mlp = MLP([2, 32, 32, 2], seed=0)
    state = np.zeros((3, mlp.theta.size))
    hyper = make_hyper("adam", lr=1e-3)
    labels = y.astype(np.int64)
    t = [0]

    def step():
        _, grads = value_and_grad(mlp, X, labels, loss="cross_entropy")
        t[0] += 1
        apply_step(OPTIMIZER_CODES["adam"], mlp.theta, np.concatenate([g.ravel() for g in grads]),
                   state, t[0], hyper)

    return step


def mlp_torch(X, y, dtype):
    tnn = torch.nn
    model = tnn.Sequential(tnn.Linear(2, 32), tnn.ReLU(), tnn.Linear(32, 32), tnn.ReLU(), tnn.Linear(32, 2)).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, t = torch.tensor(X, dtype=dtype), torch.tensor(y)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), t).backward()
        opt.step()

    return step


def lstm_ours(xs, target):
    cell = nn.LSTMCell(8, 32, seed=0)
    opt = optim.Adam(cell.parameters(), lr=1e-3)
    seq = [tensor(x) for x in xs]

    def step():
        opt.zero_grad()
        h = c = None
        state = None
        for x in seq:
            h, c = cell(x, state)
            state = (h, c)
        F.mse_loss(h, target).backward()
        opt.step()

    return step


def lstm_torch(xs, target, dtype):
    cell = torch.nn.LSTMCell(8, 32).to(dtype)
    opt = torch.optim.Adam(cell.parameters(), lr=1e-3)
    seq = [torch.tensor(x, dtype=dtype) for x in xs]
    tgt = torch.tensor(target, dtype=dtype)

    def step():
        opt.zero_grad()
        state = None
        for x in seq:
            state = cell(x, state)
        torch.nn.functional.mse_loss(state[0], tgt).backward()
        opt.step()

    return step


class Block(nn.Module):
    """Post-LN encoder layer: x = LN(x + MHA(x)); x = LN(x + W₂ relu(W₁ x))."""

    def __init__(self, d, heads, ff, seed):
        rng = np.random.default_rng(seed)
        self.attn = nn.MultiheadAttention(d, heads, seed=rng)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff, seed=rng)
        self.ff2 = nn.Linear(ff, d, seed=rng)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x):
        a, _ = self.attn(x, x, x, need_weights=False)
        x = self.ln1(x + a)
        return self.ln2(x + self.ff2(self.ff1(x).relu()))


def transformer_ours(X, target):
    model = nn.Sequential(Block(32, 4, 64, 0), Block(32, 4, 64, 1))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = tensor(X)

    def step():
        opt.zero_grad()
        F.mse_loss(model(x), target).backward()
        opt.step()

    return step


def transformer_torch(X, target, dtype):
    layer = lambda: torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)  # noqa: E731
    model = torch.nn.Sequential(layer(), layer()).to(dtype)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, tgt = torch.tensor(X, dtype=dtype), torch.tensor(target, dtype=dtype)

    def step():
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), tgt).backward()
        opt.step()

    return step


# --- per-op overhead --------------------------------------------------------------------------
def overhead_us(n: int = 20000) -> dict[str, float]:
    a = tensor(np.ones((2, 2)), requires_grad=True)
    b = tensor(np.ones((2, 2)), requires_grad=True)
    out = {}
    t = time.perf_counter()
    for _ in range(n):
        a * b
    out["ours: a * b forward (2x2, grad)"] = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    x, y = a.data, b.data
    for _ in range(n):
        x * y
    out["numpy: a * b (2x2)"] = (time.perf_counter() - t) / n * 1e6
    reps = n // 20
    t = time.perf_counter()
    for _ in range(reps):
        h = a
        for _ in range(9):
            h = h * b
        h.sum().backward()
    out["ours: per node, 10-node graph fwd+bwd"] = (time.perf_counter() - t) / (reps * 10) * 1e6
    if torch is not None:
        ta = torch.ones((2, 2), dtype=torch.float64, requires_grad=True)
        tb = torch.ones((2, 2), dtype=torch.float64, requires_grad=True)
        t = time.perf_counter()
        for _ in range(n):
            ta * tb
        out["torch: a * b forward (2x2, grad)"] = (time.perf_counter() - t) / n * 1e6
        t = time.perf_counter()
        for _ in range(reps):
            h = ta
            for _ in range(9):
                h = h * tb
            h.sum().backward()
        out["torch: per node, 10-node graph fwd+bwd"] = (time.perf_counter() - t) / (reps * 10) * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    if torch is not None:
        torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    xs = rng.standard_normal((20, 16, 8))
    lstm_target = rng.standard_normal((16, 32))
    T = rng.standard_normal((16, 16, 32))
    T_target = rng.standard_normal((16, 16, 32))

    rows = []
    cases = [
        ("MLP 2-32-32-2, 256 points", lambda: mlp_ours(X, y), lambda d: mlp_torch(X, y, d),
         [("plain NumPy", lambda: mlp_numpy(X, y)), ("core.nn fused", lambda: mlp_core_nn(X, y))]),
        ("LSTMCell 8->32, 20 steps, batch 16", lambda: lstm_ours(xs, lstm_target),
         lambda d: lstm_torch(xs, lstm_target, d), []),
        ("2 transformer blocks d32 h4, 16x16", lambda: transformer_ours(T, T_target),
         lambda d: transformer_torch(T, T_target, d), []),
    ]
    for name, ours, theirs, others in cases:
        steppers = [ours()] + [make() for _, make in others]
        if torch is not None:
            steppers += [theirs(torch.float64), theirs(torch.float32)]
        times = per_step_ms(steppers, args.steps, args.repeats)
        ms = times[0]
        line = [name, f"core.tensor {ms:7.3f} ms"]
        for (label, _), t in zip(others, times[1:]):
            line.append(f"{label} {t:7.3f} ms (ours/it {ms / t:4.2f})")
        if torch is not None:
            t64, t32 = times[-2:]
            line.append(f"torch f64 {t64:7.3f} ms (ours/torch {ms / t64:4.2f})")
            line.append(f"torch f32 {t32:7.3f} ms (ours/torch {ms / t32:4.2f})")
        rows.append(line)
    print(f"one training step (forward + backward + Adam), best of {args.repeats} x {args.steps} steps"
          + (f"; torch {torch.__version__}, 1 thread" if torch is not None else "; torch not installed"))
    for line in rows:
        print("  " + line[0])
        for part in line[1:]:
            print("      " + part)
    print("per-op overhead (µs)")
    for k, v in overhead_us().items():
        print(f"  {k:42s} {v:6.2f}")


if __name__ == "__main__":
    main()
