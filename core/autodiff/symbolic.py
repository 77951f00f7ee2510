"""Symbolic differentiation without simplification, to show expression swell (notes 2.3.3).

An expression is a tree of tuples: ("num", v), ("var", name), (op, a[, b]) with op one of
add sub mul div neg pow (b is then the exponent as a number) and the functions of
`ops.FUNCTIONS`. Subtrees may be shared in memory, but `size` counts the expression as it would
be written out, which is what a symbolic system without simplification has to carry around.
Every walk is iterative, so deep expressions are fine.
"""

from __future__ import annotations

import math

from core.autodiff.ops import BY_CODE, CONST, INPUT, POW
from core.autodiff.parse import parse
from core.autodiff.tape import Graph, Node

Expr = tuple

_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def num(v: float) -> Expr:
    return ("num", float(v))


def from_graph(graph: Graph, output: Node) -> Expr:
    """The expression tree computed by `output` (shared subtrees stay shared)."""
    exprs: dict[int, Expr] = {}
    for node in graph.ancestors(output):
        code = graph._op[node.index]
        if code == INPUT:
            exprs[node.index] = ("var", node.name)
        elif code == CONST:
            exprs[node.index] = num(node.constant)
        elif code == POW:
            exprs[node.index] = ("pow", exprs[node.inputs[0].index], float(node.constant))
        else:
            exprs[node.index] = (BY_CODE[code].name, *(exprs[p.index] for p in node.inputs))
    return exprs[output.index]


def _postorder(expr: Expr) -> list[Expr]:
    """Each distinct subtree once, children before parents (iterative)."""
    seen: set[int] = set()
    order: list[Expr] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        e, done = stack.pop()
        if done:
            order.append(e)
            continue
        if id(e) in seen:
            continue
        seen.add(id(e))
        stack.append((e, True))
        for child in _children(e):
            stack.append((child, False))
    return order


def _children(e: Expr) -> tuple[Expr, ...]:
    if e[0] in ("num", "var"):
        return ()
    if e[0] == "pow":
        return (e[1],)
    return tuple(e[1:])


def derivative(expr: Expr, wrt: str) -> Expr:
    """d expr / d wrt by the textbook rules, applied literally: nothing is simplified.

    d(a·b) = da·b + a·db, d(a/b) = (da·b - a·db)/b², d f(a) = f'(a)·da, d(constant) = 0.
    """
    d: dict[int, Expr] = {}
    zero, one = num(0), num(1)
    for e in _postorder(expr):
        op = e[0]
        if op == "num":
            r = zero
        elif op == "var":
            r = one if e[1] == wrt else zero
        elif op in ("add", "sub"):
            r = (op, d[id(e[1])], d[id(e[2])])
        elif op == "mul":
            a, b = e[1], e[2]
            r = ("add", ("mul", d[id(a)], b), ("mul", a, d[id(b)]))
        elif op == "div":
            a, b = e[1], e[2]
            top = ("sub", ("mul", d[id(a)], b), ("mul", a, d[id(b)]))
            r = ("div", top, ("pow", b, 2.0))
        elif op == "neg":
            r = ("neg", d[id(e[1])])
        elif op == "pow":
            a, p = e[1], e[2]
            r = ("mul", ("mul", num(p), ("pow", a, p - 1.0)), d[id(a)])
        else:
            r = ("mul", _local(op, e[1], e), d[id(e[1])])
        d[id(e)] = r
    return d[id(expr)]


def _local(op: str, a: Expr, whole: Expr) -> Expr:
    """f'(a) for the one-argument functions, as expressions."""
    if op == "exp":
        return ("exp", a)
    if op == "log":
        return ("div", num(1), a)
    if op == "sqrt":
        return ("div", num(1), ("mul", num(2), ("sqrt", a)))
    if op == "abs":
        return ("div", a, ("abs", a))
    if op == "sin":
        return ("cos", a)
    if op == "cos":
        return ("neg", ("sin", a))
    if op == "tanh":
        return ("sub", num(1), ("pow", ("tanh", a), 2.0))
    if op == "sigmoid":
        return ("mul", ("sigmoid", a), ("sub", num(1), ("sigmoid", a)))
    if op == "relu":
        return ("step", a)
    raise ValueError(f"no derivative rule for {op!r}")


def size(expr: Expr) -> int:
    """Number of symbols in the expression written out as a tree (shared parts counted each time)."""
    counts: dict[int, int] = {}
    for e in _postorder(expr):
        counts[id(e)] = 1 + sum(counts[id(c)] for c in _children(e))
    return counts[id(expr)]


def evaluate(expr: Expr, **values: float) -> float:
    """The value of `expr` (each shared subtree computed once)."""
    vals: dict[int, float] = {}
    for e in _postorder(expr):
        vals[id(e)] = _eval_one(e, vals, values)
    return vals[id(expr)]


