"""The autoencoder lab's model (no Textual): the current view's model behind the lab protocol.

`AutoencoderModel(params)` holds the validated parameters and one view model (`PcaModel` for
the pca view, `DigitsModel` for ae, denoise and vae) and follows the kit's `LabModel`: step /
back / reset / advance, status, pytorch_code and apply(name, value) (a bad value keeps the last
good state), with `index` (the step shown) and `applied_note` (what to say after a change).
"""

from __future__ import annotations

from tutor.labs.autoencoder.code import pytorch_code
from tutor.labs.autoencoder.digits_model import DigitsModel
from tutor.labs.autoencoder.params import PARAMS, VIEW_PAGES
from tutor.labs.autoencoder.pca_model import PcaModel
from tutor.labs.params import ParamError

#: Parameters that change only what is drawn: applying them keeps the training history.
DISPLAY_ONLY = ("azimuth", "page", "steps")


def build(params: dict) -> PcaModel | DigitsModel:
    """The view model of `params` (ValueError with a message for the student if impossible)."""
    return PcaModel(params) if params["view"] == "pca" else DigitsModel(params)


class AutoencoderModel:
    """The lab's state: parameters, the current view's model and its history."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        view, page = self.params["view"], self.params.get("page")
        if view != "pca" and not page:
            self.params["page"] = VIEW_PAGES[view][0]
        elif page and page not in VIEW_PAGES.get(view, ()):
            raise ValueError(f"the {view} view has no page {page!r}; it has "
                             f"{', '.join(VIEW_PAGES.get(view, ())) or 'none'}")
        self.current = build(self.params)

    @property
    def view(self) -> str:
        return self.params["view"]

    @property
    def message(self) -> str:
        return self.current.message

    @property
    def index(self) -> int:
        """The step shown (0: the initial weights)."""
        return self.current.history.index

    # --- protocol --------------------------------------------------------------------------
    def step(self) -> bool:
        return self.current.step()

    def back(self) -> bool:
        return self.current.back()

    def reset(self) -> None:
        self.current.reset()

    def advance(self, n: int) -> int:
        return self.current.advance(n)

    def status(self, hide_loss: bool = False) -> str:
        """One line; in a digit view `hide_loss` keeps the loss back while it is predicted."""
        return self.current.status() if self.view == "pca" else self.current.status(hide_loss)

    def pytorch_code(self) -> str:
        return pytorch_code(self.params)

    def apply(self, name: str, value) -> str | None:
        """Change parameter `name`: None when applied, else the reason ("✗ …; kept name =
        old") and the current model and its history are kept. A change outside DISPLAY_ONLY
        builds the view model again (`applied_note` says that training restarts)."""
        spec = PARAMS.get(name)
        if spec is None:
            return f"✗ no parameter {name!r}"
        try:
            value = spec.check(name, value)
            new = {**self.params, name: value}
            if name == "view":
                new["page"] = VIEW_PAGES[value][0] if value != "pca" else ""
            if name == "page" and value and value not in VIEW_PAGES.get(new["view"], ()):
                raise ValueError(f"the {new['view']} view has no page {value!r}; it has "
                                 f"{', '.join(VIEW_PAGES.get(new['view'], ())) or 'none'}")
            model = self.current if name in DISPLAY_ONLY else build(new)
        except (ParamError, ValueError) as exc:
            return f"✗ {exc}; kept {name} = {self.params.get(name)!r}"
        self.params, self.current = new, model
        if name in DISPLAY_ONLY:
            self.current.params = {**self.current.params, name: value}
        return None

    def applied_note(self, name: str) -> str:
        """What to say once `name` was applied: that training restarts from the seed, unless
        only the drawing changed."""
        if name in DISPLAY_ONLY:
            return ""
        return f"{name} = {self.params[name]}: training restarts from the seed's initial weights"
