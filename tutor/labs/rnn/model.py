"""The RNN lab's state without Textual: the current view's model behind one protocol.

step / back / reset / advance(n) / status() / pytorch_code() / apply(name, value) delegate to
the view's model (unroll, memory, text or padding); `apply` rebuilds it and keeps the last
good one when a value is refused.
"""

from __future__ import annotations

from tutor.labs.params import ParamError
from tutor.labs.rnn import code
from tutor.labs.rnn.params import PARAMS, VIEW_PRESETS, resolve
from tutor.labs.rnn.padding import PaddingModel
from tutor.labs.rnn.training import MemoryModel, TextModel
from tutor.labs.rnn.unroll import UnrollModel

BUILDERS = {"unroll": UnrollModel, "memory": MemoryModel, "text": TextModel,
            "padding": PaddingModel}
#: Views whose steps are training steps (a worker plays them, not the frame timer).
TRAINING_VIEWS = ("memory", "text")


def build(params: dict):
    """The model of params["view"] (ValueError with a message when it cannot be built)."""
    return BUILDERS[params["view"]](params)


class RnnModel:
    """The lab's parameters and the model of its current view."""

    def __init__(self, params: dict) -> None:
        full = {key: spec.default for key, spec in PARAMS.items()}
        full.update(params)
        self.params = resolve(full)
        self.view = build(self.params)

    # --- the protocol ----------------------------------------------------------------------
    def step(self) -> bool:
        return self.view.step()

    def back(self) -> bool:
        return self.view.back()

    def reset(self) -> None:
        self.view.reset()

    def advance(self, n: int) -> int:
        return self.view.advance(n)

    def status(self) -> str:
        return self.view.status()

    @property
    def training(self) -> bool:
        """Whether the view's steps are training steps (played by a worker)."""
        return self.params["view"] in TRAINING_VIEWS

    def pytorch_code(self) -> str:
        return code.pytorch_code(self.params)

    def apply(self, name: str, value) -> str | None:
        """Change one parameter and rebuild the view's model from its start; on a bad value
        return the reason and keep everything as it was."""
        if name not in PARAMS or name == "preset":
            return f"the lab has no setting {name!r}"
        try:
            value = PARAMS[name].check(name, value)
            new = {**self.params, name: value}
            if name == "temperature" and self.params["view"] == "text":
                self.params = new  # sampling only: the training so far is kept
                self.view.params["temperature"] = value
                return None
            if name == "view":
                new = resolve(new, VIEW_PRESETS[value])
            view = build(new)
        except (ParamError, ValueError) as exc:
            return f"{exc}; kept {name} = {self.params.get(name)!r}"
        self.params, self.view = new, view
        return None
