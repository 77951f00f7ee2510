"""The backprop lab's tensor mode, without Textual: a 2-layer network's graph of tensors, stepped op by op.

x (N, D) → u₁ = x W₁ᵀ → z₁ = u₁ + b₁ → h = relu(z₁) → u₂ = h W₂ᵀ → z₂ = u₂ + b₂ → ℒ = CE(z₂, y).
The numbers come from `core.tensor` (one forward and one backward with every intermediate's
gradient retained); the model replays them: step 0 shows the leaves with their shapes, each
forward step computes one op node, the next seeds ∂ℒ/∂ℒ = 1, and each backward step takes
one op node and sends a gradient to each of its inputs, with the rule and the shapes.
Same interface as `BackpropModel` (the kit's `LabModel`: step, back, reset, advance, status,
apply, pytorch_code; and run_all, go_to, index, total, phase, questions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.tensor import nn, tensor
from core.tensor import functional as F

#: Default sizes: batch N, inputs D, hidden H, classes C (all different, so shapes are unambiguous).
SIZES = {"n": 4, "d": 3, "hidden": 5, "classes": 2}
#: The default seed: one where most hidden units are active (12 of the 20 entries of z1 > 0).
SEED = 4


@dataclass(frozen=True)
class TNode:
    """A node of the tensor graph: a leaf (data or parameter) or an op."""

    name: str
    kind: str  # "data" | "param" | "op"
    form: str  # how it is computed ("x @ W1ᵀ"), or what it is
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class TFlow:
    """One gradient a backward step sends: to `target`, with its shape, the rule and the shape arithmetic."""

    target: str
    shape: tuple[int, ...] | None  # None: no gradient (data)
    rule: str
    shapes: str


NODES: tuple[TNode, ...] = (
    TNode("x", "data", "input batch (no grad)"),
    TNode("y", "data", "labels (integers)"),
    TNode("W1", "param", "Linear(D, H).weight"),
    TNode("b1", "param", "Linear(D, H).bias"),
    TNode("u1", "op", "x @ W1ᵀ", ("x", "W1")),
    TNode("z1", "op", "u1 + b1", ("u1", "b1")),
    TNode("h", "op", "relu(z1)", ("z1",)),
    TNode("W2", "param", "Linear(H, C).weight"),
    TNode("b2", "param", "Linear(H, C).bias"),
    TNode("u2", "op", "h @ W2ᵀ", ("h", "W2")),
    TNode("z2", "op", "u2 + b2", ("u2", "b2")),
    TNode("L", "op", "cross_entropy(z2, y)", ("z2", "y")),
)
OPS: tuple[str, ...] = tuple(n.name for n in NODES if n.kind == "op")
_BY_NAME = {n.name: n for n in NODES}


def shape_text(shape) -> str:
    """(4, 3) -> "(4, 3)", () -> "()" (a scalar), (5,) -> "(5,)"."""
    return "(" + ", ".join(str(k) for k in shape) + ("," if len(shape) == 1 else "") + ")"


class TensorBackpropModel:
    """The replay of one forward and backward pass of the 2-layer network, op by op."""

    def __init__(self, n: int = SIZES["n"], d: int = SIZES["d"], hidden: int = SIZES["hidden"],
                 classes: int = SIZES["classes"], seed: int = SEED) -> None:
        for key, value in (("n", n), ("d", d), ("hidden", hidden), ("classes", classes)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9:
                raise ValueError(f"{key} must be a whole number from 1 to 9, got {value!r}")
        if classes < 2:
            raise ValueError("classes must be at least 2")
        self.sizes = {"n": n, "d": d, "hidden": hidden, "classes": classes}
        self.seed = int(seed)
        self._compute()
        self._step = 0

    # --- the numbers, from core.tensor ---------------------------------------------------------
    def _compute(self) -> None:
        n, d, hdim, c = (self.sizes[k] for k in ("n", "d", "hidden", "classes"))
        rng = np.random.default_rng(self.seed)
        X = np.round(rng.standard_normal((n, d)), 2)
        y = np.arange(n) % c
        lin1, lin2 = nn.Linear(d, hdim, seed=self.seed + 1), nn.Linear(hdim, c, seed=self.seed + 2)
        x = tensor(X)
        t = {"x": x, "W1": lin1.weight, "b1": lin1.bias, "W2": lin2.weight, "b2": lin2.bias}
        t["u1"] = x @ t["W1"].T
        t["z1"] = t["u1"] + t["b1"]
        t["h"] = t["z1"].relu()
        t["u2"] = t["h"] @ t["W2"].T
        t["z2"] = t["u2"] + t["b2"]
        t["L"] = F.cross_entropy(t["z2"], y)
        for name in OPS:
            t[name].retain_grad()
        t["L"].backward()
        self.labels = y
        self.values = {k: v.data.copy() for k, v in t.items()}
        self.values["y"] = y.astype(float)
        self.grads = {k: (None if v.grad is None else v.grad.copy()) for k, v in t.items()}
        self.grads["y"] = None

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.values[name].shape)

    @property
    def loss(self) -> float:
        return float(self.values["L"])

    # --- stepping ----------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """Forward steps (one per op) + the seed + backward steps (one per op)."""
        return 2 * len(OPS) + 1

    @property
    def index(self) -> int:
        """The step shown (0: the leaves; `total`: the backward pass done)."""
        return self._step

    def _phase(self, s: int) -> str:
        k = len(OPS)
        if s == 0:
            return "start"
        if s <= k:
            return "forward"
        if s == k + 1:
            return "seed"
        return "done" if s == self.total else "backward"

    @property
    def phase(self) -> str:
        return self._phase(self._step)

    def step(self) -> bool:
        if self._step >= self.total:
            return False
        self._step += 1
        return True

    def back(self) -> bool:
        if self._step <= 0:
            return False
        self._step -= 1
        return True

    def reset(self) -> None:
        self._step = 0

    def run_all(self) -> None:
        self._step = self.total

    def advance(self, n: int) -> int:
        """Up to n steps forward; returns how many were taken."""
        done = 0
        while done < n and self.step():
            done += 1
        return done

    def go_to(self, where: str) -> None:
        self._step = {"start": 0, "forward": len(OPS), "end": self.total}.get(where, 0)

    def apply(self, name: str, value) -> str | None:
        """Change a size ("n", "d", "hidden", "classes") or the seed; keeps the old graph on bad input."""
        if name not in (*self.sizes, "seed"):
            return f"unknown parameter {name!r}; expected one of {', '.join((*self.sizes, 'seed'))}"
        try:
            value = int(value)
            sizes = dict(self.sizes)
            seed = self.seed
            if name == "seed":
                seed = value
            else:
                sizes[name] = value
            fresh = TensorBackpropModel(**sizes, seed=seed)
        except (TypeError, ValueError) as exc:
            return str(exc)
        self.__dict__.update(fresh.__dict__)
        return None

    # --- what is known at a step ----------------------------------------------------------
    def computed(self, s: int | None = None) -> set[str]:
        """Nodes whose value is known: the leaves, then one op per forward step."""
        s = self._step if s is None else s
        done = OPS[: min(s, len(OPS))]
        return {n.name for n in NODES if n.kind != "op"} | set(done)

    def focus(self, s: int | None = None) -> str | None:
        """The op node the step is about (None at step 0)."""
        s = self._step if s is None else s
        k = len(OPS)
        if s == 0:
            return None
        if s <= k:
            return OPS[s - 1]
        if s == k + 1:
            return "L"
        return OPS[k - 1 - (s - k - 2)]

    def graded(self, s: int | None = None) -> set[str]:
        """Nodes whose gradient has arrived by step s (the seed gives L its gradient)."""
        s = self._step if s is None else s
        k = len(OPS)
        if s <= k:
            return set()
        out = {"L"}
        for j in range(s - k - 1):  # backward steps taken
            for flow in self.flows_of(OPS[k - 1 - j]):
                if flow.shape is not None:
                    out.add(flow.target)
        return out

    def flows_of(self, op: str) -> list[TFlow]:
        """The gradients op node `op` sends to its inputs, with the rule and the shapes."""
        S = {k: shape_text(self.shape(k)) for k in self.values}
        n = self.sizes["n"]
        if op == "L":
            return [TFlow("z2", self.shape("z2"), "δ₂ = ∂ℒ/∂z2 = (softmax(z2) − onehot(y)) / N",
                          f"one row per sample, one column per class: {S['z2']} like z2")]
        if op in ("z1", "z2"):
            u, b, d = ("u1", "b1", "δ₁") if op == "z1" else ("u2", "b2", "δ₂")
            return [
                TFlow(u, self.shape(u), f"∂ℒ/∂{u} = {d}  (a sum passes the gradient through)",
                      f"{S[op]} → {S[u]}"),
                TFlow(b, self.shape(b), f"∂ℒ/∂{b} = Σₙ {d}[n]  ({b} was broadcast over the N = {n} rows, "
                      "so its gradient sums them)", f"{S[op]} summed over rows → {S[b]}, {b}'s shape"),
            ]
        if op == "h":
            live = int((self.values["z1"] > 0).sum())
            return [TFlow("z1", self.shape("z1"), "δ₁ = ∂ℒ/∂h ⊙ 1[z1 > 0]  (elementwise: the gradient "
                          f"passes where relu was active, {live} of {self.values['z1'].size} entries)",
                          f"{S['h']} ⊙ {S['z1']} → {S['z1']}")]
        # the matrix products u = a Wᵀ
        a, W, d = ("x", "W1", "δ₁") if op == "u1" else ("h", "W2", "δ₂")
        out_w, in_w = self.shape(W)
        flows = [TFlow(W, self.shape(W), f"∂ℒ/∂{W} = {d}ᵀ {a} = Σₙ {d}[n] {a}[n]ᵀ  (the notes' δ xᵀ, summed "
                       "over the batch)", f"({out_w}, {n}) · ({n}, {in_w}) → {S[W]}, {W}'s shape")]
        if op == "u1":
            flows.append(TFlow("x", None, "x is data (requires_grad=False): no gradient is computed",
                               "—"))
        else:
            flows.append(TFlow("h", self.shape("h"), "∂ℒ/∂h = δ₂ W2  (the Jacobian of h ↦ h W2ᵀ "
                               "applied to the upstream gradient)", f"({n}, {out_w}) · {S['W2']} → {S['h']}"))
        return flows

    def flows(self, s: int | None = None) -> list[TFlow]:
        """What a backward step sends (empty in the forward phase)."""
        s = self._step if s is None else s
        if self._phase(s) in ("backward", "done") and s > len(OPS) + 1:
            return self.flows_of(self.focus(s))
        return []

    # --- text for the widget ---------------------------------------------------------------
    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(name, shape, how it is computed, value text, gradient text) for every node."""
        known, graded = self.computed(), self.graded()
        out = []
        for node in NODES:
            shape = shape_text(self.shape(node.name)) if node.name in known else "?"
            value = ""
            if node.name == "L" and node.name in known:
                value = f"ℒ = {self.loss:.4f}"
            elif node.name in known:
                value = "computed" if node.kind == "op" else node.kind
            grad = ""
            if node.name in graded:
                g = self.grads[node.name]
                grad = f"∂ℒ/∂{node.name} {shape_text(np.shape(g))}"
            elif node.kind == "data" and self._step == self.total:
                grad = "no grad (data)"
            out.append((node.name, shape, node.form, value, grad))
        return out

    def detail(self) -> list[str]:
        """Lines about the current step: what was computed, or the gradients sent and why."""
        s, phase = self._step, self.phase
        if phase == "start":
            return ["The leaves: data x, labels y and the parameters, each with its shape.",
                    "n runs the forward pass one op at a time; then backward from ℒ."]
        op = self.focus()
        node = _BY_NAME[op]
        if phase == "forward":
            ins = " and ".join(f"{i} {shape_text(self.shape(i))}" for i in node.inputs)
            extra = f"; ℒ = {self.loss:.4f}" if op == "L" else ""
            return [f"forward: {op} = {node.form} from {ins} → {shape_text(self.shape(op))}{extra}"]
        if phase == "seed":
            return ["seed: ∂ℒ/∂ℒ = 1, a scalar (shape ()): the loss is one number, so every",
                    "gradient ∂ℒ/∂T has exactly the shape of T."]
        lines = [f"backward through {op} = {node.form}:"]
        for flow in self.flows(s):
            lines.append(f"  → {flow.rule}")
            lines.append(f"      shapes: {flow.shapes}")
            if flow.shape is not None and self.grads[flow.target] is not None:
                lines.extend("      " + row for row in _matrix_text(self.grads[flow.target]))
        return lines

    def status(self) -> str:
        return f"{self._step}/{self.total} {self.phase}"

    # --- quiz ----------------------------------------------------------------------------------
    def questions(self) -> list[tuple[str, str, float, str]]:
        """Before a backward step is shown: the shapes of the parameter gradients it will send,
        and at the ReLU how many entries of δ₁ can be non-zero. (key, prompt, answer, why)."""
        nxt = self._step + 1
        if self._phase(nxt) not in ("backward", "done") or nxt <= len(OPS) + 1:
            return []
        out = []
        for flow in self.flows_of(self.focus(nxt)):
            if flow.shape is None:
                continue
            t = flow.target
            if _BY_NAME[t].kind == "param" and len(flow.shape) == 2:
                why = f"∂ℒ/∂{t} has the shape of {t}: {shape_text(flow.shape)}."
                out.append((f"tensor:{t}:rows", f"How many rows does ∂ℒ/∂{t} have?", float(flow.shape[0]), why))
                out.append((f"tensor:{t}:cols", f"How many columns does ∂ℒ/∂{t} have?", float(flow.shape[1]), why))
            elif _BY_NAME[t].kind == "param":
                out.append((f"tensor:{t}:len", f"How many numbers does ∂ℒ/∂{t} hold?", float(flow.shape[0]),
                            f"{t} is {shape_text(flow.shape)}: the rows of the batch are summed away."))
            elif t == "z1":
                live = float((self.values["z1"] > 0).sum())
                out.append(("tensor:z1:live", "How many entries of δ₁ = ∂ℒ/∂z1 can be non-zero? "
                            "(count z1 > 0)", live, "relu passes the gradient only where z1 > 0."))
        return out

    # --- PyTorch ------------------------------------------------------------------------------
    def pytorch_code(self) -> str:
        v = self.values

        def lit(a) -> str:
            return repr(np.round(a, 6).tolist())

        return "\n".join([
            "import torch",
            "import torch.nn.functional as F",
            "",
            "torch.set_default_dtype(torch.float64)",
            f"x = torch.tensor({lit(v['x'])})            # {shape_text(self.shape('x'))}, data",
            f"y = torch.tensor({self.labels.tolist()})",
            f"W1 = torch.tensor({lit(v['W1'])}, requires_grad=True)",
            f"b1 = torch.tensor({lit(v['b1'])}, requires_grad=True)",
            f"W2 = torch.tensor({lit(v['W2'])}, requires_grad=True)",
            f"b2 = torch.tensor({lit(v['b2'])}, requires_grad=True)",
            "u1 = x @ W1.T; z1 = u1 + b1; h = torch.relu(z1)",
            "u2 = h @ W2.T; z2 = u2 + b2",
            "for t in (u1, z1, h, u2, z2):",
            "    t.retain_grad()                        # keep the gradients of intermediates",
            "loss = F.cross_entropy(z2, y)",
            "loss.backward()",
            "print(loss.item())",
            "for name, t in dict(z2=z2, b2=b2, W2=W2, h=h, z1=z1, b1=b1, W1=W1).items():",
            "    print(name, tuple(t.grad.shape))       # each gradient has its tensor's shape",
            "delta2 = (torch.softmax(z2, 1) - F.one_hot(y, 2)) / len(y)",
            "print(torch.allclose(W2.grad, delta2.T @ h), torch.allclose(b2.grad, delta2.sum(0)))",
        ])


def _matrix_text(a: np.ndarray, max_rows: int = 5, max_cols: int = 6) -> list[str]:
    """A small array as rows of fixed-width numbers (truncated with …)."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    if a.ndim > 2:
        return [f"array {a.shape}"]
    lines = []
    for row in a[:max_rows]:
        cells = " ".join(f"{v + 0.0:+.3f}" for v in row[:max_cols])
        lines.append("[" + cells + (" …" if a.shape[1] > max_cols else "") + "]")
    if a.shape[0] > max_rows:
        lines.append(f"… {a.shape[0] - max_rows} more rows")
    return lines
