"""Autoencoder lab benchmark: one training step of the lab's VAE (ours vs PyTorch CPU) and the
lab's frame at 120x36 while training runs in the worker.

    python benchmarks/autoencoder.py [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def training_step(repeats: int) -> None:
    import numpy as np

    from core.data import digits
    from core.generative import DigitAutoencoder

    X, _ = digits(n_per_class=100, size=16, seed=0)
    X = X.reshape(len(X), 256)
    print("\none training step of the lab's VAE: 256-32-(2+2)-32-256, batch 64, BCE + KL, Adam")
    print(f"{'':<34} {'ms':>8} {'vs ours':>8}")
    net = DigitAutoencoder(256, 32, 2, "vae", seed=0)
    ours = median_ms(lambda: net.step(X, 64, 0.005, beta=1.0), repeats)
    print(f"{'ours (numba kernels, float64)':<34} {ours:8.3f} {1.0:8.2f}")
    x, x_t, eps = net.batch(X, 64)
    grad_only = median_ms(lambda: net.loss_and_grad(x, x_t, eps, 1.0), repeats)
    print(f"{'ours, loss and gradient only':<34} {grad_only:8.3f} {grad_only / ours:8.2f}")
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("PyTorch not installed: ours only")
        return

    for dtype in (torch.float64, torch.float32):
        model = torch.nn.ModuleDict({
            name: torch.nn.Linear(*shape) for name, shape in
            (("fc1", (256, 32)), ("fc2", (32, 2)), ("fc3", (32, 2)), ("fc4", (2, 32)),
             ("fc5", (32, 256)))}).to(dtype)
        with torch.no_grad():  # the lab's initial weights
            for name, p in model.named_parameters():
                p.copy_(torch.tensor(net.params[name]))
        opt = torch.optim.Adam(model.parameters(), lr=0.005)
        data = torch.tensor(X, dtype=dtype)
        gen = torch.Generator().manual_seed(0)

        def step():
            idx = torch.randperm(len(data), generator=gen)[:64]
            xb = data[idx]
            h = F.relu(model["fc1"](xb))
            mu, logvar = model["fc2"](h), model["fc3"](h)
            z = mu + torch.exp(logvar / 2) * torch.randn(mu.shape, generator=gen, dtype=dtype)
            logits = model["fc5"](F.relu(model["fc4"](z)))
            recon = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum") / len(xb)
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(xb)
            loss = recon + kl
            opt.zero_grad()
            loss.backward()
            opt.step()

        ms = median_ms(step, repeats)
        name = f"PyTorch {str(dtype).split('.')[-1]} ({torch.get_num_threads()} threads)"
        print(f"{name:<34} {ms:8.3f} {ms / ours:8.2f}")

    # same numbers: one gradient of ours against autograd on the same batch and ε
    model64 = {name: torch.tensor(v, requires_grad=True) for name, v in net.params.items()}

    def lin(name, h):
        return h @ model64[f"{name}.weight"].T + model64[f"{name}.bias"]

    xb, eb = torch.tensor(x), torch.tensor(eps)
    h = F.relu(lin("fc1", xb))
    mu, logvar = lin("fc2", h), lin("fc3", h)
    logits = lin("fc5", F.relu(lin("fc4", mu + torch.exp(logvar / 2) * eb)))
    loss = F.binary_cross_entropy_with_logits(logits, torch.tensor(x_t), reduction="sum") / 64 \
        - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / 64
    loss.backward()
    terms, grad = net.loss_and_grad(x, x_t, eps, 1.0)
    theirs = np.concatenate([model64[n].grad.numpy().ravel() for n in net.params])
    print(f"loss {terms['loss']:.6f} vs PyTorch {loss.item():.6f}; largest gradient difference "
          f"{np.max(np.abs(theirs - grad)):.1e}")


def frame(repeats: int) -> None:
    import asyncio

    from textual.screen import Screen

    from tutor.labdemo import LabApp

    repaint: list[float] = []
    original = Screen._compositor_refresh

    def timed(self):
        t = time.perf_counter()
        original(self)
        repaint.append(time.perf_counter() - t)

    async def run(params: dict, pages: list[str], train: bool) -> list[tuple]:
        rows = []
        app = LabApp("autoencoder", params)
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            lab = app.query_one("#lab")
            for page in pages:
                if page:
                    lab._apply("page", page)
                    await pilot.pause()
                lab.playing = train  # training runs in the worker meanwhile
                draws, moves = [], []
                repaint.clear()
                for _ in range(repeats):
                    t = time.perf_counter()
                    lab.redraw()
                    draws.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    lab.action_move(1, 0)  # the cursor decoded live
                    moves.append(time.perf_counter() - t)
                    await pilot.pause()
                lab.playing = False
                await app.workers.wait_for_complete()
                rows.append((page or params["view"], 1e3 * statistics.median(draws),
                             1e3 * statistics.median(moves),
                             1e3 * statistics.median(repaint or [0.0]),
                             1e3 * max(repaint or [0.0])))
        return rows

    Screen._compositor_refresh = timed
    try:
        print("\nthe lab's frame at 120x36 in ms: median redraw (model + widgets), cursor move, "
              "repaint (median and max), idle | while the worker trains")
        print(f"{'view / page':<14} {'redraw':>7} {'cursor':>7} {'repaint':>8} {'max':>7} | "
              f"{'redraw':>7} {'repaint':>8} {'max':>7}")
        for params, pages in (({"view": "pca"}, [""]),
                              ({"view": "vae", "steps": 20},
                               ["recon", "reparam", "grid", "samples", "interp"]),
                              ({"view": "denoise", "latent": 8, "steps": 5}, ["denoise"])):
            idle = asyncio.run(run(params, pages, False))
            busy = asyncio.run(run(params, pages, True))
            for (name, draw, move, paint, worst), (_, bdraw, _, bpaint, bworst) in zip(idle, busy):
                print(f"{name:<14} {draw:7.2f} {move:7.2f} {paint:8.2f} {worst:7.2f} | "
                      f"{bdraw:7.2f} {bpaint:8.2f} {bworst:7.2f}")
    finally:
        Screen._compositor_refresh = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="pin BLAS/torch threads (0: default)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import core

    core.warmup(packages=("generative", "data", "nn", "optim"))
    if args.threads:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    repeats = 20 if args.quick else 100
    training_step(repeats)
    frame(10 if args.quick else 30)


if __name__ == "__main__":
    main()
