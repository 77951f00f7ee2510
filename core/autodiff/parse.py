"""A safe parser from typed expressions to graphs: `ast` with a whitelist, never `eval`.

Names are inputs, numbers are constants, and only + - * / **, unary minus and the functions of
`ops.FUNCTIONS` exist. Everything else raises `ExpressionError` with the 1-based column of the
offending text, so the UI can point at it.
"""

from __future__ import annotations

import ast
import math

from core.autodiff import tape
from core.autodiff.ops import FUNCTIONS

#: Longest accepted expression, in characters.
MAX_LENGTH = 2000
#: Deepest accepted nesting of parentheses (Python's own tokenizer gives up at 200).
MAX_PARENS = 100
#: Deepest accepted expression tree (a chain of 1000 additions is 1000 deep).
MAX_DEPTH = 1000

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class ExpressionError(ValueError):
    """A typed expression is not allowed; `column` (1-based) and `width` locate the problem."""

    def __init__(self, message: str, column: int, width: int = 1, text: str = "") -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column
        self.width = max(1, width)
        self.text = text


def _span(text: str, node: ast.AST) -> tuple[int, int]:
    """(1-based column, width in characters) of an AST node; ast counts UTF-8 bytes."""
    raw = text.encode("utf-8")

    def chars(offset: int) -> int:
        return len(raw[:offset].decode("utf-8", errors="ignore"))

    start = chars(node.col_offset)
    end = chars(node.end_col_offset) if node.end_col_offset is not None else start + 1
    return start + 1, max(1, end - start)


def _error(text: str, node: ast.AST, message: str) -> ExpressionError:
    column, width = _span(text, node)
    return ExpressionError(message, column, width, text)


