"""The attention lab's model (plain Python, no Textual): one of five views, each with its own
history, behind the lab model protocol (step / back / reset / advance / status / pytorch_code /
apply)."""

from __future__ import annotations

from tutor.labs.attention.code import transformer_code
from tutor.labs.attention.explore import PositionsModel, ScalingModel
from tutor.labs.attention.params import PARAMS
from tutor.labs.attention.steps import StepsModel
from tutor.labs.attention.training import CharModel, DigitTaskModel
from tutor.labs.params import ParamError

VIEW_MODELS = {"steps": StepsModel, "scaling": ScalingModel, "positions": PositionsModel,
               "train": DigitTaskModel, "lm": CharModel}


class AttentionModel:
    """The current view's model; `apply` rebuilds it with a changed parameter.

    Raises ValueError (a message for the student) when the parameters cannot be built.
    """

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.view = VIEW_MODELS[self.params["view"]](self.params)

    @property
    def kind(self) -> str:
        return self.params["view"]

    @property
    def trains(self) -> bool:
        """Whether a step trains a network (it then runs in a worker thread)."""
        return self.kind in ("train", "lm")

    @property
    def index(self) -> int:
        """The step shown in the current view (0 at its start)."""
        return self.view.history.index

    def step(self) -> bool:
        if self.trains:
            return self.view.step()
        return self.view.history.step()

    def back(self) -> bool:
        if self.trains:
            return self.view.back()
        return self.view.history.back()

    def reset(self) -> None:
        if self.trains:
            self.view.reset()
        else:
            self.view.history.reset()

    def advance(self, n: int) -> int:
        """Step up to n times; how many steps were taken."""
        taken = 0
        while taken < n and self.step():
            taken += 1
        return taken

    def status(self) -> str:
        return self.view.status()

    def question(self):
        """(key, prompt, answer, tolerance, explanation) to ask before the next step, or None."""
        return self.view.question()

    def pytorch_code(self) -> str:
        if self.trains:
            return transformer_code(self.params, self.kind)
        return self.view.pytorch_code()

    def apply(self, name: str, value) -> str | None:
        """Change one parameter and rebuild the view (from its first state). Returns None when
        done, else a message saying why the value was refused (the model is unchanged)."""
        spec = PARAMS.get(name)
        if spec is None:
            return f"no setting {name!r}"
        try:
            value = spec.check(name, value)
            new = {**self.params, name: value}
            view = VIEW_MODELS[new["view"]](new)
        except (ParamError, ValueError) as exc:
            return f"{exc}; kept {name} = {self.params[name]}"
        self.params, self.view = new, view
        return None
