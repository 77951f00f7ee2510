"""The backprop lab's saved state: the preset, the typed expression and input values, the step
of the scalar graph and of the tensor graph, the quiz switch and the side panel.

Plain JSON for the progress file (`Lab.save_state` / `restore_state`); no Textual. The quiz's
score and an unanswered question are not kept.
"""

from __future__ import annotations

import math

from tutor.labs.backprop.model import BackpropModel
from tutor.labs.backprop.params import PANELS, PRESETS, TENSOR_PRESET
from tutor.labs.saved import flag, mapping, whole

KEYS = ("preset", "expression", "values", "step", "tensor_step", "quiz", "panel")

#: The longest expression a saved state may hold (a typed one is far shorter).
MAX_EXPRESSION = 2_000


def save(lab) -> dict:
    m = lab.scalar
    return {"preset": lab.preset, "expression": m.expression, "values": dict(m.values),
            "step": m.index, "tensor_step": lab.tmodel.index, "quiz": lab.quiz, "panel": lab.panel}


def restore(state: dict, tensor_total: int) -> dict:
    """The checked parts of `state`, with a new scalar model (`"model"`) built from its
    expression and values (ValueError, TypeError or KeyError on a damaged state)."""
    mapping(state, KEYS)
    preset = state["preset"]
    if preset not in (*PRESETS, TENSOR_PRESET):
        raise ValueError(f"unknown preset {preset!r}")
    expression, values = state["expression"], state["values"]
    if not isinstance(expression, str) or not 0 < len(expression) <= MAX_EXPRESSION:
        raise TypeError(f"the expression is a string of 1 to {MAX_EXPRESSION} characters")
    if not isinstance(values, dict):
        raise TypeError(f"the input values are {values!r}")
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"the value of {name!r} is {v!r}, not a finite number")
    model = BackpropModel(expression, values)  # ExpressionError (a ValueError) if damaged
    if set(values) != set(model.values):
        raise ValueError("the saved values do not name the expression's inputs")
    step = whole(state["step"], "step", 0, model.total)
    tensor_step = whole(state["tensor_step"], "tensor step", 0, tensor_total)
    flag(state["quiz"], "quiz")
    if state["panel"] not in PANELS:
        raise ValueError(f"unknown panel {state['panel']!r}")
    model.advance(step)
    return {"model": model, "preset": preset, "tensor_step": tensor_step,
            "quiz": state["quiz"], "panel": state["panel"]}
