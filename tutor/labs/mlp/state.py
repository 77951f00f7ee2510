"""The MLP lab's saved state: every setting (data, hidden widths, activation, loss, optimizer
and its hyperparameters, batch size, seeds), the training step, the side panel, the weights'
layer and train/test points.

The weights themselves are not kept (the largest network has 12,800 of them, and the optimizer
state as many again: more than a saved state may hold); training is deterministic, so the lab
trains again from the seed to the saved step, in its worker, and comes back to the same weights
and the same loss curves. At most `MAX_RESTORED_STEPS` steps and `MAX_RESTORED_WORK` (steps x
batch x parameters, about 2 s here) are replayed: a longer run comes back at that step, and the
lab says so (and keeps the longer count saved until the student moves).

Plain JSON for the progress file (`Lab.save_state` / `restore_state`); no Textual.
"""

from __future__ import annotations

from tutor.labs.mlp.model import MlpModel, parse_hidden
from tutor.labs.mlp.params import VIEWS
from tutor.labs.saved import flag, lab_params, mapping, whole

MAX_RESTORED_STEPS = 5_000
MAX_RESTORED_WORK = 2e9

KEYS = ("params", "step", "panel", "layer", "show_test")


def save(lab) -> dict:
    step = lab.model.state.step if lab.kept_step is None else lab.kept_step
    return {"params": dict(lab.params), "step": step, "panel": lab.panel(),
            "layer": lab.weight_layer, "show_test": lab.show_test}


def replay_limit(model: MlpModel) -> int:
    """The most steps the lab trains again when it comes back (cheap for a small network)."""
    batch = min(int(model.params["batch_size"]), len(model.y_train))
    work = batch * model.net.n_parameters
    return int(min(MAX_RESTORED_STEPS, MAX_RESTORED_WORK // max(work, 1)))


def parse(state: dict) -> dict:
    """The checked parts of `state` (params, step, panel, layer, show_test), without building
    the model: its data file, if any, is not read here (ValueError, TypeError or KeyError on a
    damaged state)."""
    mapping(state, KEYS)
    params = lab_params("mlp", state["params"])
    step = whole(state["step"], "step", 0, int(params["max_steps"]))
    panel = state["panel"]
    if panel not in VIEWS:
        raise ValueError(f"unknown panel {panel!r}")
    layers = len(parse_hidden(params["hidden"])) + 1  # the network's layers, data or not
    layer = whole(state["layer"], "layer", 1, layers)
    return {"params": params, "step": step, "panel": panel, "layer": layer,
            "show_test": flag(state["show_test"], "show_test")}


def restore(state: dict) -> dict:
    """The checked parts of `state` with a new model at step 0 and the steps to train again
    (ValueError, TypeError or KeyError on a damaged state, or data that cannot be read now)."""
    kept = parse(state)
    model = MlpModel(kept["params"])
    return {**kept, "model": model, "replay": min(kept["step"], replay_limit(model))}
