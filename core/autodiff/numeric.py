"""Numerical differentiation (notes 2.3.2) and Jacobians (notes 2.5), built on the tape.

Finite differences evaluate the tape many times with nudged inputs in one batched kernel call;
`difference_errors` shows the error against autodiff as a function of h: truncation error
shrinks with h, round-off error grows as h shrinks, so the error plotted against h is a V.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from core.autodiff.parse import parse
from core.autodiff.tape import Graph, Node

METHODS = ("forward", "central")


def _check_h(h) -> float:
    h = float(h)
    if not math.isfinite(h) or h <= 0.0:
        raise ValueError(f"the step h must be a positive finite number, got {h}")
    return h


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def finite_difference(f: Callable[[float], float], x: float, h: float = 1e-6,
                      method: str = "central") -> float:
    """f'(x) ≈ (f(x + h) - f(x)) / h ("forward") or (f(x + h) - f(x - h)) / 2h ("central")."""
    h = _check_h(h)
    _check_method(method)
    x = float(x)
    if method == "forward":
        return (f(x + h) - f(x)) / h
    return (f(x + h) - f(x - h)) / (2.0 * h)


def numerical_gradient(graph: Graph, output: Node, values: dict[str, float], h: float = 1e-6,
                       method: str = "central") -> dict[str, float]:
    """∂output/∂input estimated by finite differences, for every input of the graph."""
    h = _check_h(h)
    _check_method(method)
    base = graph.input_vector(output, values)
    k = len(base)
    eye = np.eye(k) * h
    if method == "forward":
        rows = np.vstack([base[None, :], base + eye])
        f = graph.evaluate_many(output, rows)
        slopes = (f[1:] - f[0]) / h
    else:
        rows = np.vstack([base + eye, base - eye])
        f = graph.evaluate_many(output, rows)
        slopes = (f[:k] - f[k:]) / (2.0 * h)
    return {name: float(slopes[i]) for i, name in enumerate(graph.inputs)}


def difference_errors(graph: Graph, output: Node, values: dict[str, float], wrt: str,
                      hs: Sequence[float] | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """|finite difference - autodiff| for each step h, forward and central (notes 2.3.2).

    Returns {"h": (H,), "forward": (H,), "central": (H,), "exact": float array of shape ()}.
    Default hs: 10^-1 ... 10^-15. Plotted on log-log axes each error curve is a V: truncation
    error (∝ h, or h² for central) on the right, round-off error (∝ ε/h) on the left.
    """
    if wrt not in graph.inputs:
        raise ValueError(f"the graph has no input {wrt!r}; its inputs are: {', '.join(graph.inputs)}")
    hs = np.logspace(-1, -15, 29) if hs is None else np.asarray(hs, dtype=np.float64)
    if hs.ndim != 1 or hs.size == 0 or not np.all(np.isfinite(hs)) or np.any(hs <= 0):
        raise ValueError("hs must be a non-empty 1-D array of positive finite steps")
    graph.forward(output, **values)
    exact = graph.backward(output)[wrt]
    base = graph.input_vector(output, values)
    slot = list(graph.inputs).index(wrt)
    rows = np.repeat(base[None, :], 1 + 2 * hs.size, axis=0)
    rows[1 : 1 + hs.size, slot] += hs
    rows[1 + hs.size :, slot] -= hs
    f = graph.evaluate_many(output, rows)
    f0, fp, fm = f[0], f[1 : 1 + hs.size], f[1 + hs.size :]
    return {
        "h": hs,
        "forward": np.abs((fp - f0) / hs - exact),
        "central": np.abs((fp - fm) / (2.0 * hs) - exact),
        "exact": np.asarray(exact),
    }


def gradient_check(graph: Graph, output: Node, values: dict[str, float],
                   h: float = 1e-6) -> list[tuple[str, float, float, float]]:
    """Autodiff against central differences: [(input, autodiff, numeric, relative error)].

    relative error = |a - n| / max(1e-12, |a| + |n|): about 1e-8 or less when autodiff is right.
    """
    graph.forward(output, **values)
    auto = graph.backward(output)
    numeric = numerical_gradient(graph, output, values, h=h, method="central")
    rows = []
    for name in graph.inputs:
        a, n = auto[name], numeric[name]
        rel = abs(a - n) / max(1e-12, abs(a) + abs(n))
        rows.append((name, a, n, rel))
    return rows


def jacobian(graph: Graph, outputs: Sequence[Node], values: dict[str, float],
             wrt: Sequence[str] | None = None) -> np.ndarray:
    """J[i, j] = ∂outputs[i]/∂wrt[j] (m, n): one backward pass per output, row by row.

    `wrt` defaults to every input of the graph, in the order they were made.
    """
    names = list(graph.inputs) if wrt is None else list(wrt)
    for name in names:
        if name not in graph.inputs:
            raise ValueError(f"the graph has no input {name!r}")
    if len(outputs) == 0:
        raise ValueError("expected at least one output")
    J = np.zeros((len(outputs), len(names)))
    for i, out in enumerate(outputs):
        graph.forward(out, **values)
        grads = graph.backward(out)
        J[i] = [grads[name] for name in names]
    return J


def jacobian_of(texts: Sequence[str], **values: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The value f (m,) and Jacobian J (m, n) of a vector function written as m expressions.

    >>> f, J, names = jacobian_of(["x1 * x2", "sin(x1) + x2"], x1=0.0, x2=3.0)
    """
    graph = None
    outputs = []
    for text in texts:
        graph, out = parse(text, graph)
        outputs.append(out)
    if graph is None:
        raise ValueError("expected at least one expression")
    f = np.array([graph.forward(out, **values) for out in outputs])
    return f, jacobian(graph, outputs, values), list(graph.inputs)


def linear_layer_jacobian(W, x) -> tuple[np.ndarray, np.ndarray]:
    """f(x) = W x built as a scalar graph; returns (f (m,), J (m, n)), and J equals W (2.5.2)."""
    W = np.ascontiguousarray(W, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if W.ndim != 2 or x.ndim != 1 or W.shape[1] != x.shape[0] or W.size == 0:
        raise ValueError(f"expected W (m, n) and x (n,), got W {W.shape} and x {x.shape}")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(x))):
        raise ValueError("W and x must be finite")
    graph = Graph()
    xs = [graph.input(f"x{j}") for j in range(x.shape[0])]
    outputs = []
    for row in W:
        acc = xs[0] * float(row[0])
        for j in range(1, len(xs)):
            acc = acc + xs[j] * float(row[j])
        outputs.append(acc)
    values = {f"x{j}": float(v) for j, v in enumerate(x)}
    f = np.array([graph.forward(out, **values) for out in outputs])
    return f, jacobian(graph, outputs, values)
