"""The normalization lab's saved state, for both views.

Batch view: every setting (kind, mode, N, C, H, W, momentum, seed, fold), the batch number, the
lit group and BatchNorm's running statistics at that batch (kept as numbers: a train/eval
switch midway makes them more than a replay of one mode). Race view (4.5.4): its settings, the
student's pick, and how many lab steps were shown (the runs are trained again, in the worker).

Plain JSON for the progress file (`Lab.save_state` / `restore_state`); no Textual.
"""

from __future__ import annotations

import math

import numpy as np

from tutor.labs.normalization.model import NormModel, NormState
from tutor.labs.saved import flag, lab_params, mapping, whole

#: Batches replayed when the batch view comes back (a longer run comes back at this batch).
MAX_RESTORED_STEPS = 5_000


def _vector(value, n: int, positive: bool = False) -> np.ndarray:
    if not isinstance(value, list) or len(value) != n:
        raise TypeError(f"expected {n} numbers, got {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"expected finite numbers, got {v!r}")
        if positive and v < 0:
            raise ValueError(f"a variance cannot be negative, got {v!r}")
    return np.array(value, dtype=np.float64)


# --- batch view -------------------------------------------------------------------------------
def save_batch(model: NormModel) -> dict:
    s = model.state
    return {"params": dict(model.params), "step": model.index, "group": model.group,
            "running_mean": [float(v) for v in s.running_mean],
            "running_var": [float(v) for v in s.running_var]}


def restore_batch(state: dict) -> NormModel:
    """A new model brought to `state` (ValueError, TypeError or KeyError on a damaged one)."""
    mapping(state, ("params", "step", "group", "running_mean", "running_var"))
    params = lab_params("normalization", state["params"])
    if params["view"] != "batch":
        raise ValueError("a race view's state for the batch view")
    step, group = whole(state["step"], "step"), whole(state["group"], "group")
    c = int(params["c"])
    mean = _vector(state["running_mean"], c)
    var = _vector(state["running_var"], c, positive=True)
    model = NormModel(params)
    model.advance(min(step, MAX_RESTORED_STEPS))
    s = model.state
    model.history.replace_future(NormState(s.step, s.z, mean, var))
    model.group = group % len(model.groups())
    return model


# --- race view --------------------------------------------------------------------------------
def save_race(params: dict, index: int, guess: int | None, revealed: bool) -> dict:
    return {"params": dict(params), "index": index, "guess": guess, "revealed": revealed}


def restore_race(state: dict):
    """(params, lab steps to show, pick, revealed) of a saved race (raises on a damaged one)."""
    from tutor.labs.normalization.race import RaceModel

    mapping(state, ("params", "index", "guess", "revealed"))
    params = lab_params("normalization", state["params"])
    if params["view"] != "training":
        raise ValueError("a batch view's state for the race view")
    model = RaceModel(params)  # ValueError: lr_low not below lr_high
    index = whole(state["index"], "index", 0, model.total_chunks)
    guess = state["guess"]
    if guess is not None:
        guess = whole(guess, "pick", 1, 4)
    elif index:
        raise ValueError("a race trained before a run was picked")
    revealed = flag(state["revealed"], "revealed")
    return model, index, guess, revealed and guess is not None
