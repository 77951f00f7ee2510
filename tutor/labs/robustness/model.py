"""The robustness lab's state without Textual: the view's model, its step history, settings.

Every view follows the lab protocol (step, back, reset, advance, status, pytorch_code);
`RobustnessModel.apply(name, value)` changes one setting, retraining only when the setting
changes what is trained (trained networks are cached by the settings they depend on).
"""

from __future__ import annotations

from tutor.labs.params import ParamError
from tutor.labs.robustness.common import make_plane
from tutor.labs.robustness.digits import DigitsView, make_digit_nets
from tutor.labs.robustness.lipschitz import LipschitzView
from tutor.labs.robustness.params import PARAMS, VIEW_DEFAULTS
from tutor.labs.robustness.plane import PlaneView
from tutor.labs.robustness.regular import RegularizationView, make_runs

_DATA = ("n_points", "noise", "seed", "hidden", "train_steps", "lr")
_ADV = ("eps", "alpha", "pgd_steps", "norm")


def training_key(p: dict) -> tuple:
    """The settings the view's trained networks depend on (equal keys: reuse them)."""
    view = p["view"]
    if view == "plane":
        adv = tuple(p[k] for k in _ADV) if p["adv_train"] else ()
        return (view, *(p[k] for k in _DATA), p["spectral"], p["adv_train"], adv)
    if view == "digits":
        adv = tuple(p[k] for k in _ADV) if p["adv_train"] else ()
        return (view, p["seed"], p["hidden"], p["train_steps"], p["lr"], p["adv_train"], adv)
    if view == "lipschitz":
        return (view, *(p[k] for k in _DATA))
    return (view, *(p[k] for k in _DATA), p["weight_decay"], p["dropout"])


def train_for(p: dict):
    """The trained networks (or runs) of the view of `p` (slow: seconds at most)."""
    view = p["view"]
    if view == "plane":
        return make_plane(p)
    if view == "digits":
        return make_digit_nets(p)
    if view == "lipschitz":
        return {flag: make_plane(p, spectral=flag, adversarial=False) for flag in (False, True)}
    return make_runs(p)


_VIEWS = {"plane": PlaneView, "digits": DigitsView, "lipschitz": LipschitzView,
          "regularization": RegularizationView}


def build_view(p: dict, trained):
    """The view's stepper for settings `p` on already trained networks."""
    return _VIEWS[p["view"]](p, trained)


class RobustnessModel:
    """The lab's model: settings, the current view (a stepper), and a cache of trained nets."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self._cache: dict[tuple, object] = {}
        self.view = build_view(self.params, self._trained(self.params))

    def _trained(self, p: dict):
        key = training_key(p)
        if key not in self._cache:
            if len(self._cache) >= 6:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = train_for(p)
        return self._cache[key]

    # --- protocol ---------------------------------------------------------------------
    def step(self) -> bool:
        return self.view.step()

    def back(self) -> bool:
        return self.view.back()

    def reset(self) -> None:
        self.view.reset()

    def advance(self, n: int) -> int:
        return self.view.advance(n)

    @property
    def k(self) -> int:
        return self.view.k

    def status(self) -> str:
        return self.view.status()

    def pytorch_code(self) -> str:
        return self.view.pytorch_code()

    # --- settings ---------------------------------------------------------------------
    def needs_training(self, name: str, value) -> bool:
        """Whether `apply(name, value)` would train a network (the UI runs it in a worker)."""
        try:
            new = self._changed(name, value)
        except ValueError:
            return False
        return training_key(new) not in self._cache

    def _changed(self, name: str, value) -> dict:
        if name not in PARAMS:
            raise ParamError(f"the robustness lab has no setting {name!r}")
        value = PARAMS[name].check(name, value)
        new = {**self.params, name: value}
        if name == "view" and value != self.params["view"]:
            new.update(VIEW_DEFAULTS[value])
        return new

    def prepare(self, name: str, value):
        """(new settings, new view) for one change, without installing it; ValueError when
        the value is refused. Safe to call from a worker thread (the model is not changed,
        except for its cache of trained networks)."""
        new = self._changed(name, value)
        return new, build_view(new, self._trained(new))

    def install(self, prepared) -> None:
        self.params, self.view = prepared

    def apply(self, name: str, value) -> str | None:
        """Change one setting: None when done, else a message (the last good state is kept)."""
        try:
            prepared = self.prepare(name, value)
        except ValueError as exc:
            return f"✗ {exc}; kept {name} = {self.params.get(name)!r}"
        self.install(prepared)
        return None
