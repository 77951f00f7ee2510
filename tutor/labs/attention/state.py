"""The attention lab's saved state: the view, every setting (sentence, masks, positions, query
row, d, task, sizes, lr, temperature…), the step, and whether the student trained past the
first question, as small plain JSON for the progress file.

What comes back: the steps, scaling and positions views at their step (recomputed at once);
the train and lm views' training chunks, retrained from the seed in the lab's worker (the same
batches: exactly the same weights, maps and curve). Not kept: the weights themselves (tens of
thousands of numbers) and, past REPLAY_CHUNKS (about 2 s of training here), the later chunks:
the lab comes back at that chunk and says so (space trains on from there); the longer count
stays saved until the student moves, so leaving again does not shorten it. Chunks the student
had stepped back over are not kept (only the position shown).
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.labs import saved
from tutor.labs.attention.model import AttentionModel

#: Training chunks a restore retrains at most (~43 ms a chunk of the digit task, ~100 ms of the
#: character model, on a loaded 2-core box): about 2 s.
REPLAY_CHUNKS = {"train": 50, "lm": 20}
#: The longest history a view keeps (the training views' `max_len`).
MAX_INDEX = 5000
KEYS = ("params", "index", "trained_past")


@dataclass
class Restored:
    """A checked state: the model (at its step unless it trains), the chunks to retrain in
    the worker, the step they lead to, and a note for the student."""

    model: AttentionModel
    replay: int
    target: int
    trained_past: bool
    note: str


def save(model: AttentionModel, trained_past: bool, target: int | None = None) -> dict:
    """The state to keep; `target` is the step a running restore still trains towards."""
    index = model.index if target is None else max(target, model.index)
    return {"params": dict(model.params), "index": index, "trained_past": bool(trained_past)}


def parse(state) -> Restored:
    """Check `state` and build what it describes, without touching a lab (TypeError,
    ValueError or KeyError on anything unexpected)."""
    state = saved.mapping(state, KEYS)
    params = saved.lab_params("attention", state["params"])
    index = saved.whole(state["index"], "index", 0, MAX_INDEX)
    trained_past = saved.flag(state["trained_past"], "trained_past")
    model = AttentionModel(params)  # ValueError when the settings cannot be built
    note, replay = "", 0
    if model.trains:
        replay = min(index, REPLAY_CHUNKS[model.kind])
        if replay < index:
            chunk = params["chunk"]  # the status counts Adam steps, `chunk` to a lab step
            note = (f"restored the first {replay * chunk} of your {index * chunk} training "
                    "steps (longer runs are not replayed): space trains on")
    elif model.advance(index) != index:
        raise ValueError(f"saved step {index} is past the end of the {model.kind} view")
    return Restored(model, replay, index, trained_past, note)