def _prescan(text: str) -> None:
    """Checks that need no parsing: type, length, emptiness, parenthesis depth."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected the expression as text, got {type(text).__name__}", 1)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
            MAX_LENGTH + 1, len(text) - MAX_LENGTH, text,
        )
    if "\n" in text or "\r" in text:
        raise ExpressionError("the expression must be on one line", text.find("\n") + 1, 1, text)
    if not text.strip():
        raise ExpressionError("the expression is empty", 1, 1, text)
    depth = 0
    for col, ch in enumerate(text, start=1):
        if ch in "([{":
            depth += 1
            if depth > MAX_PARENS:
                raise ExpressionError(
                    f"parentheses nested more than {MAX_PARENS} levels deep", col, 1, text
                )
        elif ch in ")]}":
            depth -= 1


def _syntax_tree(text: str) -> ast.expr:
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        column = exc.offset or len(text) + 1  # no offset: the text ended too early
        if exc.lineno and exc.lineno > 1:
            column = len(text) + 1
        message = exc.msg
        if "Exceeds the limit" in message:
            message = "a number with too many digits"
        elif message == "invalid syntax":
            message = "invalid syntax here"
        raise ExpressionError(message, min(max(column, 1), len(text) + 1), 1, text) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ExpressionError(f"cannot read the expression ({exc})", 1, len(text), text) from None


def _number(text: str, node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "complex number" if isinstance(value, complex) else type(value).__name__
        raise _error(text, node, f"only real numbers are allowed here, not a {kind}")
    try:
        result = float(value)
    except OverflowError:
        raise _error(text, node, "this number is too large for a float") from None
    if not math.isfinite(result):
        raise _error(text, node, "this number is too large for a float")
    return result


def _fold_number(text: str, node: ast.expr) -> float:
    """A numeric exponent: a number, optionally signed, or + - * / of numbers."""
    stack: list[tuple[ast.expr, bool]] = [(node, False)]
    results: list[float] = []
    while stack:
        item, done = stack.pop()
        if isinstance(item, ast.Constant):
            results.append(_number(text, item))
        elif isinstance(item, ast.UnaryOp) and isinstance(item.op, (ast.USub, ast.UAdd)):
            if done:
                results[-1] = -results[-1] if isinstance(item.op, ast.USub) else results[-1]
            else:
                stack += [(item, True), (item.operand, False)]
        elif isinstance(item, ast.BinOp) and isinstance(item.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            if done:
                b, a = results.pop(), results.pop()
                try:
                    if isinstance(item.op, ast.Add):
                        results.append(a + b)
                    elif isinstance(item.op, ast.Sub):
                        results.append(a - b)
                    elif isinstance(item.op, ast.Mult):
                        results.append(a * b)
                    else:
                        results.append(a / b)
                except ZeroDivisionError:
                    raise _error(text, item, "division by zero in the exponent") from None
            else:
                stack += [(item, True), (item.right, False), (item.left, False)]
        else:
            raise _error(text, node, "the exponent must be a number, such as x ** 2 or x ** -0.5")
    return results[0]


def _check_node(text: str, node: ast.AST) -> None:
    """Raise ExpressionError unless `node` is one of the whitelisted kinds."""
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise _error(text, node, "only + - * / and ** are allowed")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _error(text, node, "only unary minus is allowed")
    elif isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            raise _error(text, func, "attribute access (.) is not allowed")
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            where = func if isinstance(func, ast.Name) else node
            raise _error(text, where, f"unknown function; the functions are: {', '.join(FUNCTIONS)}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _error(text, node, f"{func.id}() takes exactly one argument")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise _error(text, node, f"{node.id} is a function: write {node.id}(...)")
        if node.id.startswith("_"):
            raise _error(text, node, "input names must not start with an underscore")
    elif isinstance(node, ast.Constant):
        _number(text, node)
    elif isinstance(node, ast.Attribute):
        raise _error(text, node, "attribute access (.) is not allowed")
    elif isinstance(node, ast.Lambda):
        raise _error(text, node, "lambda is not allowed")
    elif isinstance(node, ast.Compare):
        raise _error(text, node, "comparisons are not allowed")
    else:
        raise _error(text, node, f"{type(node).__name__} is not allowed in an expression")


def parse(text: str, graph: tape.Graph | None = None) -> tuple[tape.Graph, tape.Node]:
    """Parse `text` into a new graph (or into `graph`, sharing its inputs); return (graph, output).

    >>> g, f = parse("(x + y) * z"); g.forward(f, x=-2, y=5, z=-4)
    -12.0
    """
    _prescan(text)
    root = _syntax_tree(text)
    graph = tape.Graph() if graph is None else graph
    built: dict[int, tape.Node] = {}
    # Iterative post-order walk: (node, depth, children done?)
    stack: list[tuple[ast.expr, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise _error(text, node, f"the expression is nested more than {MAX_DEPTH} levels deep")
        if not done:
            _check_node(text, node)
            if isinstance(node, ast.BinOp):
                if isinstance(node.op, ast.Pow):
                    stack += [(node, depth, True), (node.left, depth + 1, False)]
                else:
                    stack += [(node, depth, True), (node.right, depth + 1, False),
                              (node.left, depth + 1, False)]
            elif isinstance(node, ast.UnaryOp):
                if isinstance(node.operand, ast.Constant):
                    value = _number(text, node.operand)
                    built[id(node)] = graph.constant(-value if isinstance(node.op, ast.USub) else value)
                else:
                    stack += [(node, depth, True), (node.operand, depth + 1, False)]
            elif isinstance(node, ast.Call):
                stack += [(node, depth, True), (node.args[0], depth + 1, False)]
            elif isinstance(node, ast.Name):
                built[id(node)] = graph.input(node.id)
            else:
                built[id(node)] = graph.constant(_number(text, node))
            continue
        if isinstance(node, ast.BinOp):
            left = built.pop(id(node.left))
            if isinstance(node.op, ast.Pow):
                exponent = _fold_number(text, node.right)
                if not math.isfinite(exponent):
                    raise _error(text, node.right, "the exponent must be finite")
                built[id(node)] = left**exponent
            else:
                right = built.pop(id(node.right))
                op = _BINOPS[type(node.op)]
                built[id(node)] = (
                    left + right if op == "+" else left - right if op == "-"
                    else left * right if op == "*" else left / right
                )
        elif isinstance(node, ast.UnaryOp):
            operand = built.pop(id(node.operand))
            built[id(node)] = -operand if isinstance(node.op, ast.USub) else operand
        else:  # Call
            arg = built.pop(id(node.args[0]))
            built[id(node)] = getattr(tape, "abs_" if node.func.id == "abs" else node.func.id)(arg)
    return graph, built[id(root)]


def gradients(text: str, **values: float) -> tuple[float, dict[str, float]]:
    """Parse `text`, run forward with `values`, then backward: (value, {input: ∂f/∂input})."""
    graph, output = parse(text)
    value = graph.forward(output, **values)
    return value, graph.backward(output)
