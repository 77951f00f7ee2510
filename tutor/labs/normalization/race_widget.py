"""The normalization lab's 4.5.4 view: four small CNNs race on the digits, loss curves side by side."""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.widgets import Input, Static

from tutor.labs.base import Lab
from tutor.labs.kit import ComputeAhead, FieldKeys, ModelLab
from tutor.labs.normalization.params import PARAMS
from tutor.labs.normalization.race import CHANNELS, CHUNK, RaceModel
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import ORANGE
from tutor.widgets.param_input import ParamInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

#: plain, BN (the same colours in both charts).
COLORS = (ORANGE, "#4fc3f7")
SETTINGS = (("lr_low", "η small", 0.01), ("lr_high", "η large", 0.05), ("cnn_steps", "steps", 10),
            ("threshold", "loss <", 0.1))  # fmt: skip


def _pct(v: float) -> str:
    return "  –  " if not np.isfinite(v) else f"{v:5.1%}"


class RaceLab(ComputeAhead, FieldKeys, ModelLab):
    """4.5.4: a small CNN with and without batch norm, at two learning rates, on the digits.

    First the student picks the run they expect to get its training loss below the threshold
    first (type 1-4 on the lab, or in the field: i, then enter); then space trains all four in a thread
    worker, ten SGD steps per lab step, drawing the losses live; b and n replay.
    """

    DEFAULT_CSS = """
    RaceLab {
        layout: vertical;
        & #race-title { height: auto; color: $text-muted; }
        & #race-predict { height: auto; background: $boost; padding: 0 1; }
        & #race-predict Input { width: 12; }
        & #race-prompt { width: 1fr; height: auto; }
        & #race-feedback { height: auto; padding: 0 1; }
        & #race-feedback.-right { color: $text-success; }
        & #race-feedback.-wrong { color: $text-warning; }
        & #race-charts { height: 1fr; min-height: 6; }
        & #race-charts LineChart { width: 1fr; }
        & #race-stats { height: auto; }
        & #race-settings { height: auto; grid-size: 4; grid-gutter: 0 1; }
        & #race-settings ParamInput .param-input--label { min-width: 7; }
        & #race-message { height: auto; color: $text-warning; }
    }
    """

    BINDINGS = [
        Binding("i", "focus_predict", "Predict"),
        Binding("escape", "focus_lab", "Lab keys", show=False),
    ]

    lab_name = "normalization"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = RaceModel(self.params)
        self.guess: int | None = None
        self.revealed = False
        self.training = False
        self.note = ""

    # --- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="race-title", markup=False)
        with Horizontal(id="race-predict"):
            yield Static("", id="race-prompt", markup=False)
            yield Input(placeholder="1-4", id="race-guess", compact=True, max_length=3)
        yield Static("", id="race-feedback", markup=False)
        with Horizontal(id="race-charts"):
            yield LineChart(x_label="step", log_y=True, id="race-low")
            yield LineChart(x_label="step", log_y=True, id="race-high")
        yield Static("", id="race-stats", markup=False)
        with Grid(id="race-settings"):
            for key, label, step in SETTINGS:
                spec = PARAMS[key]
                yield ParamInput(key, label, self.params[key], spec.kind, min=spec.min, max=spec.max, step=step)
        yield Static("", id="race-message", markup=False)
        yield StepControls(id="race-controls")

    def on_resize(self) -> None:
        self.request_redraw()

    # --- training in a worker ----------------------------------------------------------------
    def _start_training(self) -> None:
        if self.training or self.model.computed >= self.model.total_chunks:
            return
        self.training = True
        self.compute_ahead()

    def computed_ahead(self) -> None:
        """One more chunk trained: shown if the student waits for it, or a restore wants it."""
        if self.model.computed >= self.model.total_chunks:
            self.training = False
        while self.model.index < min(self._restore_to, self.model.computed):
            self.model.step()  # a restored race: back at the step the student left it
        if self._restore_to and self.model.index >= self._restore_to:
            self._restore_to, self.note = 0, ""
        if self.model.index == self.model.computed - 1 and self._wants_more:
            self._wants_more = False
            self.model.step()
        self.request_redraw()

    _wants_more = False
    #: A restored race: the lab step to show again once the worker has trained that far.
    _restore_to = 0
    #: A restored race whose pick was judged before: its verdict is shown, not posted again.
    _quiet_reveal = False

    # --- drawing -------------------------------------------------------------------------
    def redraw(self) -> None:
        m = self.model
        set_text(self.query_one("#race-title", Static),
                 f"4.5.4 · digits 16×16 · conv {CHANNELS}×3×3 → [BN] → ReLU → max pool → linear · "
                 f"SGD, batch 64 · {CHUNK} steps per lab step")  # fmt: skip
        self._draw_predict()
        losses = m.losses()
        x = np.arange(losses.shape[1])
        firsts = m.first_below()
        for chart_id, pair in (("#race-low", (0, 1)), ("#race-high", (2, 3))):
            chart = self.query_one(chart_id, LineChart)
            chart.title = f"η = {m.runs[pair[0]].lr:g}"
            chart.set_series([Series("BN" if m.runs[i].batch_norm else "plain", losses[i], x=x, color=COLORS[k])
                              for k, i in enumerate(pair)])  # fmt: skip
            chart.markers = [(firsts[i], losses[i][firsts[i]], str(m.runs[i].number))
                             for i in pair if firsts[i] is not None]  # fmt: skip
        set_text(self.query_one("#race-stats", Static), self._stats(losses, firsts))
        note = self.note or ("training…" if self.training and m.index >= m.computed else "")
        set_text(self.query_one("#race-message", Static), note)
        self.query_one(StepControls).status = m.status()
        self._maybe_reveal()

    def _stats(self, losses: np.ndarray, firsts: list[int | None]) -> str:
        m = self.model
        t = float(m.params["threshold"])
        acc, no_eval = m.accuracy(), m.no_eval_accuracy()
        lines = [f"{'run':<15}{'loss':>8}{f'<{t:g} at':>9}{'held-out':>10}{'no eval()':>11}"]
        for i, run in enumerate(m.runs):
            last = losses[i, -CHUNK:] if losses.shape[1] else np.array([np.nan])
            loss = "–" if not losses.shape[1] else f"{np.mean(last):.3g}"
            first = "–" if firsts[i] is None else str(firsts[i])
            forgot = _pct(no_eval[i]) if run.batch_norm else "  n/a"
            lines.append(f"{run.label:<15}{loss:>8}{first:>9}{_pct(acc[i]):>10}{forgot:>11}")
        if m.finished:
            lines.append("no eval(): BN left in training mode, test images classified one at a time")
        return "\n".join(lines)

    def _draw_predict(self) -> None:
        m = self.model
        runs = " · ".join(r.label for r in m.runs)
        t = float(m.params["threshold"])
        prompt = f"Which run gets its training loss below {t:g} first? ({runs})"
        if self.guess is not None:
            prompt += f"  Your pick: {self.guess}."
        set_text(self.query_one("#race-prompt", Static), prompt)
        self.query_one("#race-guess", Input).display = self.guess is None

    def _maybe_reveal(self) -> None:
        """Once the curves shown decide the race (or it ends), judge the pick, once."""
        if self.revealed or self.guess is None:
            return
        m = self.model
        winner = m.winner()
        if winner is None and not m.finished:
            return
        self.revealed = True
        feedback = self.query_one("#race-feedback", Static)
        t = float(m.params["threshold"])
        if winner is None:
            text, correct = f"No run got below {t:g} in {m.steps_shown} steps.", False
        else:
            correct = winner == self.guess
            step = m.first_below()[winner - 1]
            text = (f"{'✓ Right' if correct else f'✗ You picked {self.guess}'}: run "
                    f"{m.runs[winner - 1].label} got below {t:g} first, at step {step}. "
                    "Keep going: which runs end best on the held-out digits?")  # fmt: skip
        feedback.set_class(correct, "-right")
        feedback.set_class(not correct, "-wrong")
        set_text(feedback, text)
        if not self._quiet_reveal:
            self.post_message(Lab.Answered(self.lab_name, "bn-race", correct))
        self._quiet_reveal = False

    # --- stepping: a pick first; a step not trained yet waits for the worker --------------
    def _predicted(self) -> bool:
        if self.guess is None:
            self.note = "Predict first: type the number (1-4) of the run you expect to win."
            self.request_redraw()
            self.playing = False
            return False
        return True

    def step_forward(self) -> bool:
        if not self._predicted():
            return False
        m = self.model
        if m.finished:
            return False
        if m.index < m.computed:  # a chunk the worker has trained: shown at once
            self.note = ""
            return super().step_forward()
        self._wants_more = not self.playing  # n: show the chunk when it arrives
        self._start_training()
        self.request_redraw()
        return True

    def step_back(self) -> bool:
        self._restore_to = 0
        return super().step_back()

    def reset_lab(self) -> None:
        self._restore_to = 0
        super().reset_lab()

    def save_state(self) -> dict:
        """The settings, the pick, and the lab step shown (trained again on restore)."""
        from tutor.labs.normalization.state import save_race

        index = max(self.model.index, self._restore_to)
        return save_race(self.params, index, self.guess, self.revealed or self._quiet_reveal)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.normalization.state import restore_race

        model, index, guess, revealed = restore_race(state)  # raises: nothing changed yet
        self._replace(model)
        self.guess, self._quiet_reveal, self._restore_to = guess, revealed, index
        for field in self.query(ParamInput):
            field.value = self.params[field.param_name]
        if index:
            self.note = f"training the four runs again up to step {index * CHUNK}…"
            self._start_training()
        self.redraw()  # at once: the restored lab is drawn before anything else happens

    # --- keys and edits ------------------------------------------------------------------
    def action_focus_predict(self) -> None:
        field = self.query_one("#race-guess", Input)
        if field.display:
            field.focus()

    def on_key(self, event) -> None:
        """While no run is picked, typing 1-4 on the lab picks it (as the field would)."""
        field = self.query_one("#race-guess", Input)
        if self.guess is None and not field.has_focus and event.character in ("1", "2", "3", "4"):
            event.stop()
            event.prevent_default()
            self._pick(event.character)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "race-guess":
            return
        event.stop()
        self._pick(event.value)

    def _pick(self, value: str) -> None:
        text = value.strip()
        if text not in ("1", "2", "3", "4"):
            self.note = f"✗ {text!r} is not a run: type 1, 2, 3 or 4"
            self.request_redraw()
            return
        self.guess, self.note = int(text), "Now space: the four runs train side by side."
        self.focus()
        self._start_training()
        self.request_redraw()

    def apply_param(self, name: str, value) -> str | None:
        """A new race with one setting changed (the prediction is asked again); a refusal is
        shown in the note, the last good race kept. The model is replaced, not changed in
        place: the worker may still be computing on the old one."""
        try:
            model = self.model.with_setting(name, value)
        except ValueError as exc:
            self.note = f"✗ {exc}; kept the previous settings"
            self.request_redraw()
            return str(exc)
        self._replace(model)
        self.request_redraw()
        return None

    def _replace(self, model: RaceModel) -> None:
        """A new race: the old one's worker is cancelled, the pick is asked again."""
        self.playing = False
        self.stop_computing()
        self.training = False
        self.model, self.params = model, dict(model.params)
        self.guess, self.revealed, self.note = None, False, ""
        self._restore_to, self._quiet_reveal = 0, False
        feedback = self.query_one("#race-feedback", Static)
        feedback.remove_class("-right", "-wrong")
        set_text(feedback, "")
        field = self.query_one("#race-guess", Input)
        field.value = ""

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        if self.apply_param(event.name, event.value) is not None:
            event.param_input.value = self.params[event.name]
            return
        self.back_to_lab(event.param_input)
