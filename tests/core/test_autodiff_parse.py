"""core.autodiff.parse: what it accepts, and hostile text rejected with the right column."""

from __future__ import annotations

import pytest

from core.autodiff import ExpressionError, gradients, parse
from core.autodiff.parse import MAX_LENGTH, MAX_PARENS


@pytest.mark.parametrize(
    "text, values, expected",
    [
        ("(x + y) * z", dict(x=-2, y=5, z=-4), -12.0),
        ("x ** 2 + x ** -1", dict(x=2.0), 4.5),
        ("x ** (1/2)", dict(x=9.0), 3.0),
        ("-x + +y", dict(x=1.0, y=3.0), 2.0),
        ("relu(x) + abs(y) + tanh(0)", dict(x=-1.0, y=-2.0), 2.0),
        ("3", {}, 3.0),
        ("2 ** 3", {}, 8.0),
        ("1e3 * x", dict(x=2.0), 2000.0),
    ],
)
def test_accepts_expressions(text, values, expected):
    assert gradients(text, **values)[0] == pytest.approx(expected)


def test_names_are_shared_inputs_and_numbers_constants():
    g, f = parse("x * x + 2")
    assert list(g.inputs) == ["x"]
    ops = [n.op for n in g.ancestors(f)]
    assert ops.count("input") == 1 and ops.count("const") == 1
    g.forward(f, x=3.0)
    assert g.backward(f) == {"x": 6.0}


def test_parse_into_existing_graph_shares_inputs():
    g, f1 = parse("x * y")
    g2, f2 = parse("x + y", g)
    assert g2 is g and list(g.inputs) == ["x", "y"]
    g.forward(f2, x=1.0, y=2.0)
    assert g.backward(f2) == {"x": 1.0, "y": 1.0}


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("__import__('os')", 1, "unknown function"),
        ("x.real", 1, "attribute"),
        ("(lambda: 1)()", 1, "unknown function"),
        ("lambda x: x", 1, "lambda"),
        ("x + (lambda: 2)", 6, "lambda"),
        ("exp(x).conjugate()", 1, "attribute"),
        ("os.system('ls')", 1, "attribute"),
        ("x + 'a'", 5, "str"),
        ("x + 1j", 5, "complex"),
        ("x < y", 1, "comparison"),
        ("x if y else z", 1, "IfExp"),
        ("[x]", 1, "List"),
        ("x + foo(y)", 5, "unknown function"),
        ("exp(x, y)", 1, "one argument"),
        ("exp(x=1)", 1, "one argument"),
        ("exp + 1", 1, "is a function"),
        ("x ** y", 6, "exponent must be a number"),
        ("2 ** x ** 2", 6, "exponent must be a number"),
        ("x % 2", 1, "only + - * /"),
        ("x @ y", 1, "only + - * /"),
        ("~x", 1, "only unary minus"),
        ("not x", 1, "only unary minus"),
        ("x +* y", 4, "invalid syntax"),
        ("(x + y", 1, "never closed"),
        ("x + ", 5, "invalid syntax"),
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("_x + 1", 1, "underscore"),
        ("True + x", 1, "bool"),
        ("x ** (1/0)", 7, "division by zero"),
        ("ö + 1e999999 ** 2", 5, "too large"),
        ("x\n+ y", 2, "one line"),
        ("x + (y := 2)", 6, "NamedExpr"),
        ("f'{x}'", 1, "JoinedStr"),
    ],
)
def test_rejects_with_column(text, column, fragment):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert fragment in err.message, err.message
    assert err.column == column, (err.column, err.message)
    assert str(err).startswith(f"column {err.column}:")


def test_non_ascii_columns_count_characters():
    # é is a valid identifier character: accepted, and a later error is reported by character
    with pytest.raises(ExpressionError) as info:
        parse("é + x.y")
    assert info.value.column == 5 and info.value.width == 3


def test_huge_numbers_and_exponents_do_not_hang_or_crash():
    assert gradients("2 ** 1000000")[0] == float("inf")
    assert gradients("x ** 1e308", x=2.0)[0] == float("inf")
    with pytest.raises(ExpressionError, match="exponent"):
        parse("9 ** 9 ** 9 ** 9")  # the exponent 9 ** 9 ** 9 is not a plain number
    with pytest.raises(ExpressionError, match="too large"):
        parse("1" * 400 + " * x")
    with pytest.raises(ExpressionError, match="digits|long"):
        parse("1" * 4400)
    with pytest.raises(ExpressionError, match="finite"):
        parse("x ** (1e308 * 10)")


def test_length_and_nesting_limits():
    with pytest.raises(ExpressionError, match="characters long") as info:
        parse("x+" * MAX_LENGTH + "x")
    assert info.value.column == MAX_LENGTH + 1
    with pytest.raises(ExpressionError):
        parse("(" * 10_000 + "x" + ")" * 10_000)
    deep = "(" * 150 + "x" + ")" * 150
    with pytest.raises(ExpressionError, match="nested") as info:
        parse(deep)
    assert info.value.column == MAX_PARENS + 1
    assert gradients("y + é", y=1.0, é=2.0)[0] == 3.0
    ok = "(" * MAX_PARENS + "x" + ")" * MAX_PARENS
    assert gradients(ok, x=2.0) == (2.0, {"x": 1.0})
    # long flat chains are fine (built iteratively)
    chain = "+".join(["x"] * 900)
    assert gradients(chain, x=1.0) == (900.0, {"x": 900.0})
    unary = "-" * 999 + "x"
    assert gradients(unary, x=1.0) == (-1.0, {"x": -1.0})


def test_non_string_input():
    with pytest.raises(ExpressionError, match="text"):
        parse(42)
