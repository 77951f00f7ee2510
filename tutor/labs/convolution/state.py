"""The convolution lab's saved state: every setting (view, image, kernel and edited weights,
padding, stride, …, the window's start), the step of the view and the stack view's pixel.

Plain JSON for the progress file (`Lab.save_state` / `restore_state`); no Textual.
"""

from __future__ import annotations

from tutor.labs.convolution.model import ConvModel
from tutor.labs.saved import lab_params, mapping, whole

#: Steps replayed when a lab comes back (more than any view has: 128 x 128 window positions).
MAX_RESTORED_STEPS = 20_000


def save(model: ConvModel) -> dict:
    return {"params": dict(model.params), "step": model.index,
            "focus": [int(v) for v in model.focus]}


def parse(state: dict) -> tuple[dict, int, tuple[int, int]]:
    """The settings, the step and the chosen pixel of `state`, checked (ValueError, TypeError
    or KeyError on a damaged one); no file is read."""
    mapping(state, ("params", "step", "focus"))
    params = lab_params("convolution", state["params"])
    step = whole(state["step"], "step")
    focus = state["focus"]
    if not isinstance(focus, list) or len(focus) != 2:
        raise TypeError(f"the chosen pixel is [row, column], got {focus!r}")
    r, c = (whole(v, "pixel") for v in focus)
    return params, step, (r, c)


def image_file(params: dict) -> str:
    """The student's image file the model of `params` reads ("" when it reads none)."""
    return params["path"] if params["view"] != "lenet" else ""


def restore(state: dict) -> ConvModel:
    """A new model brought to `state` (ValueError, TypeError or KeyError on a damaged one, or
    when the student's image file cannot be read any more; nothing of the lab is changed).
    The image file is decoded here unless it is cached: on the event loop, read it first
    (`tutor.labs.kit.read_data_file`, as the lab widget does)."""
    params, step, (r, c) = parse(state)
    model = ConvModel(params)
    model.advance(min(step, MAX_RESTORED_STEPS))
    h, w = model.stacked_shape()
    model.focus = (min(r, h - 1), min(c, w - 1))
    return model
