"""The backprop lab widget: type an expression, then step its forward and backward passes."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from core.autodiff import ExpressionError, difference_errors
from tutor.labs.backprop.graph_view import GraphView
from tutor.labs.backprop.model import BackpropModel, fmt, parse_values
from tutor.labs.backprop.params import PANELS, PRESETS, TENSOR_PRESET
from tutor.labs.backprop.tensor_model import TensorBackpropModel
from tutor.labs.backprop.tensor_view import TensorView
from tutor.labs.base import Lab
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text


class BackpropLab(Lab):
    """Backpropagation on any typed expression, one node at a time (notes 2.4).

    The graph runs left (inputs) to right (output). n steps: first the forward pass, node by
    node, then the backward pass from the output, each step sending the focused node's gradient
    down its in-edges (downstream = upstream × local). In quiz mode each downstream gradient is
    asked before it is shown.

    The "tensor" preset switches to tensor mode: a 2-layer network's graph of tensors (x →
    Linear → ReLU → Linear → ℒ), each node with its shape, the backward pass op by op with the
    rule and the shapes of every gradient; its quiz asks for gradients' shapes.
    """

    lab_name = "backprop"

    DEFAULT_CSS = """
    BackpropLab {
        layout: vertical;
        & #bp-edit { height: 1; }
        & .bp-label { width: auto; padding: 0 1; color: $text-muted; }
        & #bp-expr { width: 2fr; }
        & #bp-values { width: 1fr; }
        & #bp-error { height: auto; color: $text-error; padding: 0 1; }
        & #bp-error.-empty { display: none; }
        & #bp-panel { height: auto; max-height: 9; padding: 0 1; background: $boost; }
        & #bp-chart { height: 9; display: none; }
        & #bp-chart.-shown { display: block; }
        & #bp-tensor { display: none; }
    }
    BackpropLab.-tensor {
        & #bp-edit, & #bp-error, & #bp-graph, & #bp-panel, & #bp-chart { display: none; }
        & #bp-tensor { display: block; }
    }
    """

    BINDINGS = [
        Binding("a", "run_all", "Run all"),
        Binding("g", "cycle_panel", "Panel"),
        Binding("p", "next_preset", "Preset"),
        Binding("e", "edit_expression", "Edit f"),
        Binding("v", "edit_values", "Values"),
        Binding("k", "toggle_quiz", "Quiz"),
        Binding("escape", "leave_inputs", "Back to lab", show=False),
        Binding("left", "scroll_graph(-4, 0)", show=False),
        Binding("right", "scroll_graph(4, 0)", show=False),
        Binding("up", "scroll_graph(0, -2)", show=False),
        Binding("down", "scroll_graph(0, 2)", show=False),
    ]

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.preset = params.get("preset", "notes")
        self.quiz = bool(params.get("quiz", False))
        self.panel = params.get("panel", "node")
        self._initial_error: ExpressionError | None = None
        self.tensor_mode = self.preset == TENSOR_PRESET
        scalar_preset = "notes" if self.tensor_mode else self.preset
        try:
            self.model = BackpropModel.from_preset(
                scalar_preset, params.get("expression", ""), params.get("values", "")
            )
        except ExpressionError as exc:  # a lesson's bad expression: show the preset instead
            self._initial_error = exc
            self.model = BackpropModel.from_preset(scalar_preset)
        self.tmodel = TensorBackpropModel()
        self.active.go_to(params.get("at", "start"))
        self._pending: list[tuple[str, str, float, str]] = []
        self._asked_at: int | None = None
        self.score = [0, 0]  # right, asked

    def compose(self) -> ComposeResult:
        with Horizontal(id="bp-edit"):
            yield Static("f =", classes="bp-label")
            yield Input(self.model.expression, id="bp-expr", compact=True,
                        tooltip="an expression such as (x + y) * z; enter to build it")
            yield Static("at", classes="bp-label")
            yield Input(self.model.values_text(), id="bp-values", compact=True,
                        tooltip="input values such as x=1, y=-2; enter to apply")
        yield Static("", id="bp-error", classes="-empty")
        yield GraphView(id="bp-graph")
        yield TensorView(id="bp-tensor")
        yield Static("", id="bp-panel")
        yield LineChart(id="bp-chart", log_x=True, log_y=True, x_label="h",
                        title="|finite difference − autodiff| against h")
        yield PredictInput(id="bp-predict")
        yield StepControls(id="bp-controls")

    def on_mount(self) -> None:
        # (Lab.on_mount, which starts the playback timer, runs too: Textual calls each class's.)
        self.set_class(self.tensor_mode, "-tensor")
        if self._initial_error is not None:
            self._show_error(self._initial_error, self.params.get("expression", ""))
        self.call_after_refresh(self.refresh_view)

    @property
    def active(self):
        """The model on screen: the tensor graph in tensor mode, else the scalar expression."""
        return self.tmodel if self.tensor_mode else self.model

    # --- Lab interface -------------------------------------------------------------------------
    def step_forward(self) -> bool:
        if self.quiz:
            predict = self.query_one(PredictInput)
            if predict.state == "asking":  # n again: reveal without an answer and move on
                predict.reveal()
                self._pending = []
                return self._advance()
            if self._asked_at != self.active.step:
                questions = self.active.questions()
                if questions:
                    self._asked_at = self.active.step
                    self._pending = list(questions)
                    self._ask_next()
                    return False
        return self._advance()

    def _advance(self) -> bool:
        moved = self.active.step_forward()
        self.refresh_view()
        return moved

    def step_back(self) -> bool:
        self._cancel_question()
        moved = self.active.step_back()
        self.refresh_view()
        return moved

    def reset_lab(self) -> None:
        self._cancel_question()
        self.active.reset()
        self.refresh_view()

    def pytorch_code(self) -> str | None:
        return self.active.pytorch_code()

    def save_state(self) -> dict:
        """The preset, expression, values, both graphs' steps, the quiz switch and the panel."""
        from tutor.labs.backprop.state import save

        return save(self)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.backprop.state import restore

        kept = restore(state, self.tmodel.total)  # raises on a damaged state: nothing changed
        self.playing = False
        self.preset, self.quiz, self.panel = kept["preset"], kept["quiz"], kept["panel"]
        self.tensor_mode = self.preset == TENSOR_PRESET
        self.set_class(self.tensor_mode, "-tensor")
        self.tmodel.reset()
        self.tmodel.advance(kept["tensor_step"])
        self._replace_model(kept["model"])

    # --- actions -------------------------------------------------------------------------------
    def action_run_all(self) -> None:
        self.playing = False
        self._cancel_question()
        self.active.run_all()
        self.refresh_view()

    def _scalar_only(self, what: str) -> bool:
        """In tensor mode, say that `what` belongs to the scalar presets; True if in tensor mode."""
        if self.tensor_mode:
            self.notify(f"{what}: the tensor graph is fixed; p goes on to the scalar presets.", timeout=3)
        return self.tensor_mode

    def action_cycle_panel(self) -> None:
        if self._scalar_only("Panels"):
            return
        self.panel = PANELS[(PANELS.index(self.panel) + 1) % len(PANELS)]
        self.refresh_view()

    def action_next_preset(self) -> None:
        names = [*PRESETS, TENSOR_PRESET]
        self.preset = names[(names.index(self.preset) + 1) % len(names)]
        self._cancel_question()
        self.tensor_mode = self.preset == TENSOR_PRESET
        self.set_class(self.tensor_mode, "-tensor")
        if self.tensor_mode:
            self.tmodel.reset()
            self.refresh_view()
        else:
            self._replace_model(BackpropModel.from_preset(self.preset))

    def action_edit_expression(self) -> None:
        if self._scalar_only("Editing f"):
            return
        self.query_one("#bp-expr", Input).focus()

    def action_edit_values(self) -> None:
        if self._scalar_only("Editing values"):
            return
        self.query_one("#bp-values", Input).focus()

    def action_leave_inputs(self) -> None:
        self.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape only leaves an input; with the lab focused it goes on to the screen."""
        if action == "leave_inputs":
            return isinstance(self.screen.focused, Input)
        return True

    def action_toggle_quiz(self) -> None:
        self.quiz = not self.quiz
        self._cancel_question()
        on = ("Quiz mode: predict each gradient's shape." if self.tensor_mode
              else "Quiz mode: predict each downstream gradient.")
        self.notify(on if self.quiz else "Quiz mode off.", timeout=3)
        self.refresh_view()

    def action_scroll_graph(self, dx: int, dy: int) -> None:
        graph = self.query_one(TensorView) if self.tensor_mode else self.query_one(GraphView)
        graph.scroll_to(graph.scroll_x + dx, graph.scroll_y + dy, animate=False)

    # --- editing -------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "bp-expr":
            self.set_expression(event.value)
        elif event.input.id == "bp-values":
            self.set_values(event.value)

    def set_expression(self, text: str) -> bool:
        """Build a new graph from `text`; on an error keep the current one and show where."""
        try:
            model = BackpropModel(text, self.model.values)
        except ExpressionError as exc:
            self._show_error(exc, text)
            return False
        self._replace_model(model)
        self.focus()
        return True

    def set_values(self, text: str) -> bool:
        """New input values from "x=1, y=2"; on an error keep the current ones and show where."""
        try:
            values = parse_values(text)
            unknown = [k for k in values if k not in self.model.values]
            if unknown:
                col = text.find(unknown[0]) + 1
                raise ExpressionError(f"the expression has no input {unknown[0]!r}", col,
                                      len(unknown[0]), text)
        except ExpressionError as exc:
            self._show_error(exc, text)
            return False
        self.model.set_values(values)
        self._clear_error()
        self.query_one("#bp-values", Input).value = self.model.values_text()
        self.refresh_view()
        self.focus()
        return True

    def _replace_model(self, model: BackpropModel) -> None:
        self._cancel_question()
        self.model = model
        self._clear_error()
        self.query_one("#bp-expr", Input).value = model.expression
        self.query_one("#bp-values", Input).value = model.values_text()
        self.query_one(GraphView).scroll_to(0, 0, animate=False)
        self.refresh_view()

    def _show_error(self, exc: ExpressionError, text: str) -> None:
        line = Text(text or " ")
        start = max(0, exc.column - 1)
        if start >= len(text):
            line.append(" ")
        line.stylize("reverse bold", start, start + exc.width)
        message = Text.assemble(line, "\n", f"✗ {exc} (the previous graph is kept)")
        error = self.query_one("#bp-error", Static)
        error.update(message)
        error.remove_class("-empty")

    def _clear_error(self) -> None:
        error = self.query_one("#bp-error", Static)
        error.update("")
        error.add_class("-empty")

    # --- quiz ----------------------------------------------------------------------------------
    def _ask_next(self, verdict: str = "") -> None:
        key, prompt, answer, why = self._pending[0]
        tolerance = 0.01 + 0.005 * abs(answer) if math.isfinite(answer) else 0.0
        prompt = f"{verdict}\n{prompt}" if verdict else prompt
        self.query_one(PredictInput).ask(key, prompt, answer, tolerance, why, focus=True)

    def _cancel_question(self) -> None:
        self._pending = []
        self._asked_at = None
        if self.is_mounted:
            self.query_one(PredictInput).clear()

    def on_predict_input_checked(self, message: PredictInput.Checked) -> None:
        message.stop()
        self.score[1] += 1
        self.score[0] += int(message.correct)
        self.post_message(Lab.Answered(self.lab_name, message.key, message.correct))
        done = [q for q in self._pending if q[0] == message.key]
        self._pending = [q for q in self._pending if q[0] != message.key]
        if self._pending:  # the next edge of the same node; say how the last answer went
            _, _, answer, why = done[0] if done else ("", "", message.value, "")
            verdict = (f"✓ right: {fmt(answer, 10)}." if message.correct else
                       f"✗ you said {fmt(message.value, 10)}; {why}")
            self._ask_next(verdict)
            self._update_status()
        else:
            self._advance()

    # --- drawing -------------------------------------------------------------------------------
    def refresh_view(self) -> None:
        if not self.is_mounted:
            return
        if self.tensor_mode:
            self.query_one(TensorView).show(self.tmodel)
            self._update_status()
            self.post_message(Lab.StateChanged(self.lab_name, self.tmodel.step))
            return
        model = self.model
        self.query_one(GraphView).show(model.view())
        panel = self.query_one("#bp-panel", Static)
        chart = self.query_one("#bp-chart", LineChart)
        chart.set_class(self.panel == "check", "-shown")
        if self.panel == "check":
            self._set_panel(panel, self._check_text())
            self._update_chart(chart)
        elif self.panel == "symbolic":
            self._set_panel(panel, self._symbolic_text())
        else:
            lines = model.detail()
            problem = model.problem_text()
            self._set_panel(panel, "\n".join(lines + ([problem] if problem else [])))
        self._update_status()
        self.post_message(Lab.StateChanged(self.lab_name, model.step))

    def _set_panel(self, panel: Static, text) -> None:
        """Update the side panel; a layout pass (which repaints the whole screen) only when
        its height changes, not on every step."""
        set_text(panel, text)

    def _update_status(self) -> None:
        model = self.active
        # short enough to stay on one line beside the buttons in an 80-column lab
        status = f"{model.step}/{model.total} {model.phase}"
        if self.quiz:  # the panel names the phase while a quiz runs
            status = f"{model.step}/{model.total} · quiz {self.score[0]}/{self.score[1]}"
        self.query_one(StepControls).status = status

    def _check_text(self) -> str:
        rows = self.model.gradient_check()
        lines = ["Gradient check: autodiff vs central differences, h = 1e-6",
                 f"{'input':8} {'autodiff':>14} {'numeric':>14} {'rel. error':>10}"]
        for name, auto, numeric, rel in rows:
            lines.append(f"{name[:8]:8} {auto:>14.8g} {numeric:>14.8g} {rel:>10.1e}")
        return "\n".join(lines)

    def _update_chart(self, chart: LineChart) -> None:
        model = self.model
        name = next(iter(model.values))
        result = difference_errors(model.graph, model.output, model.values, name)
        chart.title = f"|finite difference − autodiff| for ∂f/∂{name} against h"
        chart.set_series([Series("forward", result["forward"], result["h"]),
                          Series("central", result["central"], result["h"])])

    def _symbolic_text(self) -> str:
        rows = self.model.symbolic_sizes()
        lines = ["Symbolic differentiation without simplification (symbols written out)",
                 f"{'input':8} {'f':>8} {'∂f/∂input':>12} {'tape nodes':>11}"]
        for name, size, dsize, tape in rows:
            lines.append(f"{name[:8]:8} {size:>8} {dsize:>12} {tape:>11}")
        name = rows[0][0]
        lines.append(f"∂f/∂{name} = {self.model.derivative_text(name)}")
        return "\n".join(lines)


LAB_CLASS = BackpropLab
