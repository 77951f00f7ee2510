"""The backprop lab widget: type an expression, then step its forward and backward passes."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from tutor.labs.backprop.graph_view import GraphView
from tutor.labs.backprop.model import BackpropModel, ExpressionError, fmt
from tutor.labs.backprop.params import PANELS, PRESETS, TENSOR_PRESET
from tutor.labs.backprop.tensor_model import TensorBackpropModel
from tutor.labs.backprop.tensor_view import TensorView
from tutor.labs.base import Lab
from tutor.labs.kit import ModelLab
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text


class BackpropLab(ModelLab):
    """Backpropagation on any typed expression, one node at a time (notes 2.4).

    The graph runs left (inputs) to right (output). n steps: first the forward pass, node by
    node, then the backward pass from the output, each step sending the focused node's gradient
    down its in-edges (downstream = upstream × local). In quiz mode each downstream gradient is
    asked before it is shown.

    The "tensor" preset switches to tensor mode: a 2-layer network's graph of tensors (x →
    Linear → ReLU → Linear → ℒ), each node with its shape, the backward pass op by op with the
    rule and the shapes of every gradient; its quiz asks for gradients' shapes.

    `model` is the graph on screen: `tmodel` in tensor mode, else `scalar`, the expression.
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
            self.scalar = BackpropModel.from_preset(
                scalar_preset, params.get("expression", ""), params.get("values", "")
            )
        except ExpressionError as exc:  # a lesson's bad expression: show the preset instead
            self._initial_error = exc
            self.scalar = BackpropModel.from_preset(scalar_preset)
        self.tmodel = TensorBackpropModel()
        self.model.go_to(params.get("at", "start"))
        self._pending: list[tuple[str, str, float, str]] = []
        self._asked_at: int | None = None
        self.score = [0, 0]  # right, asked

    def compose(self) -> ComposeResult:
        with Horizontal(id="bp-edit"):
            yield Static("f =", classes="bp-label")
            yield Input(self.scalar.expression, id="bp-expr", compact=True,
                        tooltip="an expression such as (x + y) * z; enter to build it")
            yield Static("at", classes="bp-label")
            yield Input(self.scalar.values_text(), id="bp-values", compact=True,
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
        # (ModelLab.on_mount, which starts the playback timer and asks for the first redraw,
        # runs too: Textual calls each class's.)
        self.set_class(self.tensor_mode, "-tensor")
        if self._initial_error is not None:
            self._show_error(self._initial_error, self.params.get("expression", ""))

    @property
    def model(self) -> BackpropModel | TensorBackpropModel:
        """The graph on screen: the tensor graph in tensor mode, else the scalar expression."""
        return self.tmodel if self.tensor_mode else self.scalar

    # --- stepping: the quiz asks before a backward step is shown ---------------------------------
    def step_forward(self) -> bool:
        if self.quiz:
            predict = self.query_one(PredictInput)
            if predict.state == "asking":  # n again: reveal without an answer and move on
                predict.reveal()
                self._pending = []
                return super().step_forward()
            if self._asked_at != self.model.index:
                questions = self.model.questions()
                if questions:
                    self._asked_at = self.model.index
                    self._pending = list(questions)
                    self._ask_next()
                    return False
        return super().step_forward()

    def step_back(self) -> bool:
        self._cancel_question()
        return super().step_back()

    def reset_lab(self) -> None:
        self._cancel_question()
        super().reset_lab()

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
        self._replace_scalar(kept["model"])

    # --- actions -------------------------------------------------------------------------------
    def action_run_all(self) -> None:
        self.playing = False
        self._cancel_question()
        self.model.run_all()
        self.request_redraw()

    def _scalar_only(self, what: str) -> bool:
        """In tensor mode, say that `what` belongs to the scalar presets; True if in tensor mode."""
        if self.tensor_mode:
            self.notify(f"{what}: the tensor graph is fixed; p goes on to the scalar presets.", timeout=3)
        return self.tensor_mode

    def action_cycle_panel(self) -> None:
        if self._scalar_only("Panels"):
            return
        self.panel = PANELS[(PANELS.index(self.panel) + 1) % len(PANELS)]
        self.request_redraw()

    def action_next_preset(self) -> None:
        names = [*PRESETS, TENSOR_PRESET]
        self.preset = names[(names.index(self.preset) + 1) % len(names)]
        self._cancel_question()
        self.tensor_mode = self.preset == TENSOR_PRESET
        self.set_class(self.tensor_mode, "-tensor")
        if self.tensor_mode:
            self.tmodel.reset()
            self.request_redraw()
        else:
            self._replace_scalar(BackpropModel.from_preset(self.preset))

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
        self.request_redraw()

    def action_scroll_graph(self, dx: int, dy: int) -> None:
        graph = self.query_one(TensorView) if self.tensor_mode else self.query_one(GraphView)
        graph.scroll_to(graph.scroll_x + dx, graph.scroll_y + dy, animate=False)

    # --- editing -------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "bp-expr":
            self.apply_param("expression", event.value)
        elif event.input.id == "bp-values":
            self.apply_param("values", event.value)

    def apply_param(self, name: str, value) -> str | None:
        """The typed expression (a new graph, from step 0) or input values ("x=1, y=2", the
        step kept), through the scalar model; on an error it keeps its graph and the error is
        shown under the fields with its column marked. Returns the refusal, or None."""
        refused = self.scalar.apply(name, value)
        if refused is not None:
            self._show_error(self.scalar.refusal, value)
            return refused
        if name == "expression":
            self._replace_scalar(self.scalar)
        else:
            self._clear_error()
            self.query_one("#bp-values", Input).value = self.scalar.values_text()
            self.request_redraw()
        self.focus()
        return None

    def _replace_scalar(self, model: BackpropModel) -> None:
        """Show a new (or newly built) scalar graph from its start: fields, scroll, no question."""
        self._cancel_question()
        self.scalar = model
        self._clear_error()
        self.query_one("#bp-expr", Input).value = model.expression
        self.query_one("#bp-values", Input).value = model.values_text()
        self.query_one(GraphView).scroll_to(0, 0, animate=False)
        self.request_redraw()

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
            self._update_status()  # only the score changed (the graph may have been scrolled)
        else:
            super().step_forward()

    # --- drawing -------------------------------------------------------------------------------
    def redraw(self) -> None:
        if self.tensor_mode:
            self.query_one(TensorView).show(self.tmodel)
            self._update_status()
            return
        model = self.scalar
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

    def _set_panel(self, panel: Static, text) -> None:
        """Update the side panel; a layout pass (which repaints the whole screen) only when
        its height changes, not on every step."""
        set_text(panel, text)

    def _update_status(self) -> None:
        model = self.model
        # short enough to stay on one line beside the buttons in an 80-column lab
        status = model.status()
        if self.quiz:  # the panel names the phase while a quiz runs
            status = f"{model.index}/{model.total} · quiz {self.score[0]}/{self.score[1]}"
        self.query_one(StepControls).status = status

    def _check_text(self) -> str:
        rows = self.scalar.gradient_check()
        lines = ["Gradient check: autodiff vs central differences, h = 1e-6",
                 f"{'input':8} {'autodiff':>14} {'numeric':>14} {'rel. error':>10}"]
        for name, auto, numeric, rel in rows:
            lines.append(f"{name[:8]:8} {auto:>14.8g} {numeric:>14.8g} {rel:>10.1e}")
        return "\n".join(lines)

    def _update_chart(self, chart: LineChart) -> None:
        name, result = self.scalar.difference_errors()
        chart.title = f"|finite difference − autodiff| for ∂f/∂{name} against h"
        chart.set_series([Series("forward", result["forward"], result["h"]),
                          Series("central", result["central"], result["h"])])

    def _symbolic_text(self) -> str:
        rows = self.scalar.symbolic_sizes()
        lines = ["Symbolic differentiation without simplification (symbols written out)",
                 f"{'input':8} {'f':>8} {'∂f/∂input':>12} {'tape nodes':>11}"]
        for name, size, dsize, tape in rows:
            lines.append(f"{name[:8]:8} {size:>8} {dsize:>12} {tape:>11}")
        name = rows[0][0]
        lines.append(f"∂f/∂{name} = {self.scalar.derivative_text(name)}")
        return "\n".join(lines)


LAB_CLASS = BackpropLab
