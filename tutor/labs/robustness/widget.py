"""The robustness lab widget: four views of chapter 7 (layout and drawing only)."""

from __future__ import annotations

import numpy as np
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.labs.robustness import nets
from tutor.labs.robustness.model import RobustnessModel
from tutor.labs.robustness.params import PARAMS, VIEWS
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import SERIES
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

#: The colours of the chart series (readable on dark and light themes).
COLORS = SERIES

#: The fields of each view: (parameter, label, step of up/down).
FIELDS = {
    "plane": (("eps", "ε", 0.05), ("alpha", "α", 0.01), ("pgd_steps", "steps", 1)),
    "digits": (("eps", "ε", 0.01), ("alpha", "α", 0.005), ("pgd_steps", "steps", 1)),
    "lipschitz": (("power_iters", "iterations", 1),),
    "regularization": (("weight_decay", "λ", 0.001), ("dropout", "p", 0.05),
                       ("patience", "patience", 1)),
}

HINTS = {
    "plane": "v view · a FGSM/PGD · l L∞/L2 · z zoom · , . point · t adv. · s spectral",
    "digits": "v view · a FGSM/PGD · l L∞/L2 · , . digit · t adversarial training",
    "lipschitz": "v view · s spectral normalization on/off · g all iterations",
    "regularization": "v view · g to the end · fields: λ, dropout p, patience",
}


