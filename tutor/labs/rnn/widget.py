"""The RNN lab widget: the unrolled network and BPTT, memory and text training, padding."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from tutor.labs.base import Lab
from tutor.labs.kit import ModelLab
from tutor.labs.rnn import params as P
from tutor.labs.rnn.draw import unroll_picture, unroll_sections
from tutor.labs.rnn.model import RnnModel
from tutor.labs.rnn.unroll import fmt
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

SIDE_WIDTH = 30

#: The settings column: (parameter, label, kind, step, views that use it).
SETTINGS = (
    ("view", "view v", "choice", None, P.VIEWS),
    ("cell", "cell c", "choice", None, ("unroll",)),
    ("activation", "φ a", "choice", None, ("unroll",)),
    ("rho", "ρ , .", "float", 0.1, ("unroll",)),
    ("w_init", "W_hh", "choice", None, ("unroll",)),
    ("gate_bias", "gate b.", "float", 0.5, ("unroll",)),
    ("T", "T", "int", 1, ("unroll",)),
    ("hidden", "H", "int", 1, ("unroll",)),
    ("input_scale", "x scale", "float", 0.1, ("unroll",)),
    ("clip", "clip k", "choice", None, P.VIEWS),
    ("clip_norm", "clip at", "float", 0.5, P.VIEWS),
    ("seed", "seed", "int", 1, P.VIEWS),
)

KEYS_HELP = {
    "unroll": "c cell · a φ · , . ρ∓0.1\nk clipping · g gates/states\ni predict · esc leave a field",
}


class RnnLab(ModelLab):
    """Recurrent networks: unroll a cell over T steps, then watch BPTT carry ∂ℒ/∂hₜ back.

    Every step of the unrolled view computes one hidden state (forward) or one ∂ℒ/∂hₜ
    (backward); `b` steps back, `r` returns to the start. Changing a setting rebuilds the
    network from its seed.
    """

    DEFAULT_CSS = """
    RnnLab {
        layout: vertical;
        & #rnn-main { height: 1fr; }
        & #rnn-left { width: 1fr; min-width: 12; }
        & #rnn-title { height: 1; color: $text; text-style: bold; }
        & #rnn-picture-box { height: 1fr; }
        & #rnn-figures { height: 3; }
        & #rnn-side { width: %d; padding: 0 0 0 1; background: $panel; scrollbar-size-vertical: 1; }
        & #rnn-message { height: auto; color: $text-warning; }
        & #rnn-keys { height: auto; color: $text-muted; margin: 1 0 0 0; }
        & ParamInput .param-input--label { min-width: 9; }
    }
    """ % SIDE_WIDTH

    BINDINGS = [
        Binding("v", "next('view')", "View"),
        Binding("c", "next('cell')", "Cell"),
        Binding("a", "next('activation')", "Activation φ", show=False),
        Binding("k", "toggle_clip", "Clipping", show=False),
        Binding("g", "toggle_gates", "Gates/states"),
        Binding("comma", "rho(-0.1)", "ρ − 0.1", show=False),
        Binding("full_stop", "rho(0.1)", "ρ + 0.1", show=False),
        Binding("i", "focus_predict", "Predict", show=False),
        Binding("escape", "focus_lab", "Leave a field", show=False),
    ]

    lab_name = "rnn"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = RnnModel(self.params)
        self.show_gates = False
        self.note = ""
        self._answered: set[str] = set()

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        p = self.model.params
        with Horizontal(id="rnn-main"):
            with Vertical(id="rnn-left"):
                yield Static("", id="rnn-title", markup=False)
                with Vertical(id="rnn-picture-box"):
                    yield PixelView(id="rnn-picture")
                yield Static("", id="rnn-figures", markup=False)
            with VerticalScroll(id="rnn-side", can_focus=False):
                yield PredictInput(id="rnn-predict")
                yield Static("", id="rnn-message", markup=False)
                for key, label, kind, step, _views in SETTINGS:
                    spec = P.PARAMS[key]
                    choices = ("off", "on") if spec.kind == "bool" else spec.choices
                    value = ("on" if p[key] else "off") if spec.kind == "bool" else p[key]
                    yield ParamInput(key, label, value, kind, min=spec.min, max=spec.max,
                                     choices=choices, step=step, id=f"rnn-pi-{key}")
                yield Static("", id="rnn-keys", markup=False)
        yield StepControls(id="rnn-controls")

    def on_resize(self) -> None:
        self.call_after_refresh(self.draw_picture)

    # --- drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        """Bring every part of the lab up to the model's current state."""
        if not self.is_mounted:
            return
        m = self.model
        v = m.view
        p = m.params
        extra = " (φ fixed)" if p["cell"] != "rnn" else f" φ={p['activation']}"
        set_text(self.query_one("#rnn-title", Static),
                 f"{p['cell'].upper()}{extra} · ρ={p['rho']:g} · T={v.T} · H={v.H} · ℒ = uᵀh_T")
        set_text(self.query_one("#rnn-figures", Static), self._figures())
        set_text(self.query_one("#rnn-message", Static), self.note)
        set_text(self.query_one("#rnn-keys", Static), KEYS_HELP[p["view"]])
        self.query_one(StepControls).status = m.status()
        self.draw_picture()
        self._predict()
        self.post_message(Lab.StateChanged(self.lab_name, v.k))

    def _figures(self) -> str:
        v = self.model.view
        shown = v.backward_done
        first = f"‖∂ℒ/∂h₁‖ = {fmt(v.dh_norms[0])}" if shown == v.T else "‖∂ℒ/∂h₁‖ = ?"
        ratio = ""
        if shown == v.T and v.T > 1 and v.dh_norms[0] > 0 and math.isfinite(v.dh_norms[0]):
            per = v.dh_norms[0] ** (1 / (v.T - 1))
            ratio = f" · ×{per:.3g} per step"
        closed = v.closed_form()
        line2 = (f"linear, W_hh = ρQ: ‖∂ℒ/∂h₁‖ = ρ^(T−1)" if closed is not None
                 else "‖∂ℒ/∂hₜ‖ = ‖(∂hₜ₊₁/∂hₜ)ᵀ ⋯ (∂h_T/∂h_T₋₁)ᵀ u‖")
        grad = v.gradient_line() if shown == v.T else "‖∇θℒ‖ after BPTT"
        return f"‖∂ℒ/∂h_T‖ = 1 · {first}{ratio}\n{line2}\n{grad}"

    def draw_picture(self) -> None:
        if not self.is_mounted:
            return
        box = self.query_one("#rnn-picture-box").size
        if box.width < 8 or box.height < 4:
            return
        v = self.model.view
        sections = unroll_sections(v.run, v.activation, self.show_gates)
        pixels, overlay = unroll_picture(sections, v.dh_norms, v.forward_done, v.backward_done,
                                         box.width, box.height)
        view = self.query_one("#rnn-picture", PixelView)
        view.set_pixels(pixels)
        view.set_overlay(overlay)

    # --- predict then reveal ---------------------------------------------------------------
    def _question(self) -> tuple[str, str, float, float, str]:
        v = self.model.view
        p = self.model.params
        key = f"dh1:{p['cell']}:{p['activation']}:{p['w_init']}:{p['rho']:g}:{v.T}"
        closed = v.closed_form()
        if closed is not None:
            return (key, f"Predict ‖∂ℒ/∂h₁‖ (ρ={p['rho']:g}, T={v.T}, linear)", closed,
                    0.02 * closed, f"ρ^(T−1) = {p['rho']:g}^{v.T - 1}: one factor Wᵀ per step, "
                    "each shrinking or stretching by exactly ρ.")
        actual = v.dh_norms[0]
        answer = math.log10(actual) if actual > 0 and math.isfinite(actual) else -300.0
        return (key, "Predict log₁₀ ‖∂ℒ/∂h₁‖ (± 0.5)", answer, 0.5,
                f"‖∂ℒ/∂h₁‖ = {fmt(actual)}: each step multiplies by a Jacobian "
                "diag(φ')·W_hhᵀ (or the gates' own).")

    def _predict(self) -> None:
        predict = self.query_one("#rnn-predict", PredictInput)
        v = self.model.view
        key, prompt, answer, tol, explanation = self._question()
        if v.backward_done == v.T:
            if predict.key == key and predict.state == "asking":
                predict.reveal()
            return
        if v.k == 0 and key not in self._answered and predict.key != key:
            predict.ask(key, prompt, answer, tol, explanation)
        elif v.k == 0 and key in self._answered and predict.key != key:
            predict.clear()

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        event.stop()
        self._answered.add(event.key)
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))

    # --- keys ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "focus_lab":  # esc leaves a field; on the lab itself it is the screen's
            return self.app.focused is not self
        return super().check_action(action, parameters)

    def action_focus_lab(self) -> None:
        self.focus()

    def action_focus_predict(self) -> None:
        predict = self.query_one("#rnn-predict", PredictInput)
        if predict.state == "asking":
            predict.query_one("Input").focus()

    def action_next(self, name: str) -> None:
        choices = P.PARAMS[name].choices
        current = self.model.params[name]
        self.change(name, choices[(choices.index(current) + 1) % len(choices)])

    def action_toggle_clip(self) -> None:
        self.change("clip", not self.model.params["clip"])

    def action_toggle_gates(self) -> None:
        self.show_gates = not self.show_gates
        self.request_redraw()

    def action_rho(self, delta: float) -> None:
        rho = round(self.model.params["rho"] + delta, 6)
        self.change("rho", min(3.0, max(0.0, rho)))

    # --- editing ---------------------------------------------------------------------------
    def change(self, name: str, value) -> bool:
        """Apply one setting; a refused value is reported and the field shows the kept one."""
        self.playing = False
        error = self.apply_param(name, value)
        self.note = f"✗ {error}" if error else ""
        self._sync_inputs()
        return error is None

    def _sync_inputs(self) -> None:
        p = self.model.params
        for field in self.query(ParamInput):
            key = field.param_name
            want = ("on" if p[key] else "off") if P.PARAMS[key].kind == "bool" else p[key]
            if field.value != want:
                field.value = want

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        value = event.value
        if P.PARAMS[event.name].kind == "bool":
            value = value == "on"
        self.change(event.name, value)


LAB_CLASS = RnnLab
