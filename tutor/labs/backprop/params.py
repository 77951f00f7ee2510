"""Parameters of the backprop lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels this lab calls (the lesson mounts the lab once they are warm).
CORE_PACKAGES = ("autodiff", "optim", "tensor")

#: preset name -> (title, expression, input values); plain data, shared with the model.
PRESETS: dict[str, tuple[str, str, dict[str, float]]] = {
    "notes": ("the notes' example (2.4.2)", "(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0}),
    "sigmoid": (
        "sigmoid neuron from primitives (2.4.5)",
        "1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))",
        {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
    ),
    "sigmoid_block": (
        "sigmoid neuron with the σ block (2.4.5)",
        "sigmoid(w0*x0 + w1*x1 + w2)",
        {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
    ),
    "fanout": ("fan-out: x is used twice", "(x + y) * x", {"x": 3.0, "y": -1.0}),
    "loss": (
        "squared error of a linear neuron (2.1.1)",
        "(w * x + b - y) ** 2",
        {"w": 0.5, "x": 2.0, "b": 0.1, "y": 2.0},
    ),
    "linear": (
        "one output of a linear layer, f₁ = W₁₁x₁ + W₁₂x₂ (2.5.2)",
        "W11 * x1 + W12 * x2",
        {"W11": 2.0, "W12": -1.0, "x1": 0.5, "x2": 3.0},
    ),
}

#: The preset that switches the lab to tensor mode: a 2-layer network's graph of tensors
#: (x → Linear → ReLU → Linear → cross-entropy) with shapes, stepped by core.tensor (2.5).
TENSOR_PRESET = "tensor"

PANELS = ("node", "check", "symbolic")

PARAMS: dict[str, Param] = {
    "preset": Param("str", "notes", "the expression and input values to start from; 'tensor': "
                    "a 2-layer network's graph of tensors with shapes (tensor mode)",
                    choices=(*PRESETS, TENSOR_PRESET)),
    "expression": Param("str", "", "an expression to use instead of the preset's, such as "
                        "'x * y + sin(x)' (empty: the preset's)"),
    "values": Param("str", "", "input values such as 'x=1, y=-2' (empty or missing names: "
                    "the preset's values, else 1)"),
    "quiz": Param("bool", False, "predict-then-reveal: type each downstream gradient before "
                  "the backward pass shows it"),
    "panel": Param("str", "node", "the side panel: the focused node, the gradient check "
                   "against finite differences, or symbolic differentiation's expression size",
                   choices=PANELS),
    "at": Param("str", "start", "where the lab opens: at the start, after the forward pass, "
                "or at the end", choices=("start", "forward", "end")),
}
