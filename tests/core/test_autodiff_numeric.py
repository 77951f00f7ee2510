"""core.autodiff numeric and symbolic: every op vs central differences (hypothesis), the
error-vs-h V-shape, Jacobians (J = W for a linear layer, chain rule), expression swell."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core import autodiff as ad
from core.autodiff import FUNCTIONS, parse, symbolic

_leaves = st.sampled_from(["x", "y", "z"]) | st.floats(0.25, 3.0).map(lambda v: f"{v:.3f}")


def _extend(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(FUNCTIONS), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.sampled_from(["2", "3", "0.5", "-1"])).map(
            lambda t: f"({t[0]}) ** {t[1]}"
        ),
        children.map(lambda c: f"-{c}"),
    )


expressions = st.recursive(_leaves, _extend, max_leaves=8)
coordinate = st.floats(-2.0, 2.0, allow_nan=False)


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(expressions, coordinate, coordinate, coordinate)
def test_random_expressions_match_central_differences_and_symbolic(text, x, y, z):
    graph, out = parse(text)
    values = {name: v for name, v in dict(x=x, y=y, z=z).items() if name in graph.inputs}
    value = graph.forward(out, **values)
    grads = graph.backward(out)
    assume(math.isfinite(value) and abs(value) < 1e3)
    assume(all(math.isfinite(g) and abs(g) < 1e3 for g in grads.values()))
    numeric = ad.numerical_gradient(graph, out, values, h=1e-6)
    one_sided = ad.numerical_gradient(graph, out, values, h=1e-6, method="forward")
    # At a kink (relu or abs at 0) the derivative does not exist: one-sided and central
    # differences disagree there, and any subgradient autodiff picks is as right as another.
    assume(all(abs(numeric[k] - one_sided[k]) < 1e-3 * (1 + abs(numeric[k])) for k in numeric))
    expr = symbolic.from_graph(graph, out)
    for name, g in grads.items():
        assert g == pytest.approx(numeric[name], abs=1e-4 * (1 + abs(g))), (text, name)
        exact = symbolic.evaluate(symbolic.derivative(expr, name), **values)
        if math.isfinite(exact):
            assert g == pytest.approx(exact, rel=1e-9, abs=1e-9), (text, name)


def test_finite_difference_on_a_callable():
    f = math.sin
    fwd = ad.finite_difference(f, 1.0, h=1e-4, method="forward")
    cen = ad.finite_difference(f, 1.0, h=1e-4, method="central")
    assert abs(fwd - math.cos(1.0)) == pytest.approx(math.sin(1.0) / 2 * 1e-4, rel=0.01)
    assert abs(cen - math.cos(1.0)) < 1e-8
    with pytest.raises(ValueError, match="h must be"):
        ad.finite_difference(f, 1.0, h=0.0)
    with pytest.raises(ValueError, match="method"):
        ad.finite_difference(f, 1.0, method="backward")


def test_difference_errors_have_the_v_shape():
    graph, out = parse("sin(x) * exp(x)")
    r = ad.difference_errors(graph, out, {"x": 1.0}, "x")
    assert float(r["exact"]) == pytest.approx(math.exp(1) * (math.sin(1) + math.cos(1)))
    for kind, best_h in (("forward", 1e-8), ("central", 1e-5)):
        err = r[kind]
        k = int(np.argmin(err))
        assert 0 < k < len(err) - 1  # minimum strictly inside: a V, not a slope
        assert err[k] < 1e-7
        assert err[0] > 100 * err[k] and err[-1] > 100 * err[k]
        assert 1e-3 * best_h <= r["h"][k] <= 1e3 * best_h
    # truncation side: forward error ∝ h, central ∝ h²
    i, j = 0, 4  # h = 1e-1 and 1e-3
    assert r["forward"][i] / r["forward"][j] == pytest.approx(100, rel=0.5)
    assert r["central"][i] / r["central"][j] == pytest.approx(1e4, rel=0.5)
    with pytest.raises(ValueError, match="no input"):
        ad.difference_errors(graph, out, {"x": 1.0}, "y")
    with pytest.raises(ValueError, match="hs"):
        ad.difference_errors(graph, out, {"x": 1.0}, "x", hs=[0.1, -1.0])


def test_numerical_gradient_forward_and_central():
    graph, out = parse("x * y ** 2")
    fwd = ad.numerical_gradient(graph, out, {"x": 2.0, "y": 3.0}, h=1e-7, method="forward")
    cen = ad.numerical_gradient(graph, out, {"x": 2.0, "y": 3.0}, h=1e-6)
    assert fwd == pytest.approx({"x": 9.0, "y": 12.0}, rel=1e-6)
    assert cen == pytest.approx({"x": 9.0, "y": 12.0}, rel=1e-9)


def test_gradient_check_rows():
    graph, out = parse("1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))")
    values = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    rows = ad.gradient_check(graph, out, values)
    assert [r[0] for r in rows] == list(graph.inputs)
    for name, auto, numeric, rel in rows:
        assert rel < 1e-8 and auto == pytest.approx(numeric, rel=1e-7)


def test_linear_layer_jacobian_is_w():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 5))
    x = rng.normal(size=5)
    f, J = ad.linear_layer_jacobian(W, x)
    np.testing.assert_allclose(f, W @ x, rtol=1e-13)
    np.testing.assert_array_equal(J, W)
    with pytest.raises(ValueError, match="expected W"):
        ad.linear_layer_jacobian(W, np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        ad.linear_layer_jacobian(W, np.full(5, np.nan))


def test_jacobian_of_vector_function():
    f, J, names = ad.jacobian_of(["x1 * x2", "sin(x1) + x2", "x1 ** 2"], x1=0.5, x2=3.0)
    assert names == ["x1", "x2"]
    np.testing.assert_allclose(f, [1.5, math.sin(0.5) + 3.0, 0.25])
    np.testing.assert_allclose(J, [[3.0, 0.5], [math.cos(0.5), 1.0], [1.0, 0.0]])


def test_multivariate_chain_rule():
    # g: R² -> R², f: R² -> R²; J_{f∘g}(a) = J_f(g(a)) J_g(a)   (notes 2.5.3)
    a = dict(u=0.3, v=-1.2)
    g_val, Jg, _ = ad.jacobian_of(["u * v", "u + exp(v)"], **a)
    f_val, Jf, _ = ad.jacobian_of(["tanh(p) * q", "p - q ** 2"], p=g_val[0], q=g_val[1])
    _, Jfg, _ = ad.jacobian_of(
        ["tanh(u * v) * (u + exp(v))", "u * v - (u + exp(v)) ** 2"], **a
    )
    np.testing.assert_allclose(Jfg, Jf @ Jg, rtol=1e-12)


def test_jacobian_validation():
    graph, out = parse("x + y")
    with pytest.raises(ValueError, match="no input"):
        ad.jacobian(graph, [out], {"x": 1.0, "y": 1.0}, wrt=["z"])
    with pytest.raises(ValueError, match="at least one"):
        ad.jacobian(graph, [], {"x": 1.0, "y": 1.0})


def test_symbolic_expression_swell_against_tape():
    rows = symbolic.growth(12)
    sizes = [r[1] for r in rows]
    dsizes = [r[2] for r in rows]
    tapes = [r[3] for r in rows]
    assert all(b == 2 * a + 5 for a, b in zip(sizes, sizes[1:]))  # doubles: exponential
    assert all(b - a == 5 for a, b in zip(tapes, tapes[1:]))  # tape: linear
    assert dsizes[-1] > 100 * tapes[-1] and dsizes[-1] > sizes[-1]
    expr, graph, node = symbolic.logistic_map(40)  # 2^40 symbols written out, counted instantly
    assert symbolic.size(expr) > 2**40
    d = symbolic.derivative(expr, "x")
    graph.forward(node, x=0.3)
    assert symbolic.evaluate(d, x=0.3) == pytest.approx(graph.backward(node)["x"], rel=1e-6)


def test_symbolic_derivative_unsimplified_text():
    graph, out = parse("(x + y) * z")
    d = symbolic.derivative(symbolic.from_graph(graph, out), "x")
    assert symbolic.to_text(d) == "(((1 + 0) * z) + ((x + y) * 0))"
    assert symbolic.evaluate(d, x=-2, y=5, z=-4) == -4.0
    info = symbolic.compare("sigmoid(w*x + b) * x", "x")
    assert info["expression"] == 8 and info["tape"] == 7 and info["derivative"] > 30
    long = symbolic.to_text(symbolic.logistic_map(12)[0], limit=50)
    assert len(long) == 51 and long.endswith("…")
    with pytest.raises(ValueError, match="positive"):
        symbolic.logistic_map(0)
    with pytest.raises(ValueError, match="no value"):
        symbolic.evaluate(d, x=1.0)
