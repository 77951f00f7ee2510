"""Benchmark core.autodiff: a 2000-op chain built + differentiated, and a built tape re-run.

Compared with a plain-Python scalar engine in micrograd's design (written below) and with
PyTorch when installed. Goals (issue 3): re-running a built tape at least 50x faster than the
plain-Python engine; building + running no slower than it; one lab backward step under 16 ms.

    python benchmarks/autodiff.py
"""

from __future__ import annotations

import math
import time

import core
from core import autodiff as ad
from _frame import textual_frame_ms  # noqa: E402  (benchmarks/_frame.py, beside this script)

N_OPS = 2000


# --- a plain-Python scalar engine, micrograd's design ------------------------------------------
class Value:
    """A scalar with its gradient and a closure that pushes the gradient to its children."""

    __slots__ = ("data", "grad", "_backward", "_prev")

    def __init__(self, data, children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sin(self):
        out = Value(math.sin(self.data), (self,))

        def _backward():
            self.grad += math.cos(self.data) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        # iterative topological sort (micrograd's recursive one overflows at 2000 levels)
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
                continue
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((c, False) for c in v._prev)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def chain(x, tanh, sin):
    """N_OPS ops: repeat (·0.9, +0.1, tanh, ·x, sin) on a running value."""
    v = x
    for i in range(N_OPS // 5):
        v = tanh(v * 0.9 + 0.1) * x
        v = sin(v)
    return v


def best_of(fn, repeat: int = 15, number: int = 1) -> float:
    """Best time per call in seconds."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def micrograd_run(x0: float) -> tuple[float, float]:
    x = Value(x0)
    out = chain(x, Value.tanh, Value.sin)
    out.backward()
    return out.data, x.grad


def ours_build_and_run(x0: float):
    g = ad.Graph()
    x = g.input("x")
    out = chain(x, ad.tanh, ad.sin)
    value = g.forward(out, x=x0)
    return value, g.backward(out)["x"], g, out


def torch_run(torch, x0: float) -> tuple[float, float]:
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    out = chain(x, torch.tanh, torch.sin)
    out.backward()
    return out.item(), x.grad.item()


def lab_step_time() -> float | None:
    """Seconds for one backward step of the backprop lab's model plus drawing its graph."""
    try:
        from tutor.labs.backprop.layout import render_graph
        from tutor.labs.backprop.model import BackpropModel
    except ImportError:
        return None
    model = BackpropModel.from_preset("sigmoid")
    model.run_all()
    while model.back() and model.phase != "forward":
        pass

    def one_step():
        model.back()
        model.step()
        render_graph(model.view())

    return best_of(one_step, repeat=5, number=20)


def main() -> None:
    core.warmup()
    x0 = 0.7
    ref_value, ref_grad = micrograd_run(x0)
    value, grad, graph, out = ours_build_and_run(x0)
    assert abs(value - ref_value) < 1e-12 and abs(grad - ref_grad) < 1e-9, "engines disagree"

    t_micro = best_of(lambda: micrograd_run(x0))
    t_build = best_of(lambda: ours_build_and_run(x0))

    def rerun():
        graph.forward(out, x=x0)
        graph.backward(out)

    t_rerun = best_of(rerun, number=50)
    print(f"{N_OPS}-op chain (x -> ·0.9 -> +0.1 -> tanh -> ·x -> sin, repeated), forward + backward")
    print(f"  plain-Python engine (micrograd design), build + run : {t_micro * 1e3:8.3f} ms")
    print(f"  core.autodiff, build + run                          : {t_build * 1e3:8.3f} ms"
          f"   ({t_micro / t_build:5.2f}x the plain engine; goal >= 1x)")
    print(f"  core.autodiff, re-run of the built tape             : {t_rerun * 1e3:8.3f} ms"
          f"   ({t_micro / t_rerun:5.0f}x the plain engine; goal >= 50x)")
    try:
        import torch
    except ImportError:
        print("  PyTorch not installed")
    else:
        torch_value, torch_grad = torch_run(torch, x0)
        assert abs(torch_value - value) < 1e-12 and abs(torch_grad - grad) < 1e-9
        t_torch = best_of(lambda: torch_run(torch, x0))
        print(f"  PyTorch {torch.__version__} (float64 scalars), build + run   : {t_torch * 1e3:8.3f} ms"
              f"   (core.autodiff re-run {t_torch / t_rerun:5.0f}x faster)")
    t_step = lab_step_time()
    if t_step is None:
        print("  backprop lab: not available")
    else:
        print(f"  backprop lab, one backward step + graph drawing     : {t_step * 1e3:8.3f} ms"
              "   (goal well under 16 ms)")
        for size in ((120, 36), (80, 34)):  # full width; about the lab's share beside a lesson
            step_ms, paint_ms = textual_frame_ms("backprop", {"preset": "sigmoid"}, size)
            print(f"  backprop lab in Textual at {size[0]}x{size[1]}: step + widget updates "
                  f"{step_ms:.2f} ms, repaint {paint_ms:.2f} ms per step")


if __name__ == "__main__":
    main()
