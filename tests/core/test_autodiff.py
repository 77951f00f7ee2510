"""core.autodiff tape: the notes' examples, every op, deep graphs, re-runs, IEEE propagation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import autodiff as ad
from core.autodiff import Graph, gradients, parse

SIGMOID_VALUES = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
# notes 2.4.5 (the figure's numbers): f = 0.73, gradients rounded to two decimals
SIGMOID_GRADS = dict(w0=-0.20, x0=0.39, w1=-0.39, x1=-0.59, w2=0.20)


def test_notes_example_forward_and_backward():
    g = Graph()
    x, y, z = g.input("x"), g.input("y"), g.input("z")
    q = x + y
    f = q * z
    assert g.forward(f, x=-2, y=5, z=-4) == -12.0
    assert q.value == 3.0
    assert g.backward(f) == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert f.grad == 1.0 and q.grad == -4.0
    assert f.local_grads == (-4.0, 3.0)  # ∂f/∂q = z, ∂f/∂z = q
    assert q.local_grads == (1.0, 1.0)


def test_sigmoid_example_primitives_and_block_agree():
    text = "1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))"
    value, grads = gradients(text, **SIGMOID_VALUES)
    block_value, block_grads = gradients("sigmoid(w0*x0 + w1*x1 + w2)", **SIGMOID_VALUES)
    assert value == pytest.approx(0.7310585786300049, abs=1e-15)
    assert block_value == pytest.approx(value, abs=1e-15)
    for name, expected in SIGMOID_GRADS.items():
        assert round(grads[name], 2) == expected
        assert block_grads[name] == pytest.approx(grads[name], abs=1e-15)
    s = 1 / (1 + math.exp(-1.0))
    assert grads["w2"] == pytest.approx(s * (1 - s), abs=1e-15)
    g1, f1 = parse(text)
    g2, f2 = parse("sigmoid(w0*x0 + w1*x1 + w2)")
    assert len(g2.ancestors(f2)) < len(g1.ancestors(f1))


def test_sigmoid_block_has_hard_coded_local_gradient():
    g = Graph()
    a = g.input("a")
    s = ad.sigmoid(a)
    g.forward(s, a=1.0)
    v = 1 / (1 + math.exp(-1.0))
    assert s.op == "sigmoid" and s.local_grads == pytest.approx((v * (1 - v),))


def test_nodes_expose_topological_order_and_structure():
    g, f = parse("(x + y) * z")
    nodes = g.nodes
    assert [n.op for n in nodes] == ["input", "input", "add", "input", "mul"]
    position = {n.index: k for k, n in enumerate(nodes)}
    for n in nodes:
        assert all(position[p.index] < position[n.index] for p in n.inputs)
    assert nodes[0].name == "x" and nodes[2].inputs == (nodes[0], nodes[1])
    assert nodes[4].label == "×" and nodes[0].label == "x"


def test_fan_out_accumulates_gradient():
    g = Graph()
    x = g.input("x")
    f = x * x + 3 * x  # x used three times
    g.forward(f, x=2.0)
    assert g.backward(f) == {"x": 2 * 2.0 + 3}


def test_unused_input_gets_zero_and_other_outputs_do_not_leak():
    g = Graph()
    x, y = g.input("x"), g.input("y")
    bad = ad.log(y)  # not an ancestor of f: its inf local gradient must not reach y
    f = x * 2
    g.forward(bad, x=1.0, y=0.0)
    g.forward(f, x=1.0)
    assert g.backward(f) == {"x": 2.0, "y": 0.0}


def test_rerun_with_new_values_without_rebuilding():
    g, f = parse("x * y + sin(x)")
    n = len(g)
    for x in np.linspace(-3, 3, 7):
        assert g.forward(f, x=x, y=2.0) == pytest.approx(2 * x + math.sin(x))
        assert g.backward(f)["x"] == pytest.approx(2 + math.cos(x))
    assert len(g) == n
    # inputs keep their previous value when not given again
    assert g.forward(f, x=0.0) == 0.0
    assert g.backward(f)["x"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    "fn, ref, dref, point",
    [
        ("exp", math.exp, math.exp, 0.7),
        ("log", math.log, lambda a: 1 / a, 2.5),
        ("sqrt", math.sqrt, lambda a: 0.5 / math.sqrt(a), 3.0),
        ("abs", abs, lambda a: math.copysign(1.0, a), -1.5),
        ("sin", math.sin, math.cos, 0.4),
        ("cos", math.cos, lambda a: -math.sin(a), 0.4),
        ("tanh", math.tanh, lambda a: 1 - math.tanh(a) ** 2, -0.3),
        ("sigmoid", lambda a: 1 / (1 + math.exp(-a)),
         lambda a: math.exp(-a) / (1 + math.exp(-a)) ** 2, 0.8),
        ("relu", lambda a: max(a, 0.0), lambda a: float(a > 0), 1.2),
        ("relu", lambda a: max(a, 0.0), lambda a: float(a > 0), -1.2),
    ],
)
def test_each_function_matches_math_and_central_differences(fn, ref, dref, point):
    g = Graph()
    a = g.input("a")
    f = getattr(ad, fn)(a)
    assert g.forward(f, a=point) == pytest.approx(ref(point), rel=1e-14)
    grad = g.backward(f)["a"]
    assert grad == pytest.approx(dref(point), rel=1e-12)
    h = 1e-6
    numeric = (ref(point + h) - ref(point - h)) / (2 * h)
    assert grad == pytest.approx(numeric, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda a, b: a + b, (1.0, 1.0)),
        (lambda a, b: a - b, (1.0, -1.0)),
        (lambda a, b: a * b, (-2.5, 1.5)),
        (lambda a, b: a / b, (1 / -2.5, -1.5 / 6.25)),
        (lambda a, b: -a + 0 * b, (-1.0, 0.0)),
        (lambda a, b: a**3 + 0 * b, (3 * 1.5**2, 0.0)),
        (lambda a, b: 2 - a / 4 + 1 / b, (-0.25, -1 / 6.25)),
    ],
)
def test_arithmetic_local_gradients(build, expected):
    g = Graph()
    a, b = g.input("a"), g.input("b")
    f = build(a, b)
    g.forward(f, a=1.5, b=-2.5)
    grads = g.backward(f)
    assert (grads["a"], grads["b"]) == pytest.approx(expected, rel=1e-14)


def test_pow_special_cases_follow_pytorch():
    g = Graph()
    a = g.input("a")
    f0 = a**0
    g.forward(f0, a=0.0)
    assert g.backward(f0)["a"] == 0.0  # torch: d/da a^0 = 0, even at 0
    half = a**0.5
    assert math.isnan(g.forward(half, a=-1.0))


def test_ieee_propagation_and_source_of_nonfinite():
    value, grads = gradients("log(x) + sqrt(y) + 1 / z", x=-1.0, y=0.0, z=0.0)
    assert math.isnan(value)
    assert grads["x"] == -1.0 and grads["y"] == math.inf and grads["z"] == -math.inf
    g, f = parse("2 * (a / b) + 1")
    g.forward(f, a=1.0, b=0.0)
    node, kind = g.nonfinite_source(f)
    assert node.op == "div" and kind == "value"
    g.forward(f, a=1.0, b=2.0)
    assert g.nonfinite_source(f) is None
    g, f = parse("exp(x)")
    assert g.forward(f, x=1000.0) == math.inf
    g, f = parse("sqrt(x) * 0 + 1")
    g.forward(f, x=0.0)
    g.backward(f)
    node, kind = g.nonfinite_source(f)
    assert node.op == "sqrt" and kind == "gradient"


def test_deep_graph_ten_thousand_levels():
    g = Graph()
    x = g.input("x")
    node = x
    for _ in range(10_000):
        node = ad.tanh(node * 1.0001 + 0.0)
    v = g.forward(node, x=0.01)
    grad = g.backward(node)["x"]
    # reference by hand, iteratively
    val, d = 0.01, 1.0
    for _ in range(10_000):
        t = math.tanh(val * 1.0001)
        d *= 1.0001 * (1 - t * t)
        val = t
    assert v == pytest.approx(val, rel=1e-12)
    assert grad == pytest.approx(d, rel=1e-9)
    assert len(g.ancestors(node)) == len(g)


def test_deep_chain_of_additions():
    g = Graph()
    x = g.input("x")
    node = x
    for _ in range(20_000):
        node = node + x
    g.forward(node, x=1.0)
    assert g.backward(node)["x"] == 20_001.0


def test_validation_errors():
    g = Graph()
    x = g.input("x")
    f = x * 2
    with pytest.raises(ValueError, match="'x'"):
        g.forward(f)
    with pytest.raises(ValueError, match="no input 'q'"):
        g.forward(f, x=1.0, q=2.0)
    with pytest.raises(ValueError, match="real number"):
        g.forward(f, x="1")
    with pytest.raises(ValueError, match="forward"):
        g.backward(f)
    with pytest.raises(ValueError, match="exponent"):
        x**x
    with pytest.raises(ValueError, match="identifier"):
        g.input("1x")
    with pytest.raises(ValueError, match="Node"):
        ad.exp(2.0)
    other = Graph().input("y")
    with pytest.raises(ValueError, match="different graphs"):
        x + other
    with pytest.raises(ValueError, match="Node of this graph"):
        g.forward(other, y=1.0)
    with pytest.raises(TypeError):
        x + "a"
    assert g.input("x") is x


def test_graph_growing_after_forward_needs_a_new_forward():
    g = Graph()
    x = g.input("x")
    f = x * 3
    g.forward(f, x=2.0)
    h = f + 1
    with pytest.raises(ValueError, match="forward"):
        g.backward(h)
    assert g.forward(h) == 7.0  # x kept its value
    assert g.backward(h) == {"x": 3.0}


def test_evaluate_many_matches_forward():
    g, f = parse("x * y - exp(y)")
    xs = np.array([[1.0, 2.0], [-1.0, 0.5], [3.0, -1.0]])
    out = g.evaluate_many(f, xs)
    expected = [g.forward(f, x=a, y=b) for a, b in xs]
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    with pytest.raises(ValueError, match="shape"):
        g.evaluate_many(f, np.zeros((2, 3)))


def test_kernels_are_registered_for_warmup():
    from core import _jit

    names = {k.name for k in _jit.registered()}
    for kernel in ("_forward", "_backward", "_forward_batch", "_mark_ancestors"):
        assert f"core.autodiff.kernels.{kernel}" in names
