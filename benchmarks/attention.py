"""Benchmark the attention lab: one training step (forward, backward, Adam) of its tiny
transformer — the lab's NumPy code with the backward written out, the same model on
core.tensor's autodiff, and PyTorch CPU (`nn.TransformerEncoderLayer(norm_first=True)` with the
lab's weights copied in, float64 and float32) — and the lab's frame at 120x36: the redraw after
a step, in the steps view and in the training view while a worker thread trains.

Goal (issue 15): the lab's step faster than PyTorch's at these sizes; frames under 16 ms.

    python benchmarks/attention.py [--repeats 5] [--torch-threads 1] [--no-frames]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, any venv

from tutor.labs import validate_lab  # noqa: E402
from tutor.labs.attention.model import AttentionModel  # noqa: E402
from tutor.labs.attention.numerics import causal_mask  # noqa: E402
from tutor.labs.attention.reference import TensorTransformer  # noqa: E402
from tutor.labs.attention.transformer import Adam  # noqa: E402

CASES = {
    "reverse (B 32, T 6)": {"view": "train"},
    "characters (B 16, T 24)": {"view": "lm", "batch": 16},
}


def median_ms(fn, n: int) -> float:
    """Median CPU time of fn() in ms (time.process_time: every thread of this process, and not
    the time other processes on a shared machine take the cores away)."""
    fn()  # warm
    times = []
    for _ in range(n):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return 1e3 * statistics.median(times)


def torch_model(lab, dtype):
    import torch
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            d = lab.d
            self.embed = nn.Embedding(lab.vocab, d)
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(d, lab.h, dim_feedforward=lab.d_ff, dropout=0.0,
                                           batch_first=True, norm_first=True)
                for _ in range(lab.n_layers))
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, lab.n_out)
            self.register_buffer("pe", torch.tensor(lab.pe))

        def forward(self, tokens, mask=None):
            x = self.embed(tokens) + self.pe[: tokens.shape[1]]
            for layer in self.layers:
                x = layer(x, src_mask=mask)
            return self.head(self.norm(x))

    model = Tiny().to(dtype)  # the dtype first: loading float64 weights into float32 rounds them
    state = {k: torch.tensor(v, dtype=dtype) for k, v in lab.params.items()}
    state["pe"] = torch.tensor(lab.pe, dtype=dtype)
    model.load_state_dict(state)
    return model


def bench_training(repeats: int) -> None:
    import torch

    print(f"one training step (forward, backward, Adam), median CPU time of {repeats} "
          f"(torch {torch.__version__}, {torch.get_num_threads()} threads)")
    print(f"{'case':<26}{'lab NumPy':>11}{'core.tensor':>13}{'torch f64':>11}{'torch f32':>11}"
          f"{'torch/lab':>11}  max|Δlogits|")
    for name, params in CASES.items():
        m = AttentionModel(validate_lab("attention", params))
        trainer = m.view
        net = trainer.net
        x, y = trainer.batch(0)
        mask = trainer.mask
        opt = Adam(net.params, lr=3e-3)

        def ours():
            loss, grads = net.loss_and_grads(x, y, mask)
            opt.step(grads)

        ref = TensorTransformer(net)

        ref_opt = Adam({k: p.data for k, p in ref.named().items()}, lr=3e-3)

        def autodiff():
            _, grads = ref.loss_and_grads(x, y, causal=mask is not None)
            ref_opt.step(grads)

        results = []
        diff = float("nan")
        for dtype in (torch.float64, torch.float32):
            tm = torch_model(net, dtype)
            tx, ty = torch.tensor(x), torch.tensor(y)
            tmask = None
            if mask is not None:
                tmask = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1], dtype=dtype)
            if dtype == torch.float64:
                with torch.no_grad():
                    diff = float((tm(tx, tmask).numpy() - net.forward(x, mask)).__abs__().max())
            topt = torch.optim.Adam(tm.parameters(), lr=3e-3)

            def step(tm=tm, topt=topt, tx=tx, ty=ty, tmask=tmask):
                logits = tm(tx, tmask)
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ty.reshape(-1))
                topt.zero_grad()
                loss.backward()
                topt.step()

            results.append(median_ms(step, repeats))
        lab_ms = median_ms(ours, repeats)
        ad_ms = median_ms(autodiff, repeats)
        print(f"{name:<26}{lab_ms:>9.2f}ms{ad_ms:>11.2f}ms{results[0]:>9.2f}ms{results[1]:>9.2f}ms"
              f"{results[0] / lab_ms:>10.2f}x  {diff:.1e}")


def bench_frames(repeats: int) -> None:
    import asyncio

    from textual.screen import Screen

    from tutor.labdemo import LabApp

    repaint: list[float] = []
    repaint_cpu: list[float] = []
    original = Screen._compositor_refresh

    def timed(self):
        t, c = time.perf_counter(), time.thread_time()
        original(self)
        repaint.append(time.perf_counter() - t)
        repaint_cpu.append(time.thread_time() - c)

    async def run(params, train: bool):
        app = LabApp("attention", validate_lab("attention", params))
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            lab = app.query_one("#lab")
            redraws, cpu = [], []
            repaint.clear()
            repaint_cpu.clear()
            if train:
                lab.playing = True  # the worker trains; each finished chunk is drawn
                await asyncio.sleep(3.0)
                lab.playing = False
                await app.workers.wait_for_complete()
                for _ in range(repeats):  # redraws timed while a chunk trains in the worker
                    lab.busy = True
                    lab._train(lab.model)
                    t, c = time.perf_counter(), time.thread_time()
                    lab.redraw()
                    redraws.append(time.perf_counter() - t)
                    cpu.append(time.thread_time() - c)
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                steps = lab.model.view.state.step
            else:
                for _ in range(repeats):
                    if not lab.model.step():
                        lab.model.reset()
                    t, c = time.perf_counter(), time.thread_time()
                    lab.redraw()
                    redraws.append(time.perf_counter() - t)
                    cpu.append(time.thread_time() - c)
                    await pilot.pause()
                steps = None
            frames = max(len(repaint), 1)
            return (1e3 * statistics.median(redraws), 1e3 * statistics.median(cpu),
                    1e3 * sum(repaint) / frames, 1e3 * sum(repaint_cpu) / frames, steps)

    Screen._compositor_refresh = timed
    try:
        print("\nlab frame at 120x36: the lab's redraw after a step (median wall-clock, and the UI thread's"
              "\nCPU time, which other processes on the machine do not inflate) and Textual's repaint (mean)")
        for name, params, train in (("steps view", {}, False), ("scaling view", {"view": "scaling"}, False),
                                    ("positions view", {"view": "positions"}, False),
                                    ("train view, worker training", {"view": "train"}, True),
                                    ("characters, worker training", {"view": "lm", "batch": 16}, True)):
            redraw, cpu, paint, paint_cpu, steps = asyncio.run(run(params, train))
            extra = f"  ({steps} Adam steps in the first 3 s of play)" if steps is not None else ""
            print(f"{name:<29} redraw {redraw:6.2f} ms (CPU {cpu:5.2f})  repaint {paint:6.2f} ms "
                  f"(CPU {paint_cpu:5.2f}){extra}")
    finally:
        Screen._compositor_refresh = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch.set_num_threads (0: torch's default); 1 suits models this small")
    parser.add_argument("--no-frames", action="store_true", help="only the training steps")
    args = parser.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    print("load average %.1f %.1f %.1f on %d CPUs" % (*os.getloadavg(), os.cpu_count()))
    bench_training(args.repeats)
    if not args.no_frames:
        bench_frames(args.repeats)


if __name__ == "__main__":
    main()
