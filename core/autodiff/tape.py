"""The tape: a scalar computational graph stored as arrays, run by numba kernels (kernels.py).

`Graph` records operations in the order they are made, which is already a topological order
(an op can only use nodes that exist), so neither pass needs recursion: the forward kernel walks
the tape from the first node to the output, the backward kernel from the output back to the
first node. Graphs tens of thousands of ops deep work.
"""

from __future__ import annotations

import contextlib
import math
import numbers

import numba
import numpy as np

from core.autodiff.kernels import _backward, _forward, _forward_batch, _mark_ancestors
from core.autodiff.ops import (
    ABS, ADD, BY_CODE, CONST, COS, DIV, EXP, INPUT, LOG, MUL, NEG, POW, RELU, SIGMOID, SIN,
    SQRT, SUB, TANH,
)


def _quiet():
    """IEEE results without warnings when the kernels run as plain Python (NUMBA_DISABLE_JIT)."""
    return np.errstate(all="ignore") if numba.config.DISABLE_JIT else contextlib.nullcontext()


def _is_number(x) -> bool:
    t = type(x)
    if t is float or t is int:  # the common case, without the slow ABC check
        return True
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class Node:
    """One scalar in a `Graph`: an input, a constant, or an op applied to earlier nodes.

    Arithmetic on nodes (and Python numbers) records new nodes in the same graph. `value`,
    `grad` and `local_grads` read the graph's last forward and backward passes.
    """

    __slots__ = ("graph", "index")

    def __init__(self, graph: Graph, index: int) -> None:
        self.graph = graph
        self.index = index

    # --- what the node is -----------------------------------------------------------------
    @property
    def op(self) -> str:
        """The op's name: "input", "const", "add", "mul", "sigmoid", ..."""
        return BY_CODE[self.graph._op[self.index]].name

    @property
    def inputs(self) -> tuple[Node, ...]:
        """The nodes this one is computed from (empty for inputs and constants)."""
        g, i = self.graph, self.index
        if g._op[i] in (INPUT, CONST):
            return ()
        return tuple(g._nodes[j] for j in (g._in0[i], g._in1[i]) if j >= 0)

    @property
    def name(self) -> str | None:
        """An input's name (None for other nodes)."""
        g, i = self.graph, self.index
        return g._names[int(g._const[i])] if g._op[i] == INPUT else None

    @property
    def constant(self) -> float | None:
        """A constant's value, or POW's exponent (None for other nodes)."""
        code = self.graph._op[self.index]
        return self.graph._const[self.index] if code in (CONST, POW) else None

    @property
    def label(self) -> str:
        """A short label: an input's name, a constant's value, or the op's symbol."""
        code = self.graph._op[self.index]
        if code == INPUT:
            return self.name
        if code == CONST:
            return format_number(self.graph._const[self.index])
        if code == POW:
            return "^" + format_number(self.graph._const[self.index])
        return BY_CODE[code].symbol

    # --- what the passes computed ---------------------------------------------------------
    @property
    def value(self) -> float:
        """The value from the last forward pass (nan before one reached this node)."""
        return self.graph._read("value", self.index)

    @property
    def grad(self) -> float:
        """∂output/∂node from the last backward pass (nan before one, 0.0 if unused)."""
        return self.graph._read("grad", self.index)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """∂node/∂input for each of `inputs`, from the last forward pass."""
        n = len(self.inputs)
        return tuple(self.graph._read("local", self.index, k) for k in range(n))

    def __repr__(self) -> str:
        return f"Node(#{self.index} {self.op} {self.label!r}, value={self.value:g})"

    # --- arithmetic -----------------------------------------------------------------------
    def _other(self, other) -> Node | None:
        if isinstance(other, Node):
            if other.graph is not self.graph:
                raise ValueError("cannot combine nodes of two different graphs")
            return other
        if _is_number(other):
            return self.graph.constant(other)
        return None

    def _binary(self, code: int, other, reflected: bool = False):
        other = self._other(other)
        if other is None:
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        return self.graph._record(code, a.index, b.index, 0.0)

    def __add__(self, other):
        return self._binary(ADD, other)

    def __radd__(self, other):
        return self._binary(ADD, other, reflected=True)

    def __sub__(self, other):
        return self._binary(SUB, other)

    def __rsub__(self, other):
        return self._binary(SUB, other, reflected=True)

    def __mul__(self, other):
        return self._binary(MUL, other)

    def __rmul__(self, other):
        return self._binary(MUL, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(DIV, other)

    def __rtruediv__(self, other):
        return self._binary(DIV, other, reflected=True)

    def __neg__(self):
        return self.graph._record(NEG, self.index, -1, 0.0)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        if not _is_number(exponent):
            raise ValueError(f"the exponent of ** must be a number, got {exponent!r}")
        return self.graph._record(POW, self.index, -1, float(exponent))


def format_number(x: float) -> str:
    """A compact label for a number: 2, -0.5, 1e-08, inf, nan."""
    x = float(x)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def _unary(code: int, fname: str):
    def apply(node: Node) -> Node:
        if not isinstance(node, Node):
            raise ValueError(f"{fname}() takes a Node, got {node!r}")
        return node.graph._record(code, node.index, -1, 0.0)

    apply.__name__ = fname
    apply.__qualname__ = fname
    apply.__doc__ = f"{fname}(node) as a new node; local gradient {BY_CODE[code].local[0]}."
    return apply


exp = _unary(EXP, "exp")
log = _unary(LOG, "log")
sqrt = _unary(SQRT, "sqrt")
abs_ = _unary(ABS, "abs")
sin = _unary(SIN, "sin")
cos = _unary(COS, "cos")
tanh = _unary(TANH, "tanh")
sigmoid = _unary(SIGMOID, "sigmoid")
relu = _unary(RELU, "relu")


class Graph:
    """A tape of scalar operations: build it once, run forward and backward many times.

    >>> g = Graph(); x, y, z = g.input("x"), g.input("y"), g.input("z")
    >>> f = (x + y) * z
    >>> g.forward(f, x=-2, y=5, z=-4), g.backward(f)
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})
    """

    def __init__(self) -> None:
        self._op: list[int] = []
        self._in0: list[int] = []
        self._in1: list[int] = []
        self._const: list[float] = []
        self._nodes: list[Node] = []
        self._names: list[str] = []  # input names by slot
        self._inputs: dict[str, Node] = {}
        self._arrays: tuple | None = None  # cached NumPy tape, valid while len == _arrays_len
        self._arrays_len = -1
        self._value = self._grad = self._local = None
        self._xs = np.zeros(0)
        self._forward_upto = -1  # values valid for nodes 0..this
        self._backward_from = -1  # grads valid for this output
        self._needed: dict[int, list[int]] = {}
        self._needed_names: dict[int, tuple[str, ...]] = {}
        self._given: set[str] = set()  # inputs that have had a value

    # --- building ---------------------------------------------------------------------------
    def _record(self, code: int, a: int, b: int, const: float) -> Node:
        node = Node(self, len(self._op))
        self._op.append(code)
        self._in0.append(a)
        self._in1.append(b)
        self._const.append(const)
        self._nodes.append(node)
        return node

    def input(self, name: str) -> Node:
        """The input node called `name` (made on first use; the same node afterwards)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"an input name must be an identifier such as 'x' or 'w0', got {name!r}")
        if name in self._inputs:
            return self._inputs[name]
        node = self._record(INPUT, -1, -1, float(len(self._names)))
        self._names.append(name)
        self._inputs[name] = node
        return node

    def constant(self, value: float) -> Node:
        """A constant node."""
        if not _is_number(value):
            raise ValueError(f"a constant must be a real number, got {value!r}")
        return self._record(CONST, -1, -1, float(value))

    # --- reading ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._op)

    @property
    def nodes(self) -> list[Node]:
        """Every node, in topological order (the order they were recorded)."""
        return list(self._nodes)

    @property
    def inputs(self) -> dict[str, Node]:
        """The input nodes by name, in the order they were made."""
        return dict(self._inputs)

    def ancestors(self, output: Node) -> list[Node]:
        """The nodes `output` depends on (itself included), in topological order."""
        self._check(output)
        return [self._nodes[i] for i in self._ancestor_indices(output.index)]

    def _ancestor_indices(self, out: int) -> list[int]:
        if out not in self._needed:
            op, in0, in1, _ = self._tape()
            mark = np.empty(len(op), dtype=np.int64)
            _mark_ancestors(op, in0, in1, mark, out)
            self._needed[out] = np.flatnonzero(mark[: out + 1]).tolist()
        return self._needed[out]

    def _needed_inputs(self, out: int) -> tuple[str, ...]:
        if out not in self._needed_names:
            op, _, _, const = self._tape()
            idx = np.asarray(self._ancestor_indices(out), dtype=np.int64)
            slots = const[idx[op[idx] == INPUT]].astype(np.int64) if idx.size else idx
            self._needed_names[out] = tuple(self._names[k] for k in slots.tolist())
        return self._needed_names[out]

    def _read(self, which: str, i: int, k: int = 0) -> float:
        if which == "grad":
            valid = self._backward_from >= 0 and i <= self._backward_from
            if valid and self._grad is not None and i < len(self._grad):
                return float(self._grad[i])
            return math.nan
        if self._value is None or i > self._forward_upto or i >= len(self._value):
            return math.nan
        return float(self._value[i] if which == "value" else self._local[i, k])

    def _check(self, output) -> None:
        if not isinstance(output, Node) or output.graph is not self:
            raise ValueError(f"expected a Node of this graph, got {output!r}")

    def _tape(self):
        """The tape as NumPy arrays, converted once and cached until the graph grows."""
        n = len(self._op)
        if self._arrays_len != n:
            self._arrays = (
                np.array(self._op, dtype=np.int64),
                np.array(self._in0, dtype=np.int64),
                np.array(self._in1, dtype=np.int64),
                np.array(self._const, dtype=np.float64),
            )
            self._arrays_len = n
            self._value = np.full(n, np.nan)
            self._grad = np.zeros(n)
            self._local = np.zeros((n, 2))
            self._mark = np.zeros(n, dtype=np.int64)
            self._forward_upto = self._backward_from = -1
            xs = np.full(len(self._names), np.nan)
            xs[: len(self._xs)] = self._xs[: len(self._names)]
            self._xs = xs
        return self._arrays

    # --- running ----------------------------------------------------------------------------
    def input_vector(self, output: Node, values: dict) -> np.ndarray:
        """Check `values` (name -> number) for `output`; return the input slots (k,)."""
        self._check(output)
        self._tape()
        xs = self._xs.copy()
        for name, v in values.items():
            if name not in self._inputs:
                known = ", ".join(self._names) or "(none)"
                raise ValueError(f"the graph has no input {name!r}; its inputs are: {known}")
            if not _is_number(v):
                raise ValueError(f"the value of {name!r} must be a real number, got {v!r}")
            xs[int(self._const[self._inputs[name].index])] = float(v)
        for name in self._needed_inputs(output.index):
            if name not in values and name not in self._given:
                raise ValueError(f"no value given for input {name!r}")
        return xs

    def forward(self, output: Node, **values: float) -> float:
        """Evaluate the graph up to `output` with the given input values; return its value.

        Inputs keep the value of the previous call when not given again; an input the output
        needs and that never had a value raises ValueError naming it.
        """
        xs = self.input_vector(output, values)
        op, in0, in1, const = self._tape()
        self._xs = xs
        self._given.update(values)
        with _quiet():
            _forward(op, in0, in1, const, xs, self._value, self._local, output.index)
        self._forward_upto = output.index
        self._backward_from = -1
        return float(self._value[output.index])

    def backward(self, output: Node) -> dict[str, float]:
        """∂output/∂input for every input of the graph (0.0 for inputs it does not use).

        Uses the values of the last `forward` (which must have reached `output`); fills
        `Node.grad` for every node.
        """
        self._check(output)
        op, in0, in1, _ = self._tape()
        if self._forward_upto < output.index:
            raise ValueError("run forward(output, ...) before backward(output)")
        with _quiet():
            _backward(op, in0, in1, self._local, self._grad, self._mark, output.index)
        self._backward_from = output.index
        grad = self._grad
        return {name: float(grad[node.index]) for name, node in self._inputs.items()}

    def evaluate_many(self, output: Node, xs: np.ndarray) -> np.ndarray:
        """`output` for each row of input values xs (B, k) in slot order (`inputs` order): (B,)."""
        self._check(output)
        xs = np.ascontiguousarray(xs, dtype=np.float64)
        if xs.ndim != 2 or xs.shape[1] != len(self._names):
            raise ValueError(f"expected xs of shape (B, {len(self._names)}), got {xs.shape}")
        op, in0, in1, const = self._tape()
        with _quiet():
            return _forward_batch(op, in0, in1, const, xs, output.index)

    def nonfinite_source(self, output: Node) -> tuple[Node, str] | None:
        """The first node whose value (or local gradient) went inf/nan with finite inputs.

        Returns (node, "value" | "gradient") or None when everything is finite; for telling the
        student which node produced an inf or a nan.
        """
        self._check(output)
        for i in self._ancestor_indices(output.index):
            node = self._nodes[i]
            if not all(math.isfinite(p.value) for p in node.inputs):
                continue
            if not math.isfinite(node.value):
                return node, "value"
        for i in reversed(self._ancestor_indices(output.index)):
            node = self._nodes[i]
            if not all(math.isfinite(g) for g in node.local_grads):
                return node, "gradient"
        return None

