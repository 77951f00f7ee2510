"""The optimizer lab widget: the race on a contour map, the loss chart, the focused optimizer's state."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.labs.optimizer.code import convergence_lines, state_lines
from tutor.labs.optimizer.legend import RaceLegend, legend_text
from tutor.labs.optimizer.model import RaceModel
from tutor.labs.optimizer.params import PARAMS, SURFACES
from tutor.labs.optimizer.presets import COLORS, HYPER_USED
from tutor.labs.optimizer.render import TrailCache, map_pixels, pixel_to_point, race_overlay
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import BRIGHT_CYAN, BRIGHT_GREEN, BRIGHT_RED
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text_lines import TextLines

SIDE_WIDTH = 34
#: While playing faster than this, the chart and texts redraw only this many times a second.
CHART_FPS = 8

#: The hyperparameter inputs: (key, label, min, max, nudge step).
HYPER_INPUTS = (
    ("lr", "η (lr)", 1e-6, 100.0, None),
    ("gamma", "γ", 0.0, 0.999, 0.05),
    ("beta1", "β₁", 0.0, 0.999, 0.01),
    ("beta2", "β₂", 0.0, 0.99999, 0.001),
    ("eps", "ε", 0.0, 1.0, None),
)


#: Keys that only mean something in the race view.
RACE_ACTIONS = frozenset({"cycle_focus", "toggle_optimizer", "next_surface", "toggle_chart", "move"})


class OptimizerLab(FieldKeys, ModelLab):
    """Optimizers race on a loss surface; edit their hyperparameters and the start point live.

    The legend lists all eight optimizers with a checkbox: a click on the box adds or removes
    one, a click on its name focuses it (its equation, state and hyperparameters are shown).
    Keys: o focus the next optimizer, t add/remove it from the race, s next surface,
    c race/convergence view, l loss/distance chart, j jump 50 steps ahead, arrows move the start
    (or click the map).
    """

    DEFAULT_CSS = """
    OptimizerLab {
        layout: vertical;
        & #opt-title { height: 1; color: $text-muted; }
        & #opt-predict { height: 4; overflow: hidden hidden; }
        & #opt-main { height: 1fr; }
        & #opt-mapbox { width: 1fr; min-width: 10; height: 1fr; }
        & #opt-map { width: 1fr; height: 1fr; }
        & #opt-conv { height: 1fr; display: none; }
        & #opt-side { width: %d; padding: 0 0 0 1; }
        & #opt-legend { height: 9; margin: 0 0 1 0; }
        & #opt-message { height: auto; color: $text-warning; }
        & #opt-bottom { height: 12; }
        & #opt-chart { width: 1fr; height: 1fr; }
        & #opt-state { width: %d; height: 1fr; padding: 0 0 0 1; }
        &.-convergence #opt-map { display: none; }
        &.-convergence #opt-conv { display: block; }
        & ParamInput .param-input--label { min-width: 10; }
    }
    """ % (SIDE_WIDTH, SIDE_WIDTH)

    BINDINGS = [
        Binding("o", "cycle_focus", "Focus"),
        Binding("t", "toggle_optimizer", "In/out"),
        Binding("s", "next_surface", "Surface", show=False),
        Binding("c", "toggle_mode", "Convergence"),
        Binding("l", "toggle_chart", "Loss/distance", show=False),
        Binding("j", "forward_many", "Jump +50 steps", show=False),
        Binding("left", "move(-1, 0)", "Start ←", show=False),
        Binding("right", "move(1, 0)", "Start →", show=False),
        Binding("up", "move(0, 1)", "Start ↑", show=False),
        Binding("down", "move(0, -1)", "Start ↓", show=False),
        Binding("escape", "focus_lab", "Back to the lab", show=False),
    ]

    lab_name = "optimizer"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = RaceModel(params)
        self._map_size = (0, 0)
        self._map_stale = True  # the contour map is drawn again at the next redraw
        self._trails = TrailCache()

    # --- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        m = self.model
        yield TextLines("", id="opt-title")
        yield PredictInput(id="opt-predict")
        with Horizontal(id="opt-main"):
            with Vertical(id="opt-mapbox"):
                yield PixelView(id="opt-map")
                yield LineChart(id="opt-conv", log_y=True, log_x=True,
                                title="min ‖∇L‖² vs T", x_label="T (log)")
            with VerticalScroll(id="opt-side", can_focus=False):
                yield RaceLegend("", id="opt-legend")
                yield ParamInput("surface", "surface", m.surface_name, kind="choice",
                                 choices=SURFACES, id="opt-in-surface")
                h = m.hyper[m.focus]
                for key, label, low, high, step in HYPER_INPUTS:
                    yield ParamInput(key, label, h[key], min=low, max=high, step=step,
                                     id=f"opt-in-{key}")
                spec = PARAMS["batch_size"]
                yield ParamInput("batch_size", "batch size", m.batch_size, kind="int", min=spec.min,
                                 max=spec.max, step=1, id="opt-in-batch")
                yield Static("", id="opt-message", markup=False)
        with Horizontal(id="opt-bottom"):
            yield LineChart(id="opt-chart", log_y=True, x_label="step")
            yield TextLines("", id="opt-state")
        yield StepControls(id="opt-controls")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_class(self.model.mode == "convergence", "-convergence")
        self._sync_inputs()
        self._update_prediction(self.query_one("#opt-predict", PredictInput))  # before the first layout

    def on_resize(self) -> None:
        self.call_after_refresh(self._redraw_map)

    # --- drawing ----------------------------------------------------------------------
    def _map_cells(self) -> tuple[int, int]:
        size = self.query_one("#opt-mapbox").content_size
        return max(0, size.height), max(0, size.width)

    def _redraw_map(self) -> None:
        if self.model.mode == "convergence":
            return
        rows, cols = self._map_cells()
        if self._map_stale or (rows, cols) != self._map_size:
            self._map_stale = False
            self._map_size = (rows, cols)
            self.query_one("#opt-map", PixelView).set_pixels(
                map_pixels(self.model.surface, rows, cols))
        self._redraw_overlay()

    def _redraw_overlay(self) -> None:
        rows, cols = self._map_size
        self.query_one("#opt-map", PixelView).set_overlay(
            race_overlay(self.model, rows, cols, COLORS, self._trails))

    def redraw(self) -> None:
        """Redraw everything that depends on the model (cheap: playback reads stored runs).

        While playing fast only the trajectories move every frame; the texts and the chart
        follow about `CHART_FPS` times a second (a text update anywhere makes Textual repaint
        every widget between it and the map, which cost more than the rest of a frame).
        """
        m = self.model
        full = self._texts_due()
        if m.mode == "convergence":
            if full:
                self._draw_convergence()
        else:
            self._redraw_map()
            if full:
                self._draw_race_chart()
        if full:
            self._draw_texts()
        self._sync_prediction()

    # --- predict first --------------------------------------------------------------------
    def on_key(self, event) -> None:
        """+ and - stay the speed keys while a question is asked: its answer is a whole number
        (the Lab base would start the answer with a sign)."""
        if event.character in ("+", "-") and self.has_focus:
            event.stop()
            event.prevent_default()
            self.action_faster() if event.character == "+" else self.action_slower()

    def _sync_prediction(self) -> None:
        """At step 0 of a race, ask which optimizer first gets 90 % of the way down (its place in the
        legend); once the race has started, an unanswered question shows its answer."""
        try:
            predict = self.query_one("#opt-predict", PredictInput)
        except Exception:
            return
        shown = predict.state != "idle"
        self._update_prediction(predict)
        if (predict.state != "idle") != shown:
            # the question (a fixed 4 rows) came or went: redraw the map at its new size
            self.call_after_refresh(self._redraw_map)

    def _update_prediction(self, predict: PredictInput) -> None:
        m = self.model
        if m.mode != "race":
            if predict.state != "idle":
                predict.clear()
            return
        if m.t > 0:
            if predict.state == "asking":
                predict.reveal()
            return
        winner = m.first_down()
        if winner is None or len(m.selected) < 2 or winner[2] < 5:
            # nobody crosses, two tie, or the first step already does: nothing to predict
            if predict.state != "idle":
                predict.clear()
            return
        place, name, step = winner
        key = (m.surface_name, tuple(m.selected), place, step)
        if predict.state == "asking" and getattr(self, "_asked", None) == key:
            return
        self._asked = key
        names = " ".join(f"{i} {n}" for i, n in enumerate(m.selected, 1))
        predict.ask("first-down", f"Predict: which gets 90% of the way down first? {names}",
                    place, 0, f"{name}, at step {step}.")

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        event.stop()
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))

    def _draw_texts(self) -> None:
        m = self.model
        # Line-API texts: only the rows that changed are repainted, with no layout pass.
        self.query_one("#opt-legend", RaceLegend).update(self._legend())
        state = convergence_lines(m) if m.mode == "convergence" else state_lines(m)
        self.query_one("#opt-state", TextLines).update("\n".join(state))
        self.query_one("#opt-title", TextLines).update(self._title())

    def _texts_due(self) -> bool:
        """Stepping by hand redraws everything; playing faster than `CHART_FPS` redraws the
        chart and texts on every k-th step (and at the last one)."""
        m = self.model
        every = max(1, round(self.fps / CHART_FPS))
        return not self.playing or every == 1 or m.t % every == 0 or m.t >= m.steps

    def _title(self) -> str:
        m = self.model
        step = f"step {m.t}/{m.steps}"
        if m.mode == "convergence":
            return f"{step} · SGD, batch {m.batch_size}: fixed η vs ηₜ = η/√t · {m.surface.formula}"
        x, y = m.start
        return f"{step} · {m.surface.formula} · start ({x:.2f}, {y:.2f})"

    def _legend(self) -> Text:
        m = self.model
        if m.mode == "convergence":
            c = m.convergence
            text = Text()
            for label, color in ((f"fixed η = {m.conv_lr:.3g}", BRIGHT_RED),
                                 ("decreasing η/√t", BRIGHT_GREEN), ("theorem bound", BRIGHT_CYAN)):
                text.append("― ", style=color).append(label + "\n")
            text.append(f"β = {c.beta:.3g}  Δ = {c.delta:.3g}\nσ² = {c.sigma2:.3g}  "
                        f"floor σ√(ηβ) ≈ {c.floor:.3g}")
            return text
        return legend_text(m, COLORS)

    def _draw_race_chart(self) -> None:
        m = self.model
        chart = self.query_one("#opt-chart", LineChart)
        series, markers = [], []
        for name in m.selected:
            y = m.curve(name)
            series.append(Series(name, np.maximum(y, 1e-16), color=COLORS[name]))
            run = m.runs[name]
            if m.has_diverged(name):
                markers.append((float(len(y) - 1), float(max(y[-1], 1e-16)),
                                f"{name} diverged at step {run.diverged_at}"))
        chart.title = "L(θ) − L*" if m.chart == "loss" else "‖θ − θ*‖"
        chart.markers = markers
        chart.set_series(series)

    def _draw_convergence(self) -> None:
        m = self.model
        c = m.convergence
        t = m.t
        top = self.query_one("#opt-chart", LineChart)
        top.title = "‖∇L(θₜ)‖, mean of 50"
        top.markers = []
        top.set_series([
            Series("fixed", m.smoothed(c.fixed.grad_norms), color=BRIGHT_RED),
            Series("η/√t", m.smoothed(c.decreasing.grad_norms), color=BRIGHT_GREEN),
            Series("floor", np.full(t + 1, c.floor), color="#888888"),
        ])
        bottom = self.query_one("#opt-conv", LineChart)
        T = np.arange(1, t + 1, dtype=np.float64)
        bottom.set_series([
            Series("fixed", m.min_grad_sq(c.fixed), T, color=BRIGHT_RED),
            Series("η/√t", m.min_grad_sq(c.decreasing), T, color=BRIGHT_GREEN),
            Series("bound", c.bound(T) if t else [], T, color=BRIGHT_CYAN),
        ])

    def _sync_inputs(self) -> None:
        """Show the focused optimizer's values; grey out what it does not use."""
        m = self.model
        used = HYPER_USED[m.focus]
        for key, *_ in HYPER_INPUTS:
            box = self.query_one(f"#opt-in-{key}", ParamInput)
            conv = m.mode == "convergence"
            box.value = m.conv_lr if conv and key == "lr" else m.hyper[m.focus][key]
            box.disabled = (key != "lr") if conv else key not in used
        surface = self.query_one("#opt-in-surface", ParamInput)
        surface.disabled = m.mode == "convergence"
        surface.value = m.surface_name
        self.query_one("#opt-legend", RaceLegend).pickable = m.mode == "race"
        self.query_one("#opt-in-batch", ParamInput).disabled = not (
            m.surface_name == "least_squares" or m.mode == "convergence")

    def _message(self, text: str) -> None:
        self.query_one("#opt-message", Static).update(text)

    # --- saved state ----------------------------------------------------------------------
    def save_state(self) -> dict:
        """View, surface, race, focus, every optimizer's hyperparameters, start, chart, step."""
        from tutor.labs.optimizer.state import save

        return save(self.model)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.optimizer.state import restore

        model = restore(self.params, state)  # raises on a damaged state: nothing changed yet
        self.playing = False
        self.model = model
        self._message("")
        self.set_class(model.mode == "convergence", "-convergence")
        self._sync_inputs()
        self.refresh_bindings()
        self._map_stale = True
        self.request_redraw()

    # --- settings -----------------------------------------------------------------------
    def apply_param(self, name: str, value) -> str | None:
        """Change one setting through the model (`RaceModel.apply` lists them). A refusal is
        shown under the fields, which go back to the kept values; the message stays until the
        next value is entered or the race changes."""
        m = self.model
        refused = m.apply(name, value)
        if refused is not None:
            self._message(f"✗ {refused}")
            if name != "optimizers":
                self._sync_inputs()
            return refused
        if name == "mode":
            self.set_class(m.mode == "convergence", "-convergence")
            self.refresh_bindings()
        if name in ("mode", "surface"):
            self._map_stale = True  # another surface, or the map shown again
        if name in ("mode", "surface", "focus"):
            self._sync_inputs()
        self.request_redraw()
        return None

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        self._message("")
        if self.apply_param(event.name, event.value) is None:
            self.back_to_lab(event.param_input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The race's keys are greyed out in the convergence view (escape: `FieldKeys`)."""
        if action in RACE_ACTIONS and self.model.mode != "race":
            return None
        return super().check_action(action, parameters)

    def on_pixel_view_clicked(self, event: PixelView.Clicked) -> None:
        event.stop()
        rows, cols = self._map_size
        self.apply_param("start", pixel_to_point(self.model.surface, event.x, event.y, rows, cols))

    def action_cycle_focus(self) -> None:
        self.apply_param("focus", self.model.next_focus())

    def action_toggle_optimizer(self) -> None:
        self._toggle(self.model.focus)

    def _toggle(self, name: str) -> None:
        """Add `name` to the race or take it out (the last one stays, with a message)."""
        m = self.model
        if m.mode != "race":
            return
        if self.apply_param("optimizers", m.toggled(name)) is None:
            self._message("")

    def on_race_legend_picked(self, event: RaceLegend.Picked) -> None:
        """A click on the legend: the box adds or removes that optimizer, the name focuses it."""
        event.stop()
        if event.toggle:
            self._toggle(event.optimizer)
        else:
            self.apply_param("focus", event.optimizer)

    def action_next_surface(self) -> None:
        names = list(SURFACES)
        self.apply_param("surface", names[(names.index(self.model.surface_name) + 1) % len(names)])

    def action_toggle_mode(self) -> None:
        self.apply_param("mode", "race" if self.model.mode == "convergence" else "convergence")

    def action_forward_many(self) -> None:
        """Jump 50 steps ahead (long convergence runs)."""
        self.playing = False
        self.advance(50)

    def action_toggle_chart(self) -> None:
        self.apply_param("chart", "distance" if self.model.chart == "loss" else "loss")

    def action_move(self, dx: int, dy: int) -> None:
        if self.model.mode == "race":
            self.apply_param("start", self.model.nudged_start(dx, dy))


LAB_CLASS = OptimizerLab
