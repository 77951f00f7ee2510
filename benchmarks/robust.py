"""Benchmark core.robust: FGSM and a 20-step PGD on a batch of 256 digits, and one frame of
the robustness lab at 120x36.

The attacked network is the lab's MLP 256-64-10 (ReLU) on 16 x 16 digits. Compared with the
same attacks written in plain NumPy (the input gradient by hand) and with PyTorch on the CPU
when installed (the same weights, float64, `torch.autograd.grad`). Goal (issue 16): faster than
PyTorch; one lab frame under 16 ms.

    python benchmarks/robust.py [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, any venv

EPS, ALPHA, STEPS, BATCH = 0.1, 0.02, 20, 256


def best_of(fn, repeats: int) -> float:
    """The fastest of `repeats` runs of fn(), in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_grad(W1, b1, W2, b2, x, y):
    """∇ₓ of the mean cross-entropy of relu(x W1ᵀ + b1) W2ᵀ + b2, by hand."""
    h = x @ W1.T + b1
    a = np.maximum(h, 0)
    z = a @ W2.T + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return ((p / len(y)) @ W2 * (h > 0)) @ W1


def numpy_fgsm(w, x, y):
    return np.clip(x + EPS * np.sign(numpy_grad(*w, x, y)), 0, 1)


def numpy_pgd(w, x, y):
    cur = x
    for _ in range(STEPS):
        cur = np.clip(x + np.clip(cur + ALPHA * np.sign(numpy_grad(*w, cur, y)) - x, -EPS, EPS), 0, 1)
    return cur


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0, help="pin BLAS/torch threads (0: default)")
    parser.add_argument("--no-frame", action="store_true", help="skip the lab frame")
    args = parser.parse_args()
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    global np
    import numpy as np

    import core
    from core.data import digits
    from core.robust import fgsm, pgd
    from tutor.labs.robustness import nets

    core.warmup(packages=("optim", "data", "tensor", "robust"))
    images, labels = digits(40, 16, 0)
    X, y = images.reshape(len(labels), -1)[:BATCH], labels[:BATCH]
    model = nets.make_mlp([256, 64, 10], 0)
    nets.train(model, X, y, X, y, steps=100, lr=0.005, batch_size=32, seed=0)
    lin = nets.linears(model)
    w = (lin[0].weight.data, lin[0].bias.data, lin[1].weight.data, lin[1].bias.data)

    ours_f = best_of(lambda: fgsm(model, X, y, EPS, clip=(0.0, 1.0)), args.repeats)
    ours_p = best_of(lambda: pgd(model, X, y, EPS, ALPHA, STEPS, clip=(0.0, 1.0)), args.repeats)
    ref_f = best_of(lambda: numpy_fgsm(w, X, y), args.repeats)
    ref_p = best_of(lambda: numpy_pgd(w, X, y), args.repeats)
    assert np.array_equal(fgsm(model, X, y, EPS, clip=(0.0, 1.0)), numpy_fgsm(w, X, y))

    torch_f = torch_p = None
    try:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        net = torch.nn.Sequential(torch.nn.Linear(256, 64), torch.nn.ReLU(),
                                  torch.nn.Linear(64, 10)).double()
        with torch.no_grad():
            for dst, src in zip(net.parameters(), w):
                dst.copy_(torch.from_numpy(src))
        tx, ty = torch.from_numpy(X), torch.from_numpy(y)

        def t_grad(xx):
            xx = xx.clone().requires_grad_(True)
            loss = torch.nn.functional.cross_entropy(net(xx), ty)
            return torch.autograd.grad(loss, xx)[0]

        def t_fgsm():
            return (tx + EPS * t_grad(tx).sign()).clamp(0, 1)

        def t_pgd():
            cur = tx
            for _ in range(STEPS):
                cur = (tx + (cur + ALPHA * t_grad(cur).sign() - tx).clamp(-EPS, EPS)).clamp(0, 1)
            return cur

        torch_f = best_of(t_fgsm, args.repeats)
        torch_p = best_of(t_pgd, args.repeats)
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        same = np.array_equal(t_fgsm().numpy(), fgsm(model, X, y, EPS, clip=(0.0, 1.0)))
        print(f"FGSM images identical to PyTorch's: {same}")
    except ImportError:
        print("PyTorch not installed: its column stays empty")

    print(f"{'batch of 256 digits, MLP 256-64-10':<40} {'ours ms':>9} {'NumPy':>9} {'PyTorch':>9} {'ours/torch':>10}")
    for name, ours, ref, tt in [("FGSM", ours_f, ref_f, torch_f),
                                (f"PGD, {STEPS} steps (best iterate kept)", ours_p, ref_p, torch_p)]:
        ratio = f"{ours / tt:9.2f}x" if tt else "         -"
        t_s = f"{1e3 * tt:9.3f}" if tt else "        -"
        print(f"{name:<40} {1e3 * ours:9.3f} {1e3 * ref:9.3f} {t_s} {ratio}")

    if not args.no_frame:
        from _frame import textual_frame_ms

        for view in ("plane", "digits", "lipschitz", "regularization"):
            step, repaint = textual_frame_ms("robustness", {"view": view}, (120, 36))
            print(f"lab frame at 120x36, {view:<15} step {step:6.2f} ms + repaint {repaint:6.2f} ms "
                  f"= {step + repaint:6.2f} ms (goal < 16)")


if __name__ == "__main__":
    main()
