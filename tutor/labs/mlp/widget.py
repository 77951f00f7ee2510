"""The MLP lab widget: decision regions, loss curves, one layer's weights, and the settings."""

from __future__ import annotations

import os

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Input, Label, Static

from tutor.labs.base import Lab
from tutor.labs.mlp import params as P
from tutor.labs.datafiles import is_cached
from tutor.labs.kit import DataFileRead, PlayAhead, TrainingLab, read_data_file
from tutor.labs.mlp.model import MlpModel, parse_hidden, read_points
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import BLUE, ORANGE
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

SIDE_WIDTH = 38
TRAIN_COLOR, TEST_COLOR = BLUE, ORANGE

#: The settings panel: (parameter, label, kind, step) in display order.
SETTINGS = (
    ("dataset", "data", "choice", None),
    ("n_points", "points", "int", 50),
    ("noise", "noise", "float", 0.05),
    ("classes", "classes", "int", 1),
    ("activation", "activation", "choice", None),
    ("loss", "loss", "choice", None),
    ("optimizer", "optimizer", "choice", None),
    ("lr", "lr η", "float", None),
    ("gamma", "γ", "float", 0.05),
    ("beta1", "β₁", "float", 0.01),
    ("beta2", "β₂", "float", 0.001),
    ("batch_size", "batch size", "int", 8),
    ("seed", "weight seed", "int", 1),
)


