"""The optimizer lab's saved state: view, surface, race, focus, hyperparameters, start, step.

Plain JSON for the progress file (`Lab.save_state` / `restore_state`); no Textual. The runs
themselves are not kept: they are recomputed from these settings (a few milliseconds).
"""

from __future__ import annotations

from tutor.labs.optimizer.model import HYPER_KEYS, RaceModel
from tutor.labs.optimizer.params import CHARTS, MODES, OPTIMIZERS, PARAMS, SURFACES
from tutor.labs.saved import mapping, number, whole

KEYS = ("mode", "surface", "selected", "focus", "chart", "batch_size", "conv_lr", "start",
        "hyper", "t")

#: Bounds of each hyperparameter a saved state may hold (the lab's input fields' bounds).
HYPER_BOUNDS = {"lr": (1e-6, 100.0), "gamma": (0.0, 0.999), "beta1": (0.0, 0.999),
                "beta2": (0.0, 0.99999), "eps": (0.0, 1.0)}


def _choice(value, choices) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected one of {', '.join(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"unknown {value!r}; expected one of {', '.join(choices)}")
    return value


def save(model: RaceModel) -> dict:
    """What the student made of the race, as small plain JSON."""
    return {
        "mode": model.mode, "surface": model.surface_name, "selected": list(model.selected),
        "focus": model.focus, "chart": model.chart, "batch_size": model.batch_size,
        "conv_lr": model.conv_lr, "start": [float(v) for v in model.start],
        "hyper": {name: dict(model.hyper[name]) for name in OPTIMIZERS}, "t": model.t,
    }


def restore(params: dict, state: dict) -> RaceModel:
    """A new model from the lab's `params` brought to `state` (ValueError, TypeError or KeyError
    on a damaged one; nothing of the lab is changed here)."""
    mapping(state, KEYS)
    mode = _choice(state["mode"], MODES)
    surface = _choice(state["surface"], SURFACES)
    selected = state["selected"]
    if not isinstance(selected, list) or not selected:
        raise TypeError(f"the race is a non-empty list of optimizers, got {selected!r}")
    selected = [_choice(name, OPTIMIZERS) for name in selected]
    focus = _choice(state["focus"], OPTIMIZERS)
    chart = _choice(state["chart"], CHARTS)
    spec = PARAMS["batch_size"]
    batch_size = whole(state["batch_size"], "batch_size", int(spec.min), int(spec.max))
    conv_lr = number(state["conv_lr"], "conv_lr", *HYPER_BOUNDS["lr"])
    start = state["start"]
    if not isinstance(start, list) or len(start) != 2:
        raise TypeError(f"the start is [x, y], got {start!r}")
    x, y = (number(v, "start", -float("inf"), float("inf")) for v in start)
    hyper = state["hyper"]
    if not isinstance(hyper, dict) or set(hyper) != set(OPTIMIZERS):
        raise ValueError("the saved hyperparameters do not name the eight optimizers")
    clean = {}
    for name in OPTIMIZERS:
        values = hyper[name]
        if not isinstance(values, dict) or set(values) != set(HYPER_KEYS):
            raise ValueError(f"the hyperparameters of {name} are {values!r}")
        clean[name] = {k: number(values[k], k, *HYPER_BOUNDS[k]) for k in HYPER_KEYS}
    t = whole(state["t"], "t")

    model = RaceModel({**params, "mode": mode, "surface": surface, "optimizers": selected,
                       "focus": focus, "chart": chart, "batch_size": batch_size, "lr": [],
                       "start": [], "at": 0})
    model.hyper = clean
    model.conv_lr = conv_lr
    (x0, x1), (y0, y1) = model.surface.bounds
    model.start = (min(max(x, x0), x1), min(max(y, y0), y1))
    model.recompute()  # ValueError (e.g. an optimizer that refuses its values): nothing kept
    model.advance(min(t, model.steps))
    return model
