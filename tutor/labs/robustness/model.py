"""The robustness lab's state without Textual: the view's model, its step history, settings.

Every view follows the lab protocol (step, back, reset, advance, status, pytorch_code);
`RobustnessModel.apply(name, value)` changes one setting, retraining only when the setting
changes what is trained (trained networks are cached by the settings they depend on).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from tutor.labs.params import ParamError
from tutor.labs.robustness import nets
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


#: Trained networks shared by every lab in the process (lessons 7.2 and 7.3 train the same
#: plane network, 7.1 and 7.4 the same digit network): most recently used last.
_TRAINED: OrderedDict[tuple, object] = OrderedDict()
_TRAINED_MAX = 8
#: One training at a time (two cores are better used by one than shared by two); a thread
#: waiting for it still notices that its worker was cancelled.
_TRAINING = threading.Lock()


def trained(p: dict):
    """The trained networks of settings `p`, from the shared cache or trained now."""
    key = training_key(p)
    while not _TRAINING.acquire(timeout=0.1):
        nets.check_stop()
    try:
        if key in _TRAINED:
            _TRAINED.move_to_end(key)
            return _TRAINED[key]
        result = train_for(p)
        _TRAINED[key] = result
        while len(_TRAINED) > _TRAINED_MAX:
            _TRAINED.popitem(last=False)
        return result
    finally:
        _TRAINING.release()


_VIEWS = {"plane": PlaneView, "digits": DigitsView, "lipschitz": LipschitzView,
          "regularization": RegularizationView}


def build_view(p: dict, trained):
    """The view's stepper for settings `p` on already trained networks."""
    return _VIEWS[p["view"]](p, trained)


class RobustnessModel:
    """The lab's model: settings, the current view (a stepper), and a cache of trained nets."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self._nets = trained(self.params)  # the networks the current view shows
        self.view = build_view(self.params, self._nets)

    def _trained(self, p: dict):
        same = training_key(p) == training_key(self.params)
        return self._nets if same else trained(p)

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
        key = training_key(new)
        return key != training_key(self.params) and key not in _TRAINED

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
        the value is refused. Safe to call from a worker thread (the model is not changed;
        newly trained networks go to the shared cache)."""
        new = self._changed(name, value)
        nets_ = self._trained(new)
        return new, build_view(new, nets_), nets_

    def install(self, prepared) -> None:
        self.params, self.view, self._nets = prepared

    def apply(self, name: str, value) -> str | None:
        """Change one setting: None when done, else a message (the last good state is kept)."""
        try:
            prepared = self.prepare(name, value)
        except ValueError as exc:
            return f"✗ {exc}; kept {name} = {self.params.get(name)!r}"
        self.install(prepared)
        return None