class MlpLab(PlayAhead, TrainingLab):
    """Train an MLP on 2-D points and watch its decision regions, losses and weights change.

    Every step is one mini-batch; the history keeps each step's weights and optimizer state,
    so `b` goes back exactly and `r` returns to the seed's initial weights. Editing a setting
    rebuilds the network and restarts from its (seeded) initial weights. A lesson's head start
    and a restore train in the kit's worker; while the lab plays, the next steps and their
    pictures are computed ahead in another, so a frame only draws.
    """

    DEFAULT_CSS = """
    MlpLab {
        layout: vertical;
        & #mlp-main { height: 1fr; }
        & #mlp-left { width: 1fr; min-width: 10; }
        & #mlp-title { height: 1; color: $text-muted; }
        & #mlp-region-box { height: 1fr; align: center middle; }
        & #mlp-side { width: %d; padding: 0 0 0 1; }
        & #mlp-stats { height: 3; }
        & #mlp-predict { height: 4; overflow: hidden hidden; }
        & #mlp-chart { height: 9; min-height: 4; }
        & #mlp-message { height: auto; color: $text-warning; }
        & #mlp-panel { height: 1fr; }
        & #mlp-weights-label { height: 1; }
        & #mlp-settings-hint { color: $text-muted; height: auto; }
        & .mlp-heat { width: 1fr; height: auto; }
        & .mlp-heat > Label { color: $text-muted; }
        & .mlp-text-row { height: auto; }
        & .mlp-text-row > Label { min-width: 14; padding: 0 1 0 0; }
        & .mlp-text-row > Input { width: 1fr; max-width: 24; }
        & .mlp-text-row > Input.-invalid { border: none; color: $text-error; }
    }
    """ % SIDE_WIDTH

    BINDINGS = [
        Binding("v", "toggle_view", "Weights/settings"),
        Binding("comma", "layer(-1)", "Previous layer's weights", show=False),
        Binding("full_stop", "layer(1)", "Next layer's weights", show=False),
        Binding("t", "toggle_points", "Train/test points", show=False),
        Binding("g", "forward_many", "Go 100 steps", show=False),
        Binding("escape", "focus_lab", "Leave a settings field", show=False),
    ]

    lab_name = "mlp"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.show_test = False
        self.weight_layer = int(self.params["layer"])
        #: Settings waiting for their CSV file, read by a worker (None: nothing is loading).
        self._pending: dict | None = None
        #: A saved state waiting for its CSV file, read by a worker (see `restore_state`).
        self._pending_restore: dict | None = None
        self.file_note = ""  # why the last CSV file was refused
        self._opening_read = self._needs_reading(self.params)  # the head start waits for it
        if self._opening_read:
            # The lesson's file is read in a worker (a large file takes seconds, a device is
            # refused): the lab opens on circles meanwhile, then trains the head start on it.
            self._pending = dict(self.params)
            self.note = f"loading {self.params['csv_path'].rsplit('/', 1)[-1]} …"
            self.params["dataset"] = "circles"
        try:
            self.model = MlpModel(self.params)
        except ValueError as exc:  # e.g. a lesson's CSV file that is missing: fall back
            self.note = f"{exc}; showing circles instead"
            self.params["dataset"] = "circles"
            self.model = MlpModel(self.params)
        # A lesson's head start trains in a thread worker once the lab is mounted (300 steps
        # take about 0.3 s), so the lesson opens at once; the lab keys wait for it.
        self.head_start = int(self.params["steps"])
        self._opening = 0  # the step the lab opens at (the head start once it is trained)
        self._asked = None
        #: A restore that retrained fewer steps than were saved keeps that count saved until
        #: the student moves (leaving the lesson again must not shorten it each time).
        self.kept_step: int | None = None

    # --- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="mlp-main"):
            with Vertical(id="mlp-left"):
                yield Static("", id="mlp-title", markup=False)
                with Vertical(id="mlp-region-box"):
                    yield PixelView(id="mlp-region")
            with Vertical(id="mlp-side"):
                yield Static("", id="mlp-stats", markup=False)
                yield PredictInput(id="mlp-predict")
                yield LineChart(title="loss", x_label="step", id="mlp-chart")
                yield Static("", id="mlp-message", markup=False)
                with ContentSwitcher(initial=f"mlp-{self.params['view']}", id="mlp-panel"):
                    with Vertical(id="mlp-weights"):
                        yield Static("", id="mlp-weights-label", markup=False)
                        with Horizontal():
                            with Vertical(classes="mlp-heat"):
                                yield Label("W")
                                yield PixelView(id="mlp-w")
                            with Vertical(classes="mlp-heat"):
                                yield Label("∂J/∂W")
                                yield PixelView(id="mlp-g")
                    with VerticalScroll(id="mlp-settings", can_focus=False):
                        yield from self._settings()
        yield StepControls(id="mlp-controls")

    def _settings(self) -> ComposeResult:
        specs = P.PARAMS
        yield Static("tab: next field · enter: apply · esc: back to the lab keys",
                     id="mlp-settings-hint", markup=False)
        with Horizontal(classes="mlp-text-row"):
            yield Label("hidden")
            yield Input(self._hidden_text(), id="mlp-hidden", compact=True,
                        tooltip="widths of the hidden layers, e.g. 8, 8 (empty: linear model)")
        for key, label, kind, step in SETTINGS:
            spec = specs[key]
            yield ParamInput(key, label, self.params[key], kind, min=spec.min, max=spec.max,
                             choices=spec.choices, step=step)
        with Horizontal(classes="mlp-text-row"):
            yield Label("csv file")
            yield Input(self.params["csv_path"], id="mlp-csv", compact=True,
                        tooltip="x, y, label rows; used when data is csv")

    def _hidden_text(self) -> str:
        return ", ".join(str(int(w)) for w in self.params["hidden"])

    def on_mount(self) -> None:
        super().on_mount()
        self._sync_prediction()  # before the first layout: the question's rows are reserved
        if self._pending is not None:
            read_data_file(self, self._pending["csv_path"], read_points)
        elif self.head_start:
            self._start_head_start()

    @staticmethod
    def _needs_reading(params: dict) -> bool:
        """Whether these settings use a CSV file not yet read (its reading takes a worker)."""
        return (params["dataset"] == "csv" and bool(params["csv_path"])
                and not is_cached(read_points, params["csv_path"]))

    def on_data_file_read(self, event: DataFileRead) -> None:
        """The CSV file a worker read (into the model's cache) or refused: the settings that
        waited for it are applied, or the lab keeps what it shows and says why."""
        event.stop()
        saved = self._pending_restore
        if saved is not None and event.path == saved["params"].get("csv_path"):
            self._pending_restore = None
            self._restore_read(saved, event.error)
            return
        pending = self._pending
        if pending is None or event.path != pending["csv_path"]:
            return  # other settings were applied meanwhile
        self._pending = None
        opening, self._opening_read = self._opening_read, False
        if event.error is not None:
            # Kept on show after the head start's own notes, until settings are applied.
            self.file_note = self.note = f"✗ {event.error}; kept {self.params['dataset']}"
            self._show_settings()
        elif self.apply_settings(**pending) and opening:
            self.note = ""
        if opening and self.head_start:
            self._start_head_start()
        self.request_redraw()

    def _start_head_start(self) -> None:
        self.start_training(self.head_start, f"training the first {self.head_start} steps…")

    def _show_settings(self) -> None:
        """The settings fields show the parameters in use."""
        self.query_one("#mlp-hidden", Input).value = self._hidden_text()
        self.query_one("#mlp-csv", Input).value = self.params["csv_path"]
        for field in self.query(ParamInput):
            field.value = self.params[field.param_name]

    # --- training in the kit's worker: the head start, a restore ------------------------------
    def train(self, model: MlpModel, n: int, cancelled) -> list:
        """(Thread worker.) `n` steps after the model's current one, on a copy; the UI keeps
        drawing that step meanwhile."""
        states, _ = model.compute_ahead(model.state, n, cancelled=cancelled)
        return states

    def add_trained(self, model: MlpModel, states: list) -> None:
        model.add_ahead(model.state, states, {})
        model.advance(len(states))
        self._opening = model.state.step

    # --- playing: steps computed ahead in a worker (the kit's PlayAhead) --------------------
    def ahead_source(self):
        return self.model

    def ahead_keys(self):
        return self._picture_keys()

    def on_resize(self) -> None:
        self.call_after_refresh(self.draw_region)
        self.call_after_refresh(self.draw_weights)

    # --- drawing ------------------------------------------------------------------------
    def redraw(self) -> None:
        """Bring every part of the lab up to the model's current state."""
        if not self.is_mounted:
            return
        m, s = self.model, self.model.state
        p = self.params
        hidden = "-".join(map(str, m.sizes))
        self._set_text("#mlp-title",
                       f"{hidden} {p['activation']} · {m.net.n_parameters} parameters · "
                       f"{'test' if self.show_test else 'train'} points ({p['dataset']})")
        self._set_text("#mlp-stats",
                       f"step {s.step} · epoch {m.epoch:.1f} · {p['optimizer']} η={p['lr']:g}\n"
                       f"train loss {s.train_loss:.4f}  acc {s.train_acc:6.1%}\n"
                       f"test  loss {s.test_loss:.4f}  acc {s.test_acc:6.1%}")
        steps, train, test = m.curves()
        self.query_one("#mlp-chart", LineChart).set_series(
            [Series("test", test, x=steps, color=TEST_COLOR),
             Series("train", train, x=steps, color=TRAIN_COLOR)]  # train drawn on top
        )
        self._set_text("#mlp-message", self.note or self.file_note or m.message)
        self.query_one(StepControls).status = m.status().split(" · ")[0]
        self._sync_prediction()
        self.draw_region()
        self.draw_weights()

    def _set_text(self, selector: str, text: str) -> None:
        set_text(self.query_one(selector, Static), text)

    def draw_region(self) -> None:
        """The decision regions at the size of their box, with the points over them."""
        if not self.is_mounted:
            return
        box = self.query_one("#mlp-region-box").size
        width, rows = box.width, box.height
        view = self.query_one("#mlp-region", PixelView)
        if width < 2 or rows < 1:
            return
        pixels, overlay = self.model.picture(self._region_key(width, rows))
        view.set_pixels(pixels)
        view.set_overlay(overlay)

    def _region_key(self, width: int, rows: int) -> tuple:
        return ("region", width, 2 * rows, self.show_test)

    def _weights_key(self) -> tuple:
        cols = max(2, (SIDE_WIDTH - 4) // 2)
        rows = max(2, self.query_one("#mlp-panel").size.height - 3)
        return ("weights", self.weight_layer, cols, rows)

    def _picture_keys(self) -> tuple:
        """The pictures a frame draws at the lab's present sizes (computed ahead with a step)."""
        box = self.query_one("#mlp-region-box").size
        region = () if box.width < 2 or box.height < 1 else (
            self._region_key(box.width, box.height),)
        return (*region, self._weights_key())

    def draw_weights(self) -> None:
        if not self.is_mounted:
            return
        layer = min(max(1, self.weight_layer), self.model.net.n_layers)
        self.weight_layer = layer
        shape, w_pixels, g_pixels = self.model.picture(self._weights_key())
        self._set_text("#mlp-weights-label",
                       f"layer {layer}/{self.model.net.n_layers}: W {shape[0]}×{shape[1]} "
                       "(out × in) , .")
        self.query_one("#mlp-w", PixelView).set_pixels(w_pixels)
        self.query_one("#mlp-g", PixelView).set_pixels(g_pixels)

    # --- predict first --------------------------------------------------------------------
    def on_key(self, event) -> None:
        """. and , stay the weight view's layer keys and + and - the speed keys while a question
        is asked (its answer, a number of steps, is typed with digits; the Lab base would start
        the answer with a point or a sign)."""
        if event.character in (".", ",", "+", "-") and self.has_focus:
            event.stop()
            event.prevent_default()
            if event.character in ".,":
                self.action_layer(1 if event.character == "." else -1)
            else:
                self.action_faster() if event.character == "+" else self.action_slower()

    def _sync_prediction(self) -> None:
        """At the step the lab opens at, ask how many steps make one epoch; once the student
        has trained on, an unanswered question shows its answer."""
        predict = self.query_one("#mlp-predict", PredictInput)
        m = self.model
        if m.state.step != self._opening:
            if predict.state == "asking":
                predict.reveal()
            return
        key, prompt, answer, explanation = m.question()
        ident = (prompt, self._opening)
        if predict.state == "asking" and self._asked == ident:
            return
        self._asked = ident
        predict.ask(key, prompt, answer, 0, explanation)

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        """The answer is recorded under its whole key (the kit's handler, which records a
        question kind, is not called)."""
        event.stop()
        event.prevent_default()
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))

    # --- stepping (the kit's, waiting for a head start); the student's move ends a kept count
    def step_forward(self) -> bool:
        if self.busy:
            return super().step_forward()  # says why it waits
        self.kept_step = None
        moved = super().step_forward()
        if not moved:
            self.request_redraw()  # the message says why (max_steps, diverged)
        return moved

    def step_back(self) -> bool:
        if not self.busy:
            self.kept_step = None
        return super().step_back()

    def reset_lab(self) -> None:
        if not self.busy:
            self.kept_step = None
        super().reset_lab()

    def advance(self, n: int) -> int:
        self.kept_step = None
        taken = super().advance(n)
        if taken < n:
            self.request_redraw()  # the message says why (max_steps, diverged)
        return taken

    def panel(self) -> str:
        """The side panel shown: "weights" or "settings"."""
        if not self.is_mounted:
            return self.params["view"]
        return self.query_one("#mlp-panel", ContentSwitcher).current.removeprefix("mlp-")

    def save_state(self) -> dict:
        """Every setting, the step (trained again from the seed on restore), the panel, the
        weights' layer and train/test points. While a saved state waits for its CSV file,
        that state (it is still what the student left)."""
        from tutor.labs.mlp.state import save

        if self._pending_restore is not None:
            return dict(self._pending_restore)
        return save(self)

    def restore_state(self, state: dict) -> None:
        """Put back a saved state. Its CSV file, unless read before, is read in a worker first
        (up to MAX_CSV_FILE_BYTES): meanwhile the lab shows what it showed, saying so, and the
        state comes back when the file is read (`on_data_file_read`)."""
        from tutor.labs.mlp.state import parse

        params = parse(state)["params"]  # raises on a damaged state: nothing changed yet
        if self._needs_reading(params):
            path = params["csv_path"]
            if not os.path.isfile(path):  # refused at once, as reading it would be
                raise ValueError(f"{path}: no such file")
            self.playing = False
            self.stop_ahead()
            self._pending, self._opening_read = None, False
            self._pending_restore = dict(state)
            self.note = f"loading {path.rsplit('/', 1)[-1]} …"
            self.redraw()  # at once: the note says why the lab waits
            read_data_file(self, path, read_points)
            return
        self._adopt_state(state)

    def _restore_read(self, saved: dict, error: str | None) -> None:
        """The CSV file of a saved state was read (the state comes back) or refused."""
        try:
            if error is not None:
                raise ValueError(error)
            self._adopt_state(saved)  # the file is in the cache now: nothing is read here
        except (ValueError, TypeError, KeyError) as exc:  # e.g. the file changed meanwhile
            self.note = f"✗ {exc}; the lab keeps the lesson's settings"
            self.request_redraw()

    def _adopt_state(self, state: dict) -> None:
        from tutor.labs.mlp.state import restore

        kept = restore(state)  # raises on a damaged state: nothing changed yet
        self.stop_ahead()
        self._pending_restore = None
        self.adopt(kept["params"], kept["model"], ())
        self.show_test, self.weight_layer = kept["show_test"], kept["layer"]
        self.query_one("#mlp-panel", ContentSwitcher).current = f"mlp-{kept['panel']}"
        self._show_settings()
        self._pending, self._opening_read = None, False
        self._opening = 0
        step, replay = kept["step"], kept["replay"]
        self.kept_step = step if replay < step else None
        if replay:
            note = f"training again up to step {replay}…"
            if replay < step:
                note += f" (step {step} was left: only the first {replay} are retrained)"
            self.start_training(replay, note)
        self.redraw()  # at once: the restored lab is drawn in the frame it is shown

    # --- lab keys ----------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        switcher = self.query_one("#mlp-panel", ContentSwitcher)
        switcher.current = "mlp-settings" if switcher.current == "mlp-weights" else "mlp-weights"

    def action_layer(self, delta: int) -> None:
        self.weight_layer = min(max(1, self.weight_layer + delta), self.model.net.n_layers)
        self.draw_weights()

    def action_toggle_points(self) -> None:
        self.show_test = not self.show_test
        self.request_redraw()

    def action_forward_many(self) -> None:
        self.playing = False
        if not self.waiting():
            self.advance(100)

    # --- editing -----------------------------------------------------------------------
    def apply_param(self, name: str, value) -> str | None:
        """Change one setting (the one place, with `apply_settings` for several at once)."""
        before = self.note
        if self.apply_settings(**{name: value}):
            return None
        return before if self.note == before else self.note

    def apply_settings(self, **changes) -> bool:
        """Rebuild the lab with changed parameters; on failure keep the old model and say why."""
        self._pending_restore = None  # the student changed the lab before a saved state came
        new = {**self.params, **changes}
        if self._needs_reading(new):
            self._pending = new
            self.note = f"loading {new['csv_path'].rsplit('/', 1)[-1]} …"
            read_data_file(self, new["csv_path"], read_points)
            self.request_redraw()
            return True
        self._pending = None
        try:
            model = self.model.changed(**changes)
        except ValueError as exc:
            self.note = f"✗ {exc}; kept the previous settings"
            self.request_redraw()
            return False
        self.playing = False
        self.cancel_training()  # a head start still training belongs to the old settings
        self.stop_ahead()
        self.kept_step = None
        self.params, self.model = dict(model.params), model
        self._opening, self.file_note = 0, ""
        self.note = "new settings: training restarts from the seed's initial weights"
        if new["optimizer"] == "newton":
            self.note += ("; newton solves with the full Hessian: on a non-convex network it "
                          "can leap far (a saddle attracts it)")
        self.request_redraw()
        return True

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        event.prevent_default()  # applied here, not by the kit's handler too
        if not self.apply_settings(**{event.name: event.value}):
            event.param_input.value = self.params[event.name]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._text_edited(event.input, event.value)

    def on_input_blurred(self, event: Input.Blurred) -> None:
        self._text_edited(event.input, event.value)

    def _text_edited(self, field: Input, text: str) -> None:
        if field.id == "mlp-hidden":
            try:
                widths = parse_hidden(text)
            except ValueError as exc:
                field.set_class(True, "-invalid")
                self.note = f"✗ {exc}; kept {self._hidden_text() or 'no hidden layer'}"
                self.request_redraw()
                return
            field.set_class(False, "-invalid")
            if widths != [int(w) for w in self.params["hidden"]]:
                self.apply_settings(hidden=[float(w) for w in widths])
        elif field.id == "mlp-csv":
            path = text.strip()
            if path != self.params["csv_path"] or self.params["dataset"] != "csv":
                if path:
                    self.apply_settings(csv_path=path, dataset="csv")


LAB_CLASS = MlpLab