def _eval_one(e: Expr, vals: dict[int, float], values: dict) -> float:
    op = e[0]
    if op == "num":
        return e[1]
    if op == "var":
        if e[1] not in values:
            raise ValueError(f"no value given for {e[1]!r}")
        return float(values[e[1]])
    a = vals[id(e[1])]
    if op == "pow":
        try:
            return math.pow(a, e[2])
        except (OverflowError, ValueError):
            return math.inf if a != 0 else math.nan
    b = vals[id(e[2])] if len(e) > 2 else 0.0
    try:
        return {
            "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
            "div": lambda: a / b if b != 0 else math.copysign(math.inf, a) if a else math.nan,
            "neg": lambda: -a, "exp": lambda: math.exp(a), "log": lambda: math.log(a),
            "sqrt": lambda: math.sqrt(a), "abs": lambda: abs(a), "sin": lambda: math.sin(a),
            "cos": lambda: math.cos(a), "tanh": lambda: math.tanh(a),
            "sigmoid": lambda: 1.0 / (1.0 + math.exp(-a)) if a > -700 else 0.0,
            "relu": lambda: max(a, 0.0), "step": lambda: 1.0 if a > 0 else 0.0,
        }[op]()
    except (OverflowError, ValueError):
        return math.nan


def to_text(expr: Expr, limit: int = 2000) -> str:
    """The expression written out (fully parenthesised), cut at `limit` characters with "…"."""
    out: list[str] = []
    length = 0
    stack: list[object] = [expr]
    while stack and length <= limit:
        item = stack.pop()
        if isinstance(item, str):
            piece = item
        elif item[0] == "num":
            v = item[1]
            piece = str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)
            piece = f"({piece})" if v < 0 else piece
        elif item[0] == "var":
            piece = item[1]
        elif item[0] in _SYMBOLS:
            stack += [")", item[2], f" {_SYMBOLS[item[0]]} ", item[1]]
            piece = "("
        elif item[0] == "neg":
            stack += [")", item[1]]
            piece = "-("
        elif item[0] == "pow":
            p = item[2]
            stack += [f")**{int(p) if p == int(p) else p}", item[1]]
            piece = "("
        else:
            stack += [")", item[1]]
            piece = f"{item[0]}("
        out.append(piece)
        length += len(piece)
    text = "".join(out)
    return text if not stack and len(text) <= limit else text[:limit] + "…"


MAX_MAP_STEPS = 1_000
"""The longest logistic map `logistic_map` builds (its written-out size is about 2ⁿ)."""
MAX_GROWTH = 200
"""The largest `n_max` of `growth` (it builds every map up to n_max: quadratic time)."""


def logistic_map(n: int) -> tuple[Expr, Graph, Node]:
    """l₁ = x, lₖ₊₁ = 4·lₖ·(1 - lₖ): the classic example of expression swell, n ≥ 1.

    Returns the symbolic expression of lₙ and the same computation as a tape; the tape grows by
    5 nodes per step, the written-out expression roughly doubles.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if n > MAX_MAP_STEPS:
        raise ValueError(f"n must be at most MAX_MAP_STEPS = {MAX_MAP_STEPS}, got {n}")
    expr: Expr = ("var", "x")
    graph = Graph()
    node = graph.input("x")
    for _ in range(n - 1):
        expr = ("mul", ("mul", num(4), expr), ("sub", num(1), expr))
        node = 4 * node * (1 - node)
    return expr, graph, node


def growth(n_max: int = 10) -> list[tuple[int, int, int, int]]:
    """Rows (n, size of lₙ, size of dlₙ/dx unsimplified, nodes on the tape), n ≤ `MAX_GROWTH`."""
    if isinstance(n_max, bool) or not isinstance(n_max, int) or not 1 <= n_max <= MAX_GROWTH:
        raise ValueError(f"n_max must be a whole number from 1 to MAX_GROWTH = {MAX_GROWTH}, "
                         f"got {n_max!r}")
    rows = []
    for n in range(1, n_max + 1):
        expr, graph, node = logistic_map(n)
        rows.append((n, size(expr), size(derivative(expr, "x")), len(graph)))
    return rows


def compare(text: str, wrt: str) -> dict[str, int | str]:
    """For a typed expression: its size, its unsimplified derivative's size, the tape's size."""
    graph, output = parse(text)
    expr = from_graph(graph, output)
    d = derivative(expr, wrt)
    return {"expression": size(expr), "derivative": size(d), "tape": len(graph.ancestors(output)),
            "derivative_text": to_text(d, 400)}


__all__ = ["compare", "derivative", "evaluate", "from_graph", "growth", "logistic_map",
           "size", "to_text"]
