"""The autoencoder lab's saved state: view, page, every setting (cloud, k, η, azimuth, code
size, noise σ, β…), the step, the latent cursor, the digit pair / digit / draw of ε and how much
of z = μ + σ ⊙ ε is shown, and the questions answered, as small plain JSON.

What comes back: all of it; the training steps are retrained from the seed in the lab's worker
(the batches, noise and ε depend only on the step and the seed: exactly the same weights,
curves and scatter). Not kept: the weights themselves (thousands of numbers with Adam's
moments) and, in the digit views past REPLAY_STEPS (about 2 s of training here), the later
steps: the lab comes back at that step and says so (space trains on from there); the longer
count stays saved until the student moves, so leaving again does not shorten it. The pca view
replays every step (well under a second). Steps the student had stepped back over are not kept
(only the position shown).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tutor.labs import saved
from tutor.labs.autoencoder.model import AutoencoderModel

#: Digit-view steps a restore retrains at most (~24 ms a step of 10 batches on a loaded 2-core
#: box: about 2 s); a lesson's own head start (`steps`) is always replayed.
REPLAY_STEPS = 80
KEYS = ("params", "step", "cursor", "pair_n", "item", "draw", "stage", "answered")
BIG = 1_000_000


@dataclass
class Restored:
    """A checked state, ready to install: the model at step 0, the steps to retrain in the
    worker, the step they lead to, what the widget shows, and a note for the student."""

    model: AutoencoderModel
    replay: int
    target: int
    cursor: tuple[float, float]
    pair_n: int
    item: int
    draw: int
    stage: int
    answered: set[str]
    note: str


def save(model: AutoencoderModel, cursor, pair_n: int, item: int, draw: int, stage: int,
         answered: set[str], target: int | None = None) -> dict:
    """The state to keep; `target` is the step a running restore still trains towards."""
    step = model.index
    return {"params": {k: v for k, v in model.params.items() if k != "steps"},
            "step": step if target is None else max(step, target),
            "cursor": [float(c) for c in np.ravel(cursor)[:2]], "pair_n": int(pair_n),
            "item": int(item), "draw": int(draw), "stage": int(stage),
            "answered": sorted(answered)[:200]}


def parse(state, head_start: int = 0) -> Restored:
    """Check `state` and build its model, without touching a lab (TypeError, ValueError or
    KeyError on anything unexpected)."""
    state = saved.mapping(state, KEYS)
    params = saved.lab_params("autoencoder", state["params"], drop=("steps",))
    step = saved.whole(state["step"], "step", 0, params["max_steps"])
    cursor = state["cursor"]
    if not isinstance(cursor, list) or len(cursor) != 2:
        raise TypeError("the saved cursor is two numbers")
    cursor = tuple(saved.number(c, "cursor", -BIG, BIG) for c in cursor)
    pair_n, item, draw = (saved.whole(state[k], k, 0, BIG) for k in ("pair_n", "item", "draw"))
    stage = saved.whole(state["stage"], "stage", 0, 4)
    answered = saved.words(state["answered"], "answered")
    model = AutoencoderModel(params)  # ValueError when the settings cannot be built
    replay, note = step, ""
    if model.view != "pca":
        replay = min(step, max(REPLAY_STEPS, head_start))
        if replay < step:
            note = (f"restored the first {replay} of your {step} training steps (longer runs "
                    "are not replayed): space trains on")
    return Restored(model, replay, step, cursor, pair_n, item, draw, stage, answered, note)
