"""The losses lab widget: MSE vs cross-entropy on one prediction, naive vs log-sum-exp."""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.labs.losses.model import LossesModel, curves, vec
from tutor.labs.losses.params import MODES
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import BLUE, GREEN, ORANGE, RED
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text_lines import TextLines


class LossesLab(FieldKeys, ModelLab):
    """One sample's scores x (scaled by s) and its class y: the losses, and how they are computed.

    Keys: m switches between the comparison and the stability view; n / b multiply / divide
    the scale s of the scores (the step history), r returns to the first scale.
    """

    DEFAULT_CSS = """
    LossesLab {
        layout: vertical;
        & #loss-top { height: auto; max-height: 14; }
        & #loss-table { width: 1fr; height: 11; padding: 0 1; }
        & #loss-side { width: 34; height: auto; }
        & #loss-logits-row { height: 1; }
        & #loss-logits-row > Label { min-width: 10; padding: 0 1 0 0; }
        & #loss-logits { width: 1fr; }
        & #loss-message { height: auto; color: $text-warning; }
        & #loss-chart { height: 1fr; min-height: 6; }
        & #loss-predict { height: 4; overflow: hidden hidden; }
        & ParamInput .param-input--label { min-width: 10; }
    }
    """

    BINDINGS = [
        Binding("m", "toggle_mode", "Compare/stability"),
        Binding("escape", "focus_lab", "Back to the lab", show=False),
    ]

    lab_name = "losses"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = LossesModel(params)

    def compose(self) -> ComposeResult:
        m = self.model
        with Horizontal(id="loss-top"):
            yield TextLines("", id="loss-table")
            with Vertical(id="loss-side"):
                yield ParamInput("mode", "view", m.mode, kind="choice", choices=MODES)
                with Horizontal(id="loss-logits-row"):
                    yield Label("scores x")
                    yield Input(", ".join(f"{v:g}" for v in m.base), id="loss-logits",
                                compact=True)
                yield ParamInput("label", "class y", m.label, kind="int", min=0, max=9, step=1)
                yield ParamInput("scale", "scale s", m.scale, min=-1e6, max=1e6)
                yield Static("", id="loss-message", markup=False)
        yield PredictInput(id="loss-predict")
        yield LineChart(id="loss-chart", x_label="scale s of the scores")
        yield StepControls(id="loss-controls")

    def on_mount(self) -> None:
        super().on_mount()  # the first redraw is requested there
        self._sync_prediction()  # before the first layout: the question's rows are reserved

    # --- predict first --------------------------------------------------------------------
    def on_key(self, event) -> None:
        """+ and - stay the speed keys while a question is asked: its answer is a whole number
        (the Lab base would start the answer with a sign)."""
        if event.character in ("+", "-") and self.has_focus:
            event.stop()
            event.prevent_default()
            self.action_faster() if event.character == "+" else self.action_slower()

    def _sync_prediction(self) -> None:
        """Before the first step the lab asks what the next step will show; once the student
        has stepped, an unanswered question shows its answer, and one about another view or
        other scores goes (back at the start the current one is asked)."""
        predict = self.query_one("#loss-predict", PredictInput)
        m = self.model
        key, prompt, answer, explanation = m.question()
        if m.index > 0:
            asked = getattr(self, "_asked", None)
            if (predict.state != "idle" and asked is not None
                    and (asked[0], asked[2], asked[3]) != (key, m.label, tuple(m.base))):
                # asked in the other view (m) or about other scores or class: its answer
                # ('the naive loss is +inf', 'CE 300 → 375') no longer describes the lab
                predict.clear()
                self._asked = None
            elif predict.state == "asking":
                predict.reveal()
            return
        ident = (key, prompt, m.label, tuple(m.base))
        if predict.state == "asking" and getattr(self, "_asked", None) == ident:
            return
        self._asked = ident
        predict.ask(key, prompt, answer, 0, explanation)

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        event.stop()
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))

    # --- drawing -----------------------------------------------------------------------
    def _table(self) -> str:
        m = self.model
        v = m.view()
        c = m.base.size
        # Short lines: beside the lesson text the table gets about 45 columns.
        head = [f"scores x = s · {vec(m.base)},  s = {m.scale:.4g}",
                f"x = {vec(v.logits)}",
                f"shape ({c},); x.unsqueeze(0) has shape (1, {c})",
                f"true class y = {m.label}"]
        if m.mode == "compare":
            return "\n".join(head + [
                f"softmax p = {vec(v.probs)}",
                f"MSE ‖p − e_y‖² = {v.mse:.4g}   (at most 2)",
                f"CE  −log p_y   = {v.ce:.4g}",
                "",
                "Both are 0 for a perfect prediction.",
                "Confidently wrong: MSE saturates, CE",
                "(and its gradient) keeps growing.",
            ])
        naive = f"{v.ce_naive + 0.0:.4g}"
        x_m = v.logits - v.m
        return "\n".join(head + [
            f"naive: exp(x) = {vec(v.exp_naive)}",
            f"  −log(exp(x_y) / Σ exp(xᵢ)) = {naive}",
            ("  ✗ overflow: inf / inf = NaN" if np.isnan(v.ce_naive) else
             "  ✗ overflow: p_y = 0, −log 0 = inf") if v.overflowed
            else "  ✓ finite at this scale",
            f"log-sum-exp: m = max x = {v.m:.4g}",
            f"  x − m = {vec(x_m)}",
            f"  exp(x − m) = {vec(v.exp_shifted)}",
            f"  Σ = {v.exp_shifted.sum():.4g},  m + log Σ − x_y = {v.ce + 0.0:.4g}",
        ])

    def redraw(self) -> None:
        m = self.model
        # Line-API text: only the rows that changed are repainted, with no layout pass.
        self.query_one("#loss-table", TextLines).update(self._table())
        scales = m.chart_scales()
        data = curves(m.base, m.label, scales)
        chart = self.query_one("#loss-chart", LineChart)
        if m.mode == "compare":
            chart.title = "loss vs scale"
            chart.log_y = True
            series = [Series("MSE", data["mse"], scales, BLUE),
                      Series("cross-entropy", data["ce"], scales, ORANGE)]
        else:
            chart.title = "cross-entropy vs scale"
            chart.log_y = False
            series = [Series("log-sum-exp", data["ce"], scales, GREEN),
                      Series("naive", data["naive"], scales, RED)]
        v = m.view()
        chart.markers = [(float(m.scale), float(v.ce), f"s = {m.scale:.3g}")]
        chart.set_series(series)
        for box in self.query(ParamInput):
            if box.param_name == "scale":
                box.value = float(f"{m.scale:.6g}")
            elif box.param_name == "mode":
                box.value = m.mode
        self.query_one(StepControls).status = m.status()
        self._sync_prediction()

    # --- saved state ----------------------------------------------------------------------
    def save_state(self) -> dict:
        m = self.model
        return {"mode": m.mode, "logits": [float(v) for v in m.base], "label": m.label,
                "scale": float(m.scale)}

    def restore_state(self, state: dict) -> None:
        m = self.model
        logits = ", ".join(f"{float(v):g}" for v in state["logits"])
        m.set_logits(logits)  # validates: a damaged state raises before more changes
        if state["mode"] not in MODES:
            raise ValueError(f"unknown mode {state['mode']!r}")
        m.mode = state["mode"]
        m.set_label(int(state["label"]))
        m.set_scale(float(state["scale"]))
        self.query_one("#loss-logits", Input).value = logits
        for box in self.query(ParamInput):
            if box.param_name == "label":
                box.value = m.label
        self.request_redraw()

    # --- settings -----------------------------------------------------------------------
    def _message(self, text: str) -> None:
        self.query_one("#loss-message", Static).update(text)

    def apply_param(self, name: str, value) -> str | None:
        """Change one setting through the model; a refusal is shown under the fields, where
        it stays until the next value is entered (the model keeps its last good state)."""
        refused = self.model.apply(name, value)
        if refused is not None:
            self._message(f"✗ {refused}")
            return refused
        self.request_redraw()
        return None

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        self._message("")
        if self.apply_param(event.name, event.value) is None:
            self.back_to_lab(event.param_input)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "loss-logits":
            return
        event.stop()
        self._message("")
        if self.apply_param("logits", event.value) is None:
            self.back_to_lab(event.input)

    def action_toggle_mode(self) -> None:
        self.apply_param("mode", "stability" if self.model.mode == "compare" else "compare")


LAB_CLASS = LossesLab
