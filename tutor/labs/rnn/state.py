"""The RNN lab's saved state: its settings, the step, the gates picture and the questions
answered, as small plain JSON for the progress file (`Lab.save_state` / `restore_state`).

What comes back: every setting (view, cell, φ, ρ, W_hh, T, H, clipping, lr, temperature, seed…),
the step of the unrolled and padding views (recomputed at once, they are cheap), and in the
memory and text views the training steps done, retrained from the seed in the lab's worker
(the same batches, so exactly the same weights and curves). Not kept: the weights themselves
(tens of thousands of numbers with Adam's moments) and, past REPLAY_STEPS (about 2 s of
training here), the later training steps: the lab comes back at step REPLAY_STEPS and says so
(space trains on from there, to exactly the numbers the student saw); the longer count stays
saved until the student moves, so leaving again does not shorten it. Steps the student had
stepped back over are not kept either (only the position shown).
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.labs import saved
from tutor.labs.rnn.model import TRAINING_VIEWS, RnnModel
from tutor.labs.rnn.training import MEMORY_BUDGET, TEXT_BUDGET

#: Training steps a restore retrains at most (about 2 s in a worker on a loaded 2-core box:
#: ~13 ms a memory-race step for three cells, ~9 ms a text step); a lesson's own head start
#: (`steps`) is always replayed.
REPLAY_STEPS = {"memory": 150, "text": 250}
BUDGETS = {"memory": MEMORY_BUDGET, "text": TEXT_BUDGET}
KEYS = ("params", "k", "gates", "answered", "passed")


@dataclass
class Restored:
    """A checked state, ready to install: the model (at its step for the views that step at
    once), the training steps to replay in the worker, and what the widget shows."""

    model: RnnModel
    replay: int
    target: int
    gates: bool
    answered: set[str]
    passed: set[str]
    note: str


def save(model: RnnModel, gates: bool, answered: set[str], passed: set[str],
         target: int | None = None) -> dict:
    """The state to keep; `target` is the step a running restore is still training towards."""
    params = {k: v for k, v in model.params.items() if k not in ("preset", "steps")}
    k = model.view.k if target is None else max(target, model.view.k)
    return {"params": params, "k": k, "gates": bool(gates),
            "answered": sorted(answered)[:200], "passed": sorted(passed)[:200]}


def parse(state, head_start: int = 0) -> Restored:
    """Check `state` and build what it describes (nothing of a lab changes here): TypeError,
    ValueError or KeyError on anything unexpected."""
    state = saved.mapping(state, KEYS)
    params = saved.lab_params("rnn", state["params"], drop=("preset", "steps"))
    view = params["view"]
    k = saved.whole(state["k"], "k", 0, 2 * params["T"] if view == "unroll"
                    else BUDGETS.get(view, 100))
    gates = saved.flag(state["gates"], "gates")
    answered = saved.words(state["answered"], "answered")
    passed = saved.words(state["passed"], "passed")
    model = RnnModel(params)  # ValueError when the settings cannot be built
    note, replay = "", 0
    if view in TRAINING_VIEWS:
        replay = min(k, max(REPLAY_STEPS[view], head_start))
        if replay < k:
            note = (f"restored the first {replay} of your {k} training steps (longer runs are "
                    "not replayed): space trains on")
    elif model.advance(k) != k:
        raise ValueError(f"saved step {k} is past the end of the {view} view")
    return Restored(model, replay, k, gates, answered, passed, note)
