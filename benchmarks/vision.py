"""Benchmark core.vision: conv2d, pooling and normalization against NumPy and PyTorch (float64).

Run: `python benchmarks/vision.py` (figures for ours and NumPy), or from a virtualenv with
torch installed, `PYTHONPATH=. /path/to/torchvenv/bin/python benchmarks/vision.py`.
`--threads 1` pins NumPy's BLAS and PyTorch to one thread (set before they load).
Times are the best of several repeats, in milliseconds; ratio = ours / PyTorch. PyTorch's
backward rows time `autograd.grad` alone (the forward graph is built once, outside the timing).
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit

CONV_SHAPES = [((1, 1, 512, 512), (1, 1, 3, 3)), ((64, 1, 32, 32), (6, 1, 5, 5)), ((64, 6, 14, 14), (16, 6, 5, 5))]


def best_ms(fn, number: int = 5, repeat: int = 5) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3


def numpy_conv2d(x, w):
    """The NumPy reference: im2col by sliding_window_view, then one tensordot (BLAS)."""
    import numpy as np

    K = w.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(2, 3))  # N C OH OW K K
    return np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)


def numpy_conv2d_backward(dout, x, w):
    import numpy as np

    K = w.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(2, 3))
    dw = np.tensordot(dout, win, axes=([0, 2, 3], [0, 2, 3]))
    dpad = np.pad(dout, ((0, 0), (0, 0), (K - 1, K - 1), (K - 1, K - 1)))
    dwin = np.lib.stride_tricks.sliding_window_view(dpad, (K, K), axis=(2, 3))
    dx = np.tensordot(dwin, w[:, :, ::-1, ::-1], axes=([1, 4, 5], [0, 2, 3])).transpose(0, 3, 1, 2)
    return dx, dw, dout.sum(axis=(0, 2, 3))


def row(name: str, ours: float, ref: float | None, torch_ms: float | None) -> None:
    ref_s = f"{ref:9.3f}" if ref is not None else "        -"
    t_s = f"{torch_ms:9.3f}" if torch_ms is not None else "        -"
    ratio = f"{ours / torch_ms:6.2f}x" if torch_ms else "     -"
    print(f"{name:<44} {ours:9.3f} {ref_s} {t_s} {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="pin BLAS/torch threads (0: default)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import numpy as np

    import core
    from core import vision as V

    core.warmup()
    try:
        import torch
        import torch.nn.functional as F

        if args.threads:
            torch.set_num_threads(args.threads)
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        torch = F = None
        print("PyTorch not installed: showing ours and the NumPy reference only")
    n = 2 if args.quick else 5
    rng = np.random.default_rng(0)
    print(f"{'operation (float64, ms)':<44} {'ours':>9} {'numpy':>9} {'pytorch':>9} {'ratio':>7}")

    for xs, ws in CONV_SHAPES:
        x, w = rng.normal(size=xs), rng.normal(size=ws)
        y = V.conv2d(x, w)
        assert np.allclose(y, numpy_conv2d(x, w))
        d = rng.normal(size=y.shape)
        label = f"conv2d {xs}x{ws[0]},{ws[2]}x{ws[3]}"
        t_ours = best_ms(lambda: V.conv2d(x, w), n)
        t_np = best_ms(lambda: numpy_conv2d(x, w), n)
        t_bo = best_ms(lambda: V.conv2d_backward(d, x, w), n)
        t_bn = best_ms(lambda: numpy_conv2d_backward(d, x, w), n)
        t_t = t_tb = None
        if torch is not None:
            xt = torch.tensor(x, requires_grad=True)
            wt = torch.tensor(w, requires_grad=True)
            dt = torch.tensor(d)
            assert np.allclose(F.conv2d(xt, wt).detach().numpy(), y)
            with torch.no_grad():
                t_t = best_ms(lambda: F.conv2d(xt, wt), n)
            yt = F.conv2d(xt, wt)
            t_tb = best_ms(lambda: torch.autograd.grad(yt, (xt, wt), dt, retain_graph=True), n)
        row(label, t_ours, t_np, t_t)
        row("  backward (dx, dw, db)", t_bo, t_bn, t_tb)

    x = rng.normal(size=(64, 6, 28, 28))
    for name, fwd, bwd, tfn in [
        ("max_pool2d 2x2 (64, 6, 28, 28)", V.max_pool2d, V.max_pool2d_backward, "max_pool2d"),
        ("avg_pool2d 2x2 (64, 6, 28, 28)", V.avg_pool2d, V.avg_pool2d_backward, "avg_pool2d"),
    ]:
        d = rng.normal(size=(64, 6, 14, 14))
        ref = lambda: x.reshape(64, 6, 14, 2, 14, 2).max(axis=(3, 5)) if "max" in name else x.reshape(64, 6, 14, 2, 14, 2).mean(axis=(3, 5))  # noqa: E731
        t_t = t_tb = None
        if torch is not None:
            xt = torch.tensor(x, requires_grad=True)
            dt = torch.tensor(d)
            f = getattr(F, tfn)
            with torch.no_grad():
                t_t = best_ms(lambda: f(xt, 2), n)
            yt = f(xt, 2)
            t_tb = best_ms(lambda: torch.autograd.grad(yt, xt, dt, retain_graph=True), n)
        row(name, best_ms(lambda: fwd(x, 2), n), best_ms(ref, n), t_t)
        row("  backward", best_ms(lambda: bwd(d, x, 2), n), None, t_tb)

    x = rng.normal(size=(64, 16, 10, 10))
    d = rng.normal(size=x.shape)
    g, b = np.ones(16), np.zeros(16)
    gl, bl = np.ones((16, 10, 10)), np.zeros((16, 10, 10))
    cases = [
        ("batch_norm (64, 16, 10, 10)", V.batch_norm, V.batch_norm_backward, g, b, (0, 2, 3)),
        ("layer_norm (64, 16, 10, 10)", V.layer_norm, V.layer_norm_backward, gl, bl, (1, 2, 3)),
        ("instance_norm (64, 16, 10, 10)", V.instance_norm, V.instance_norm_backward, g, b, (2, 3)),
    ]
    for name, fwd, bwd, gg, bb, axes in cases:
        def ref(axes=axes):
            mu = x.mean(axis=axes, keepdims=True)
            return (x - mu) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)

        t_t = t_tb = None
        if torch is not None:
            xt = torch.tensor(x, requires_grad=True)
            gt, bt, dt = torch.tensor(gg, requires_grad=True), torch.tensor(bb, requires_grad=True), torch.tensor(d)
            if "batch" in name:
                f = lambda: F.batch_norm(xt, None, None, gt, bt, training=True)  # noqa: E731
            elif "layer" in name:
                f = lambda: F.layer_norm(xt, (16, 10, 10), gt, bt)  # noqa: E731
            else:
                f = lambda: F.instance_norm(xt, weight=gt, bias=bt)  # noqa: E731
            assert np.allclose(f().detach().numpy(), fwd(x, gg, bb))
            with torch.no_grad():
                t_t = best_ms(f, n)
            yt = f()
            t_tb = best_ms(lambda: torch.autograd.grad(yt, (xt, gt, bt), dt, retain_graph=True), n)
        row(name, best_ms(lambda: fwd(x, gg, bb), n), best_ms(ref, n), t_t)
        row("  backward", best_ms(lambda: bwd(d, x, gg, bb), n), None, t_tb)

    from tutor.labs.convolution.views import frame_benchmark

    print(f"{'lab frame, arrays: conv + fit + colour':<44} {frame_benchmark():9.3f}")
    try:
        import textual  # noqa: F401
    except ImportError as exc:
        print(f"lab frame drawn: not measured here ({exc}); run with the dev virtualenv")
        return
    import asyncio
    import logging

    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # the paused playback timer at exit

    print(f"{'lab frame: 128x128 convolved, drawn at 120x36':<44} {asyncio.run(full_frame_ms()):9.3f}   (goal < 16 ms)")


async def full_frame_ms(repeat: int = 10) -> float:
    """One step of the lab in a headless 120 x 36 app: the next kernel preset applied to a
    128 x 128 image, every panel and text updated, and every PixelView row rebuilt."""
    import time

    from tutor.labdemo import LabApp
    from tutor.widgets.pixel_view import PixelView

    app = LabApp("convolution", {"size": 128, "image": "scene"})
    best = float("inf")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        lab = app.query_one("#lab")
        views = list(lab.query(PixelView))
        for _ in range(repeat):
            if not lab.model.history.step():
                lab.model.history.reset()
            t0 = time.perf_counter()
            lab.redraw()
            for view in views:
                for y in range(view.size.height):
                    view.render_line(y)
            best = min(best, time.perf_counter() - t0)
    return best * 1e3


if __name__ == "__main__":
    main()
