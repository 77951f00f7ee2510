"""The backprop lab's state, without Textual: one expression's tape stepped node by node.

Step 0 shows the inputs. Forward steps evaluate one op node each, in topological order; the
next step seeds ∂f/∂f = 1 at the output; each backward step then takes one op node, in reverse
order, and sends its gradient down every in-edge: downstream = upstream × local, added to what
the input node already had (a node used twice accumulates).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.autodiff import ExpressionError, difference_errors, gradient_check, parse, symbolic
from core.autodiff.ops import OPS
from tutor.history import History, HistoryModel
from tutor.labs.backprop.params import PRESETS

_VALUE_ITEM = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*([^,;]*?)\s*(?:[,;]|$)")


def parse_values(text: str) -> dict[str, float]:
    """"x=1, y=-2.5" -> {"x": 1.0, "y": -2.5}; ExpressionError with the column otherwise."""
    values: dict[str, float] = {}
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _VALUE_ITEM.match(text, pos)
        if m is None or m.end() == pos:
            col = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise ExpressionError("expected name=value, such as x=1.5", col, 1, text)
        try:
            number = float(m.group(2))
        except ValueError:
            raise ExpressionError(f"{m.group(2)!r} is not a number", m.start(2) + 1,
                                  max(1, len(m.group(2))), text) from None
        if not math.isfinite(number):
            raise ExpressionError("the value must be finite", m.start(2) + 1,
                                  len(m.group(2)), text)
        values[m.group(1)] = number
        pos = m.end()
    return values


def fmt(value: float | None, width: int = 6) -> str:
    """A number in at most `width` characters: 3, -0.197, 1.37, 2e+05, nan."""
    if value is None:
        return ""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 10 ** (width - 1):
        return str(int(value))
    for digits in (3, 2, 1):
        text = f"{value:.{digits}g}"
        if len(text) <= width and "e" not in text:
            return text
    text = f"{value:.0e}".replace("e+0", "e+").replace("e-0", "e-")
    return text if len(text) <= width else ("big" if abs(value) > 1 else "~0")


# --- writing nodes back as text ---------------------------------------------------------
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _local_text(k: int, formula: str, g: float) -> str:
    """"∂/∂a = b = 2", or "∂/∂a = 1" when the formula is already the number."""
    number = fmt(g, 8)
    head = f"∂/∂{'ab'[k]} = {formula}"
    return head if formula.strip() == number else f"{head} = {number}"


def node_texts(nodes, torch: bool = False) -> list[str]:
    """Each node written as an expression (Python syntax, or with torch.* functions)."""
    pos = {n.index: p for p, n in enumerate(nodes)}
    out: list[tuple[str, int]] = []
    for node in nodes:
        op = node.op
        args = [out[pos[p.index]] for p in node.inputs]
        if op == "input":
            out.append((node.name, 9))
        elif op == "const":
            text = _number(node.constant, torch)
            out.append((text, 3 if text.startswith("-") else 9))
        elif op in _SYMBOL:
            (a, pa), (b, pb) = args
            p = _PREC[op]
            a = f"({a})" if pa < p else a
            b = f"({b})" if pb <= p else b
            out.append((f"{a} {_SYMBOL[op]} {b}", p))
        elif op == "neg":
            a, pa = args[0]
            out.append((f"-({a})" if pa < 3 else f"-{a}", 3))
        elif op == "pow":
            a, pa = args[0]
            a = f"({a})" if pa <= 4 else a
            out.append((f"{a} ** {_number(node.constant, False)}", 4))
        else:
            fn = f"torch.{op}" if torch else op
            out.append((f"{fn}({args[0][0]})", 9))
    return [text for text, _ in out]


def _number(value: float, torch: bool) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value)}.0" if torch else str(int(value))
    return repr(float(value))


# --- what the UI draws --------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    """One node as drawn: position in topological order, label, and what is known so far."""

    label: str
    kind: str  # "input" | "const" | "op"
    inputs: tuple[int, ...]
    value: float | None  # None: not computed yet
    grad: float | None  # None: no gradient has reached it yet
    grad_complete: bool
    focus: bool
    hot: bool  # an input of the focused node in a backward step (gradient flowing in)
    tag: str = ""  # "#14" when the panel names the node by number


@dataclass(frozen=True)
class View:
    boxes: tuple[Box, ...]
    focus: int | None
    phase: str  # "start" | "forward" | "seed" | "backward" | "done"


@dataclass(frozen=True)
class Flow:
    """One in-edge of a node in a backward step: downstream = upstream × local."""

    target: int  # the input node receiving the gradient
    k: int  # which input of the node (0 or 1)
    local: float
    upstream: float
    downstream: float
    before: float  # the target's gradient before this edge (0 when nothing yet)

    @property
    def after(self) -> float:
        return self.before + self.downstream


class BackpropModel(HistoryModel):
    """An expression's graph with the step history the lab plays forward and back.

    Its settings (`apply`) are the expression ("expression") and the input values ("values",
    typed as "x=1, y=-2"); a refused one keeps the graph as it was and leaves the reason, with
    the column it points at, in `refusal`.
    """

    def __init__(self, expression: str, values: dict[str, float] | None = None) -> None:
        self.refusal: ExpressionError | None = None
        """Why the last `apply` was refused (its column marks the typed text), else None."""
        self._load(expression, values or {})

    def _load(self, expression: str, given: dict[str, float]) -> None:
        graph, output = parse(expression)  # ExpressionError before anything changes
        self.expression = expression
        self.graph, self.output = graph, output
        self.nodes = graph.ancestors(output)
        self._pos = {n.index: p for p, n in enumerate(self.nodes)}
        self.inputs = {p: [self._pos[q.index] for q in n.inputs] for p, n in enumerate(self.nodes)}
        self.texts = node_texts(self.nodes)
        self._consumers: dict[int, list[int]] = {p: [] for p in range(len(self.nodes))}
        for p, ins in self.inputs.items():
            for q in ins:
                if p not in self._consumers[q]:
                    self._consumers[q].append(p)
        self.values = {name: float(given.get(name, 1.0)) for name in graph.inputs}
        self.ops = [p for p, n in enumerate(self.nodes) if n.op not in ("input", "const")]
        self.total = 2 * len(self.ops) + 1
        self.history: History[int] = History(0, lambda s: s + 1 if s < self.total else None)
        self._compute()

    @classmethod
    def from_preset(cls, preset: str, expression: str = "", values: str = "") -> BackpropModel:
        """The preset's expression and values, overridden by a lesson's `expression`/`values`."""
        _, preset_text, preset_values = PRESETS[preset]
        given = dict(preset_values)
        given.update(parse_values(values) if values else {})
        return cls(expression or preset_text, given)

    # --- numbers ----------------------------------------------------------------------------
    def _compute(self) -> None:
        g, out = self.graph, self.output
        g.forward(out, **self.values)
        g.backward(out)
        self.value = [n.value for n in self.nodes]
        self.grad = [n.grad for n in self.nodes]
        self.local = [n.local_grads for n in self.nodes]
        self.problem = g.nonfinite_source(out)

    def set_values(self, values: dict[str, float]) -> None:
        """New input values (unknown names raise ValueError); the step stays where it is."""
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            raise ValueError(f"the expression has no input {unknown[0]!r}")
        self.values.update({k: float(v) for k, v in values.items()})
        self._compute()

    def values_text(self) -> str:
        return ", ".join(f"{k}={fmt(v, 12)}" for k, v in self.values.items())

    def read_values(self, text: str) -> dict[str, float]:
        """"x=1, y=2" as new values for this expression's inputs; ExpressionError (with the
        column) on a malformed text or a name that is not an input."""
        values = parse_values(text)
        unknown = [k for k in values if k not in self.values]
        if unknown:
            col = text.find(unknown[0]) + 1
            raise ExpressionError(f"the expression has no input {unknown[0]!r}", col,
                                  len(unknown[0]), text)
        return values

    def apply(self, name: str, value) -> str | None:
        """"expression": a new graph from the text (the inputs it keeps keep their values),
        from step 0; "values": new input values ("x=1, y=2"), the step kept. None when
        applied; else the reason, the graph unchanged and the error kept in `refusal`."""
        if name not in ("expression", "values"):
            return f"unknown setting {name!r}; expected expression or values"
        try:
            if name == "expression":
                self._load(str(value), dict(self.values))
            else:
                self.set_values(self.read_values(str(value)))
        except ExpressionError as exc:
            self.refusal = exc
            return str(exc)
        self.refusal = None
        return None

    # --- steps ------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """The step shown (0: the inputs; `total`: the backward pass done)."""
        return self.history.index

    @property
    def phase(self) -> str:
        return self._phase(self.index)

    def status(self) -> str:
        """"3/7 forward": the step, of how many, and the phase."""
        return f"{self.index}/{self.total} {self.phase}"

    def _phase(self, s: int) -> str:
        f = len(self.ops)
        if s == 0:
            return "start"
        if s <= f:
            return "forward"
        if s == f + 1:
            return "seed"
        return "done" if s == self.total else "backward"

    def run_all(self) -> None:
        self.history.advance(self.total)

    def go_to(self, where: str) -> None:
        """"start", "forward" (the forward pass done) or "end"."""
        self.history.reset()
        self.history.advance({"start": 0, "forward": len(self.ops), "end": self.total}[where])

    def focus(self, s: int | None = None) -> int | None:
        s = self.index if s is None else s
        f = len(self.ops)
        if s == 0:
            return None
        if s <= f:
            return self.ops[s - 1]
        if s == f + 1:
            return len(self.nodes) - 1
        return self.ops[f - (s - f - 1)]

    def _processed(self, s: int) -> list[int]:
        """The op nodes whose gradient has been sent to their inputs by step s."""
        f = len(self.ops)
        done = max(0, s - f - 1)
        return self.ops[::-1][:done]

    def partial_grads(self, s: int | None = None) -> dict[int, float]:
        """The gradient each node has received by step s (only nodes reached so far)."""
        s = self.index if s is None else s
        if s <= len(self.ops):
            return {}
        grads = {len(self.nodes) - 1: 1.0}
        for p in self._processed(s):
            for k, q in enumerate(self.inputs[p]):
                grads[q] = grads.get(q, 0.0) + grads[p] * self.local[p][k]
        return grads

    def flows(self, s: int | None = None) -> list[Flow]:
        """The in-edges the focused node of backward step s sends gradient along."""
        s = self.index if s is None else s
        if self._phase(s) not in ("backward", "done"):
            return []
        p = self.focus(s)
        before = self.partial_grads(s - 1)
        upstream = before[p]
        result = []
        for k, q in enumerate(self.inputs[p]):
            local = self.local[p][k]
            prior = before.get(q, 0.0)
            result.append(Flow(q, k, local, upstream, upstream * local, prior))
            before[q] = prior + upstream * local
        return result

    def consumers(self, p: int) -> list[int]:
        """The nodes that use node p (once each, even when one uses it twice)."""
        return self._consumers[p]

    def view(self) -> View:
        s = self.index
        f = len(self.ops)
        known = set(self.ops[: min(s, f)])
        grads = self.partial_grads(s)
        processed = set(self._processed(s))
        focus = self.focus(s)
        hot = set(self.inputs[focus]) if focus is not None and s > f + 1 else set()
        boxes = []
        for p, node in enumerate(self.nodes):
            kind = node.op if node.op in ("input", "const") else "op"
            value = self.value[p] if (kind != "op" or p in known) else None
            complete = p in grads and (p == len(self.nodes) - 1 or
                                       all(c in processed for c in self.consumers(p)))
            tag = f"#{p}" if self.name(p).startswith(f"#{p} ") else ""
            boxes.append(Box(node.label, kind, tuple(self.inputs[p]), value, grads.get(p),
                             complete, p == focus, p in hot, tag))
        return View(tuple(boxes), focus, self._phase(s))

    # --- words for the side panel -------------------------------------------------------------
    def name(self, p: int) -> str:
        """How the panel names node p: its text when short, else its symbol and number."""
        text = self.texts[p]
        if len(text) <= 12 or self.nodes[p].op in ("input", "const"):
            return text
        return f"#{p} ({self.nodes[p].label})"

    def form(self, p: int) -> str:
        """Node p's op written with a and b for its inputs: "a × b", "exp(a)", "a^2"."""
        node = self.nodes[p]
        op = node.op
        if op in ("add", "sub", "mul", "div"):
            return f"a {OPS[op].symbol} b"
        if op == "neg":
            return "-a"
        if op == "pow":
            return f"a^{fmt(node.constant, 8)}"
        return f"{op}(a)"

    def _operands(self, p: int) -> str:
        return ", ".join(f"{'ab'[k]} = {self.name(q)}" + (
            f" = {fmt(self.value[q], 8)}" if self.nodes[q].op != "const" else "")
            for k, q in enumerate(self.inputs[p]))

    def detail(self) -> list[str]:
        """Lines describing the current step for the focused node."""
        s, p = self.index, self.focus()
        phase = self._phase(s)
        if phase == "start":
            names = ", ".join(f"{k} = {fmt(v, 8)}" for k, v in self.values.items())
            return [f"Inputs: {names}.", "Press n to evaluate the first node (forward pass)."]
        node = self.nodes[p]
        local = OPS[node.op].local
        if phase == "forward":
            lines = [f"Forward: {self.name(p)} = {self.form(p)} with {self._operands(p)}",
                     f"  value {fmt(self.value[p], 10)}; local gradients, kept for the backward"
                     " pass: " + ", ".join(_local_text(k, local[k], g)
                                         for k, g in enumerate(self.local[p]))]
            return lines
        if phase == "seed":
            return [f"Backward starts at the output f = {self.name(p)} = {fmt(self.value[p], 10)}:"
                    " ∂f/∂f = 1"]
        upstream = self.partial_grads(s - 1)[p]
        lines = [f"Backward: {self.name(p)} = {self.form(p)},  upstream ∂f/∂({self.name(p)})"
                 f" = {fmt(upstream, 10)}"]
        for flow in self.flows(s):
            q = flow.target
            line = (f"  → {'ab'[flow.k]} = {self.name(q)}: local {local[flow.k]} = "
                    f"{fmt(flow.local, 8)}; downstream = {fmt(flow.upstream, 8)} × "
                    f"{fmt(flow.local, 8)} = {fmt(flow.downstream, 8)}")
            if flow.before != 0.0 or len(self.consumers(q)) > 1:
                line += (f"  [accumulates: {fmt(flow.before, 8)} + {fmt(flow.downstream, 8)}"
                         f" = {fmt(flow.after, 8)}]")
            lines.append(line)
        if phase == "done":
            grads = ", ".join(f"∂f/∂{k} = {fmt(v, 8)}" for k, v in self.input_grads().items())
            lines.append(f"Done: {grads}")
        return lines

    def input_grads(self) -> dict[str, float]:
        return {n.name: self.grad[p] for p, n in enumerate(self.nodes) if n.op == "input"}

    def problem_text(self) -> str | None:
        """Which node produced an inf or nan, in words (None when all is finite)."""
        if self.problem is None:
            return None
        node, kind = self.problem
        p = self._pos[node.index]
        what = fmt(self.value[p], 8) if kind == "value" else ", ".join(
            fmt(v, 8) for v in self.local[p])
        noun = "value" if kind == "value" else "local gradient"
        return f"⚠ node {self.name(p)} has {noun} {what}: it propagates from there"

    # --- predict-then-reveal -------------------------------------------------------------------
    def questions(self) -> list[tuple[str, str, float, str]]:
        """Questions for the next step if it is a backward step: (key, prompt, answer, why)."""
        s = self.index + 1
        if s > self.total or self._phase(s) not in ("backward", "done"):
            return []
        p = self.focus(s)
        result = []
        for flow in self.flows(s):
            q = flow.target
            if self.nodes[q].op == "const":
                continue
            key = f"{self.expression}|{p}|{flow.k}"
            prompt = (f"{self.name(p)} = {self.form(p)}, upstream {fmt(flow.upstream, 8)}: "
                      f"downstream gradient into {'ab'[flow.k]} = {self.name(q)}?")
            why = (f"downstream = upstream × local = {fmt(flow.upstream, 8)} × "
                   f"{OPS[self.nodes[p].op].local[flow.k]} = {fmt(flow.upstream, 8)} × "
                   f"{fmt(flow.local, 8)} = {fmt(flow.downstream, 8)}.")
            result.append((key, prompt, flow.downstream, why))
        return result

    # --- panels -------------------------------------------------------------------------------
    def gradient_check(self) -> list[tuple[str, float, float, float]]:
        return gradient_check(self.graph, self.output, self.values)

    def difference_errors(self) -> tuple[str, dict]:
        """The first input's name and |finite difference − autodiff| of ∂f/∂it against h
        (`core.autodiff.difference_errors`: "h", "forward", "central")."""
        name = next(iter(self.values))
        return name, difference_errors(self.graph, self.output, self.values, name)

    def symbolic_sizes(self) -> list[tuple[str, int, int, int]]:
        """(input, symbols in f, symbols in ∂f/∂input unsimplified, nodes on the tape)."""
        expr = symbolic.from_graph(self.graph, self.output)
        size = symbolic.size(expr)
        return [(name, size, symbolic.size(symbolic.derivative(expr, name)), len(self.nodes))
                for name in self.values]

    def derivative_text(self, name: str, limit: int = 160) -> str:
        """∂f/∂name as symbolic differentiation writes it, unsimplified (cut at `limit`)."""
        expr = symbolic.from_graph(self.graph, self.output)
        return symbolic.to_text(symbolic.derivative(expr, name), limit)

    def pytorch_code(self) -> str:
        """The same computation in PyTorch, to copy."""
        lines = ["import torch", ""]
        for name, v in self.values.items():
            lines.append(f"{name} = torch.tensor({float(v)!r}, dtype=torch.float64, "
                         "requires_grad=True)")
        lines.append(f"f = {node_texts(self.nodes, torch=True)[-1]}")
        lines += ["f.backward()", "", f"print(f.item())  # {fmt(self.value[-1], 12)}"]
        for name, g in self.input_grads().items():
            lines.append(f"print({name}.grad.item())  # ∂f/∂{name} = {fmt(g, 12)}")
        return "\n".join(lines) + "\n"
