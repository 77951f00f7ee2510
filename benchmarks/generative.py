"""Benchmarks for chapters 10 and 11: a GAN round and a flow step against PyTorch CPU, and the
gan and flow labs' frames at 120x36.

    python benchmarks/generative.py            # everything (about a minute)
    python benchmarks/generative.py --no-ui    # only the training steps

Times are medians; "cpu" is the main thread's CPU time (robust on a busy machine), "wall" the
elapsed time. PyTorch runs with one thread (ours are single-threaded kernels) and with its
default thread count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def _median_ms(fn, repeat: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - t)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)


def ours_gan(repeat: int):
    from core.generative import GAN, sample_2d

    gan = GAN(sample_2d("ring", 512, 0), g_hidden=(16, 16), d_hidden=(16, 16), batch_size=64, seed=0)
    for _ in range(20):
        gan.step()
    return _median_ms(gan.step, repeat)


def ours_flow(repeat: int):
    from core.generative import AffineCoupling, Flow, FlowTrainer, sample_2d

    flow = Flow([AffineCoupling(2, (16, 16), [1, 0] if k % 2 == 0 else [0, 1], seed=k)
                 for k in range(4)])
    trainer = FlowTrainer(flow, data=sample_2d("moons", 1024, 0), lr=5e-3, batch_size=128)
    for _ in range(20):
        trainer.step()
    return _median_ms(trainer.step, repeat)


def torch_gan(repeat: int):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    data = torch.randn(512, 2, dtype=torch.float64)
    G = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2)).double()
    D = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)).double()
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))

    def round_():
        real = data[torch.randint(512, (64,))]
        fake = G(torch.randn(64, 2, dtype=torch.float64)).detach()
        d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(G(torch.randn(64, 2, dtype=torch.float64)))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    for _ in range(20):
        round_()
    return _median_ms(round_, repeat)


def torch_flow(repeat: int):
    import torch
    import torch.nn as nn

    torch.manual_seed(0)

    class Coupling(nn.Module):
        def __init__(self, mask):
            super().__init__()
            self.register_buffer("b", torch.tensor(mask, dtype=torch.float64))
            self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                                     nn.Linear(16, 4)).double()

        def inverse(self, x):
            raw, t = self.net(self.b * x).chunk(2, dim=1)
            s = 2.0 * torch.tanh(raw) * (1 - self.b)
            return (x - t * (1 - self.b)) * (-s).exp(), s.sum(1)

    layers = nn.ModuleList(Coupling([1.0, 0.0] if k % 2 == 0 else [0.0, 1.0]) for k in range(4))
    data = torch.randn(1024, 2, dtype=torch.float64)
    opt = torch.optim.Adam(layers.parameters(), lr=5e-3)

    def step():
        x = data[torch.randint(1024, (128,))]
        total = torch.zeros(128, dtype=torch.float64)
        for layer in reversed(layers):
            x, ld = layer.inverse(x)
            total = total + ld
        loss = (0.5 * (x**2).sum(1) + total).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    return _median_ms(step, repeat)


def frame_ms(lab: str, params: dict, steps: int = 12):
    """Median main-thread CPU ms of one lab step including its redraw, and of the repaint."""
    import asyncio

    from textual.screen import Screen

    from tutor.labdemo import LabApp
    from tutor.labs import validate_lab

    repaint: list[float] = []
    original = Screen._compositor_refresh

    def timed(self):
        c = time.thread_time()
        original(self)
        repaint.append(time.thread_time() - c)

    async def run():
        app = LabApp(lab, validate_lab(lab, params))
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            widget = app.query_one("#lab")
            times = []
            repaint.clear()
            for _ in range(steps):
                c = time.thread_time()
                widget.step_forward()  # the GAN lab redraws inside it, the flow lab asks for one
                if getattr(widget, "_redraw_pending", False):
                    widget._redraw_now()  # that redraw, now, so it is timed (and done once)
                times.append(time.thread_time() - c)
                await pilot.pause()
            return 1e3 * statistics.median(times), 1e3 * statistics.median(repaint or [0.0])

    Screen._compositor_refresh = timed
    try:
        return asyncio.run(run())
    finally:
        Screen._compositor_refresh = original


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ui", action="store_true", help="skip the lab frames")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    import core

    core.warmup(packages=("optim", "generative"))
    rows = [("GAN round (D step + G step, 2-16-16-x, batch 64)", ours_gan, torch_gan),
            ("flow step (4 coupling layers 2-16-16-4, batch 128)", ours_flow, torch_flow)]
    try:
        import torch
    except ImportError:
        torch = None
    print(f"{'':52} {'ours wall/cpu ms':>18} {'torch 1 thr':>14} {'torch default':>14}")
    for name, ours, theirs in rows:
        w, c = ours(args.repeat)
        line = f"{name:52} {w:8.3f} / {c:6.3f}"
        if torch is not None:
            default = torch.get_num_threads()
            torch.set_num_threads(1)
            w1, c1 = theirs(args.repeat)
            torch.set_num_threads(default)
            wd, _ = theirs(args.repeat)
            line += f" {w1:8.3f} ({w1 / w:4.1f}x) {wd:8.3f} ({wd / w:4.1f}x)"
        print(line)
    if not args.no_ui:
        print("\nlab frames at 120x36 (main-thread CPU ms, median): step + redraw, repaint")
        for lab, params in (("gan", {"steps": 100}), ("gan", {"view": "bilinear"}),
                            ("flow", {}), ("flow", {"view": "2d", "steps": 100}),
                            ("flow", {"view": "2d", "flow": "planar", "dataset": "ring", "layers": 8})):
            step, paint = frame_ms(lab, params)
            print(f"  {lab:5} {str(params):62} {step:7.2f} {paint:7.2f}  total {step + paint:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
