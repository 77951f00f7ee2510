"""Benchmark core.recurrent and the RNN lab: training steps per second of the lab's models
(the memory race's three cells, the character LSTM) against PyTorch CPU on the same sizes, the
unrolled view's forward + BPTT, and the lab's frame at 120x36.

Goals: faster than PyTorch at these sizes; a frame (step + repaint) under 16 ms while training
runs in a worker. Run: python benchmarks/rnn.py [--steps N] [--no-frame] [--no-torch]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from core.recurrent import (PETER_RABBIT, CharCorpus, RecurrentNet, Trainer,  # noqa: E402
                            open_gate, recall_batch)


def ours(cell: str, task: str, steps: int) -> float:
    """Training steps per second of the lab's own model (core.recurrent)."""
    if task == "memory":
        net = RecurrentNet(cell, 5, 16, 4, seed=0)
        open_gate(net, 5.0)
        trainer = Trainer(net, lambda s: (*recall_batch(40, 32, seed=0, step=s), None), lr=0.02, clip=1.0)
    else:
        corpus = CharCorpus(PETER_RABBIT)
        net = RecurrentNet(cell, corpus.vocab, 64, corpus.vocab, seed=0)
        trainer = Trainer(net, lambda s: (*corpus.batch(32, 16, seed=0, step=s), None),
                          every_step=True, lr=0.01, clip=1.0)
    for _ in range(3):
        trainer.step()
    t = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    return steps / (time.perf_counter() - t)


def pytorch(cell: str, task: str, steps: int, threads: int | None = None) -> float:
    """The same model, optimizer, clipping and batch shapes with torch.nn (CPU, float64)."""
    import torch
    from torch import nn

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _pytorch(torch, nn, cell, task, steps)
    finally:
        torch.set_num_threads(before)


def _pytorch(torch, nn, cell: str, task: str, steps: int) -> float:
    torch.manual_seed(0)
    if task == "memory":
        T, B, D, H, O = 40, 32, 5, 16, 4
        batches = [recall_batch(T, B, seed=0, step=s) for s in range(steps + 3)]
        data = [(torch.tensor(x, dtype=torch.float64), torch.tensor(y)) for x, y in batches]
    else:
        corpus = CharCorpus(PETER_RABBIT)
        T, B, D, H, O = 32, 16, corpus.vocab, 64, corpus.vocab
        batches = [corpus.batch(T, B, seed=0, step=s) for s in range(steps + 3)]
        data = [(torch.tensor(x, dtype=torch.float64), torch.tensor(y)) for x, y in batches]
    rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](D, H).double()
    out = nn.Linear(H, O).double()
    params = list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=0.01)

    def step(x, y):
        outputs, _ = rnn(x)
        if task == "memory":
            loss = nn.functional.cross_entropy(out(outputs[-1]), y)
        else:
            loss = nn.functional.cross_entropy(out(outputs).reshape(-1, O), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    for x, y in data[:3]:
        step(x, y)
    t = time.perf_counter()
    for x, y in data[3:]:
        step(x, y)
    return steps / (time.perf_counter() - t)


def unroll_ms(repeats: int = 20) -> list[tuple[str, float]]:
    """The unrolled view's whole model (forward + BPTT) at its largest size, T = 200, H = 32."""
    from tutor.labs.rnn.model import RnnModel

    out = []
    for cell in ("rnn", "lstm", "gru"):
        RnnModel({"cell": cell, "T": 200, "hidden": 32})
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            RnnModel({"cell": cell, "T": 200, "hidden": 32})
            times.append(time.perf_counter() - t)
        out.append((cell, 1e3 * statistics.median(times)))
    return out


def redraw_ms(preset: str, advance: int, size=(120, 36), repeats: int = 10) -> tuple[float, float]:
    """A training view's frame: redraw after the worker's steps, and the repaint after it."""
    import asyncio

    from textual.screen import Screen

    from tutor.labdemo import LabApp
    from tutor.labs import validate_lab

    repaint: list[float] = []
    original = Screen._compositor_refresh

    def timed(self):
        t = time.perf_counter()
        original(self)
        repaint.append(time.perf_counter() - t)

    async def run():
        app = LabApp("rnn", validate_lab("rnn", {"preset": preset}))
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            lab = app.query_one("#lab")
            lab.model.advance(advance)
            times = []
            repaint.clear()
            for _ in range(repeats):
                lab.model.advance(1)  # what the worker does off the event loop
                t = time.perf_counter()
                lab.redraw()
                times.append(time.perf_counter() - t)
                await pilot.pause()
            return 1e3 * statistics.median(times), 1e3 * sum(repaint) / repeats

    Screen._compositor_refresh = timed
    try:
        return asyncio.run(run())
    finally:
        Screen._compositor_refresh = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--no-frame", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    try:
        import torch
        torch_ok = not args.no_torch
        threads = torch.get_num_threads()
    except ImportError:
        torch_ok, threads = False, 0
    print(f"training steps/s (float64, Adam, clipping), {args.steps} steps each; "
          f"PyTorch CPU with its default {threads} threads")
    for task, cells in (("memory", ("rnn", "lstm", "gru")), ("text", ("lstm", "gru"))):
        size = "T=40 B=32 H=16" if task == "memory" else "T=32 B=16 H=64 V=49"
        for cell in cells:
            mine = ours(cell, task, args.steps)
            line = f"  {task:6} {cell:4} ({size}): ours {mine:7.1f}/s"
            if torch_ok:
                theirs = pytorch(cell, task, args.steps)
                one = pytorch(cell, task, args.steps, threads=1)
                line += (f"   PyTorch {theirs:7.1f}/s ({mine / theirs:5.2f}x)"
                         f"   PyTorch 1 thread {one:7.1f}/s ({mine / one:5.2f}x)")
            print(line, flush=True)
    for cell, ms in unroll_ms():
        print(f"unrolled view, forward + BPTT, T=200 H=32, {cell:4}: {ms:6.2f} ms")
    if not args.no_frame:
        from _frame import textual_frame_ms

        for preset in ("vanishing", "lstm", "padding"):
            step, repaint = textual_frame_ms("rnn", {"preset": preset}, (120, 36))
            print(f"lab frame at 120x36, {preset:9}: step {step:6.2f} ms + repaint {repaint:6.2f} ms")
        for preset, advance in (("memory", 20), ("text", 20)):
            draw, repaint = redraw_ms(preset, advance)
            print(f"lab frame at 120x36, {preset:9}: redraw {draw:6.2f} ms + repaint {repaint:6.2f} ms "
                  "(training in the worker)")


if __name__ == "__main__":
    main()