class PictureBox(Vertical):
    """The box the picture fills: tells the lab when its size changes (a question appearing
    below it, a resized terminal), so the picture is drawn again for the size it has."""

    def __init__(self, on_resize, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_resize = on_resize

    def on_resize(self) -> None:
        self._on_resize()


class RobustnessLab(FieldKeys, ModelLab):
    """Adversarial examples (FGSM, PGD), Lipschitz bounds, spectral normalization and
    regularization, one view at a time; every view steps forward and back.

    The model (`RobustnessModel`) is built in a thread worker, as is a setting that trains a
    network (`apply_param`, the one place settings change); until it is there, and while a
    worker trains, the stepping keys wait and say so. Stepping itself is the kit's.
    """

    DEFAULT_CSS = """
    RobustnessLab {
        layout: vertical;
        & #rb-title { height: 1; color: $text-muted; }
        & #rb-top { height: 1fr; }
        & #rb-picture-box { width: 1fr; height: 1fr; align: center middle; min-width: 8; }
        & #rb-charts { width: 1fr; height: 1fr; display: none; }
        & #rb-charts > LineChart { width: 1fr; height: 1fr; }
        & #rb-text { width: 42; height: auto; padding: 0 0 0 1; }
        & #rb-chart { height: 8; min-height: 4; }
        & #rb-fields { height: auto; }
        & #rb-fields ParamInput { width: 1fr; }
        & #rb-fields .param-input--label { min-width: 0; padding: 0 1 0 1; }
        & #rb-message { height: auto; color: $text-warning; }
        &.-digits #rb-top { layout: vertical; }
        &.-digits #rb-picture-box { height: auto; align: left top; }
        &.-digits #rb-text { width: 1fr; padding: 0; }
        &.-regularization #rb-picture-box { display: none; }
        &.-regularization #rb-charts { display: block; }
        &.-regularization #rb-top { layout: vertical; }
        &.-regularization #rb-text { width: 1fr; padding: 0; }
        &.-regularization #rb-chart { display: none; }
    }
    """

    BINDINGS = [
        Binding("v", "cycle_view", "View"),
        Binding("a", "toggle('attack')", "FGSM/PGD"),
        Binding("l", "toggle('norm')", "L∞/L2"),
        Binding("t", "toggle('adv_train')", "Adv. training"),
        Binding("s", "toggle('spectral')", "Spectral norm."),
        Binding("z", "toggle('zoom')", "Zoom on the point", show=False),
        Binding("comma", "point(-1)", "Previous point", show=False),
        Binding("full_stop", "point(1)", "Next point", show=False),
        Binding("g", "to_end", "To the end", show=False),
        Binding("i", "focus_predict", "Predict", show=False),
        Binding("escape", "focus_lab", "Back to the lab", show=False),
    ]

    lab_name = "robustness"

    class Built(Message):
        """A worker finished training: `prepared` is what RobustnessModel.prepare returned, or a new RobustnessModel."""

        def __init__(self, prepared, name: str | None, build: int = 0) -> None:
            super().__init__()
            self.prepared = prepared
            self.name = name
            self.build = build  # which `_build` made the model (only the latest counts)

    class Failed(Message):
        def __init__(self, text: str, build: int = 0) -> None:
            super().__init__()
            self.text = text
            self.build = build  # the `_build` that failed (0: a setting's training)

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model: RobustnessModel | None = None  # built by the first worker
        self.busy = ""
        self.note = ""
        self._asked = None
        self._answered_here = False  # answered during this visit of step 0
        self._restoring: tuple[dict, int] | None = None  # (settings, step) a restore builds
        self._builds = 0  # the number of the latest `_build`
        # The view's class from the start: set once mounted it restyled the whole lab.
        self._view_class = self.params["view"]
        self.update_classes({f"-{name}": name == self._view_class for name in VIEWS},
                            update=False)

    # --- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="rb-title", markup=False)
        with Horizontal(id="rb-top"):
            with PictureBox(self._draw_picture, id="rb-picture-box"):
                yield PixelView(id="rb-picture")
            with Horizontal(id="rb-charts"):
                yield LineChart(id="rb-chart-plain", x_label="step")
                yield LineChart(id="rb-chart-reg", x_label="step")
            yield Static("", id="rb-text", markup=False)
        yield LineChart(id="rb-chart")
        with Horizontal(id="rb-fields"):
            for view, fields in FIELDS.items():
                for key, label, step in fields:
                    spec = PARAMS[key]
                    kind = "int" if spec.kind == "int" else "float"
                    field = ParamInput(key, label, self.params[key], kind, min=spec.min,
                                       max=spec.max, step=step, classes=f"rb-field rb-{view}",
                                       id=f"rb-{view}-{key}")
                    field.display = view == self._view_class
                    yield field
        yield PredictInput(id="rb-predict")
        yield Static("", id="rb-message", markup=False)
        yield StepControls(id="rb-controls")

    def on_mount(self) -> None:
        super().on_mount()
        self.busy = "training the network…"
        self._show_message(self.busy)
        self._builds += 1
        self._build(self.params, self._builds)

    @work(thread=True, exclusive=True, group="robustness-train", exit_on_error=False)
    def _build(self, params: dict, build: int = 0) -> None:
        """(Thread worker.) Train the view's networks; the UI stays responsive. Training
        stops between two steps when the worker is cancelled (the lab was closed)."""
        nets.stop_when(lambda worker=get_current_worker(): worker.is_cancelled)
        try:
            model = RobustnessModel(params)
        except nets.Cancelled:
            return
        except Exception as exc:  # reported, never a crash
            self.post_message(self.Failed(f"could not build the lab: {exc}", build))
            return
        self.post_message(self.Built(model, None, build))

    @work(thread=True, exclusive=True, group="robustness-train", exit_on_error=False)
    def _prepare(self, model: RobustnessModel, name: str, value) -> None:
        nets.stop_when(lambda worker=get_current_worker(): worker.is_cancelled)
        try:
            prepared = model.prepare(name, value)
        except nets.Cancelled:
            return
        except ValueError as exc:
            self.post_message(self.Failed(f"✗ {exc}; kept {name} = {model.params[name]!r}"))
            return
        except Exception as exc:
            self.post_message(self.Failed(f"✗ training failed: {exc}"))
            return
        self.post_message(self.Built(prepared, name))

    def on_robustness_lab_built(self, message: Built) -> None:
        message.stop()
        restoring = self._restoring
        if isinstance(message.prepared, RobustnessModel):
            if message.build != self._builds:
                return  # a build that a restore replaced, finished all the same
            self.model = message.prepared
        elif restoring is not None:
            return  # a setting changed before the restore: the restore's build replaces it
        elif self.model is not None:
            self.model.install(message.prepared)
        self.busy = ""
        self.note = ""
        self.params = dict(self.model.params)
        if restoring is not None:
            self._restoring = None
            self.model.advance(restoring[1])
        self._sync_fields()
        self.request_redraw()

    def on_robustness_lab_failed(self, message: Failed) -> None:
        message.stop()
        if message.build and message.build != self._builds:
            return  # a build that a restore replaced
        self._restoring = None
        self.busy = ""
        self.note = message.text
        self._sync_fields()
        self.request_redraw()

    def _set_view_class(self, view: str) -> None:
        if getattr(self, "_view_class", None) == view:
            return
        self._view_class = view
        self.update_classes({f"-{name}": name == view for name in VIEWS})  # one restyle
        for field in self.query(".rb-field"):
            field.display = field.has_class(f"rb-{view}")

    def _sync_fields(self) -> None:
        for field in self.query(ParamInput):
            if field.param_name in self.params and field.value != self.params[field.param_name]:
                field.value = self.params[field.param_name]

    # --- drawing ------------------------------------------------------------------------
    def _show_message(self, text: str) -> None:
        set_text(self.query_one("#rb-message", Static), text)

    def redraw(self) -> None:
        """Draw the view's title, text, chart, question, status and (after the layout settles)
        its picture from the model; nothing before the first worker built it."""
        if not self.is_mounted or self.model is None:
            return
        m, view = self.model, self.model.view
        if view.k > 0 or id(view) != self._asked:
            self._answered_here = False
        name = m.params["view"]
        self._set_view_class(name)
        set_text(self.query_one("#rb-title", Static), f"{name} · {HINTS[name]}")
        self._ask()
        set_text(self.query_one("#rb-text", Static), "\n".join(self._lines()))
        self.query_one(StepControls).status = m.status()
        self._show_message(self.busy or self.note)
        getattr(self, f"_draw_{name}")(view)
        # the texts above may change the layout: the picture is drawn for the settled size
        self.call_after_refresh(self._draw_picture)

    def _draw_picture(self) -> None:
        if not self.is_mounted or self.model is None:
            return
        view = self.model.view
        picture = self.query_one("#rb-picture", PixelView)
        name = self.model.params["view"]
        if name in ("plane", "lipschitz"):
            width, rows = self._picture_size()
            if width >= 2 and rows >= 1:
                picture.set_pixels(view.pixels(width, 2 * rows))
                picture.set_overlay(view.overlay(width, 2 * rows))
        elif name == "digits":
            width = self.query_one("#rb-top").size.width
            scale = max(1, min(3, (width - 4) // 52))
            image, lefts = view.pixels(scale)
            picture.set_pixels(image)
            labels = {}
            for col, text in zip(lefts, ("x", "δ (±ε)", "x + δ")):
                for i, ch in enumerate(text):
                    labels[(0, col + i)] = (ch, "#ffd700")
            picture.set_overlay(labels)

    def _lines(self) -> list[str]:
        view = self.model.view
        view.revealed = view.k > 0 or self._answered_here
        return view.lines()

    def _picture_size(self) -> tuple[int, int]:
        box = self.query_one("#rb-picture-box").size
        return max(0, box.width), max(0, box.height)

    def _draw_plane(self, view) -> None:
        chart = self.query_one("#rb-chart", LineChart)
        self._label_chart(chart, "loss at each step", "attack step")
        self._set_markers(chart, [])  # the digits view's, on the chart they share
        k = view.k
        chart.set_series([Series("loss", view.losses[: k + 1], x=np.arange(k + 1.0),
                                 color=COLORS[1])])


    def _draw_digits(self, view) -> None:
        chart = self.query_one("#rb-chart", LineChart)
        self._label_chart(chart, "test accuracy vs ε" if view.revealed
                          else "test accuracy vs ε: predict, or step", "ε (L∞)")
        from tutor.labs.robustness.digits import EPS_GRID

        series = [Series(name, acc, x=EPS_GRID, color=COLORS[i % len(COLORS)])
                  for i, (name, acc) in enumerate(view.curve_series().items())]
        chart.set_series(series if view.revealed else series[:0])
        self._set_markers(chart, [(float(self.model.params["eps"]), view.acc_pgd, "PGD at ε")]
                          if view.revealed else [])

    def _draw_lipschitz(self, view) -> None:
        chart = self.query_one("#rb-chart", LineChart)
        self._label_chart(chart, "σ_k of each layer", "power iteration k")
        self._set_markers(chart, [])  # the digits view's, on the chart they share
        chart.set_series([Series(name, est, x=np.arange(1.0, len(est) + 1),
                                 color=COLORS[i % len(COLORS)])
                          for i, (name, est) in enumerate(view.series())])

    def _draw_regularization(self, view) -> None:
        for which, chart_id, title in (("plain", "#rb-chart-plain", "plain"),
                                       ("regular", "#rb-chart-reg", view.label())):
            steps, train, test = view.series(which)
            chart = self.query_one(chart_id, LineChart)
            self._label_chart(chart, f"{title}: loss", "step")
            stop = view.stops["plain" if which == "plain" else "regular"]
            log = view.runs.plain if which == "plain" else view.runs.regular
            self._set_markers(chart, [(float(log.steps[stop.best]),
                                       float(log.test_loss[stop.best]), "best")]
                              if view.k >= stop.stop else [])
            chart.set_series([Series("test", test, x=steps, color=COLORS[1]),
                              Series("train", train, x=steps, color=COLORS[0])])

    @staticmethod
    def _label_chart(chart: LineChart, title: str, x_label: str) -> None:
        """Title and x label only when they change (each set schedules a repaint)."""
        if chart.title != title:
            chart.title = title
        if chart.x_label != x_label:
            chart.x_label = x_label

    @staticmethod
    def _set_markers(chart: LineChart, markers: list) -> None:
        """Markers only when they change (the reactive repaints the chart on every set)."""
        if list(chart.markers) != markers:
            chart.markers = markers

    def on_resize(self) -> None:
        self.request_redraw()

    # --- prediction ---------------------------------------------------------------------
    def _ask(self) -> None:
        """The view's question belongs to step 0: asked there (again after going back to
        it), answered or revealed once the attack, iteration or training moves on."""
        predict = self.query_one(PredictInput)
        view = self.model.view
        if view.k > 0 or self.playing:
            if predict.state == "asking":
                predict.reveal()
            return
        if self._answered_here:
            return
        key = id(view)
        if predict.state != "asking" or key != self._asked:
            self._asked = key
            prompt, answer, tolerance, explanation = view.question()
            predict.ask("robustness", f"{prompt} (i):", answer, tolerance, explanation)

    def on_predict_input_checked(self, message: PredictInput.Checked) -> None:
        message.stop()
        self._answered_here = True
        self.post_message(Lab.Answered(self.lab_name, self.model.params["view"], message.correct))
        self.focus()
        self.request_redraw()

    # --- stepping: the kit's, once the model is built and no worker trains --------------
    def _wait(self) -> bool:
        if self.model is None or self.busy:
            self.notify(self.busy or "the lab is still training…", timeout=2)
            return True
        return False

    def step_forward(self) -> bool:
        return False if self._wait() else super().step_forward()

    def step_back(self) -> bool:
        return False if self._wait() else super().step_back()

    def reset_lab(self) -> None:
        if not self._wait():
            super().reset_lab()

    def pytorch_code(self) -> str | None:
        """The code depends on the settings only: shown even while the network trains."""
        if self.model is not None:
            return super().pytorch_code()
        from tutor.labs.robustness import code

        return getattr(code, self.params["view"])(self.params)

    # --- the lab as the student left it ---------------------------------------------------
    def save_state(self) -> dict:
        """View, settings and step (see tutor.labs.robustness.state)."""
        from tutor.labs.robustness.state import save

        if self._restoring is not None:  # still training what the student had
            return save(*self._restoring)
        if self.model is None:
            return save(self.params, 0)
        return save(self.model.params, self.model.view.k)

    def restore_state(self, state: dict) -> None:
        """The settings are checked at once; the networks train in the worker (keys wait
        meanwhile, as when the lab opens), then the view steps to the saved step."""
        from tutor.labs.robustness.state import parse

        params, k = parse(state)  # raises before anything changes
        self.playing = False
        self._restoring = (params, k)
        self.params = dict(params)
        self.busy = "training the network as you left it…"
        self.note = ""
        self._set_view_class(params["view"])
        self._sync_fields()
        self._show_message(self.busy)
        self._builds += 1
        self._build(params, self._builds)  # replaces (cancels) a build still running

    # --- settings -----------------------------------------------------------------------
    def apply_param(self, name: str, value) -> str | None:
        """The one place a setting changes: at once through `model.apply` when nothing needs
        training (a refusal is shown in the message line, the last good state kept, and
        returned), else in a worker (None: its refusal comes with `Failed`)."""
        if self._wait():
            return None
        self.playing = False
        if self.model.needs_training(name, value):
            self.busy = f"training for {name} = {value}…"
            self._show_message(self.busy)
            self._prepare(self.model, name, value)
            return None
        refused = self.model.apply(name, value)
        self.note = refused or ""
        self.params = dict(self.model.params)
        self._sync_fields()
        self.request_redraw()
        return refused

    def action_cycle_view(self) -> None:
        if self.model is None:
            return self.notify("the lab is still training…", timeout=2)
        i = VIEWS.index(self.model.params["view"])
        self.apply_param("view", VIEWS[(i + 1) % len(VIEWS)])

    def action_toggle(self, name: str) -> None:
        if self.model is None:
            return self.notify("the lab is still training…", timeout=2)
        value = self.model.params[name]
        choices = {"attack": ("fgsm", "pgd"), "norm": ("inf", "2")}.get(name)
        self.apply_param(name, choices[1 - choices.index(value)] if choices else not value)

    def action_point(self, delta: int) -> None:
        if self.model is None:
            return self.notify("the lab is still training…", timeout=2)
        self.apply_param("point", max(0, self.model.params["point"] + delta))

    def action_to_end(self) -> None:
        if self._wait():
            return
        self.playing = False
        self.advance(100_000)

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        self.apply_param(event.name, event.value)
        self.back_to_lab(event.param_input)


LAB_CLASS = RobustnessLab
