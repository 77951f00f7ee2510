"""The convolution lab widget: input, kernel and output side by side, and the chapter's views."""

from __future__ import annotations

import os

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static
from textual.widgets.input import Selection

from tutor.labs.base import Lab
from tutor.widgets.text import set_text
from tutor.labs.convolution import params as P
from tutor.labs.convolution import text as T
from tutor.labs.convolution.kernels import parse_weight
from tutor.labs.convolution.model import ConvModel, decode_image
from tutor.labs.datafiles import is_cached
from tutor.labs.kit import DataFileRead, FieldKeys, ModelLab, read_data_file
from tutor.labs.convolution.views import render_views
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls

MID_WIDTH = 32
CELL_WIDTH = 6
ONOFF = ("off", "on")

#: The settings each view shows: (parameter, label, kind).
SETTINGS = {
    "filter": ("image", "kernel", "kernel_size", "padding", "padding_mode", "stride", "relu", "bias"),
    "slide": ("image", "kernel", "kernel_size", "padding", "padding_mode", "stride", "relu", "bias"),
    "bank": ("image", "kernel_size", "padding", "padding_mode", "stride", "relu"),
    "stack": ("image", "kernel", "kernel_size", "layers", "relu"),
    "pool": ("image", "kernel", "pool", "pool_size", "shift", "relu"),
    "lenet": ("digit",),
}
#: Every setting of any view, composed once; a view shows its own (switching views mounts nothing).
ALL_SETTINGS = tuple(dict.fromkeys(key for keys in SETTINGS.values() for key in keys))
LABELS = {"kernel_size": "K", "padding": "P", "padding_mode": "pad mode", "stride": "S",
          "pool_size": "pool K", "relu": "ReLU", "bias": "bias b"}  # fmt: skip
INPUT_TITLES = {"filter": "input", "slide": "input (padded) · window", "bank": "input",
                "stack": "input · receptive field", "pool": "feature map · shifted", "lenet": "digit"}  # fmt: skip
OUTPUT_TITLES = {"filter": "output", "slide": "output so far", "bank": "activation maps",
                 "stack": "after L layers", "pool": "pooled · pooled shifted", "lenet": "C1 (6) · C3 (16)"}  # fmt: skip


class ImageBox(Vertical):
    """A pixel panel's box. Whenever a layout pass gives it a new size, the lab draws its images
    again to fit: also when the lab itself keeps its size and only its settings or step
    controls grew or shrank (a later pass after a terminal resize), which no Resize of the lab
    would tell."""

    def on_resize(self) -> None:
        self.query_ancestor(ConvolutionLab).draw_images_soon()


class ConvolutionLab(FieldKeys, ModelLab):
    """Apply kernels to images and see each output pixel's sum, banks, stacks, pooling, LeNet-5.

    Keys: n/b step the view forward/back (window position, preset, layer, shift or digit),
    arrows move the window or the chosen pixel, , and . remove/add a layer, k next kernel
    preset, v next view, a reveals the sliding-window sum, escape returns from a field to the lab
    keys. Keys the lesson screen and the app use ([ ] d f escape ?) pass through when the lab
    does not need them.
    """

    DEFAULT_CSS = """
    ConvolutionLab {
        layout: vertical;
        & #conv-title { height: 1; color: $text-muted; }
        & #conv-main { height: 1fr; }
        & .conv-panel { width: 1fr; min-width: 8; }
        & .conv-panel > Static { height: 1; color: $text-muted; }
        & .conv-box { height: 1fr; align: center top; }
        & #conv-mid { width: %d; padding: 0 1; }
        & #conv-grid { height: auto; }
        & .conv-row { height: 1; }
        & .conv-cell { width: %d; height: 1; }
        & .conv-cell.-invalid { color: $text-error; }
        & #conv-info { height: auto; }
        & #conv-settings { height: auto; grid-size: 3; grid-gutter: 0 1; }
        & #conv-settings ParamInput .param-input--label { min-width: 9; }
        & #conv-path-row { height: 1; }
        & #conv-path-row > Static { width: 9; }
        & #conv-path { width: 1fr; }
        & #conv-message { height: auto; color: $text-warning; }
    }
    """ % (MID_WIDTH, CELL_WIDTH)

    BINDINGS = [
        Binding("left", "move(0, -1)", "←", show=False),
        Binding("right", "move(0, 1)", "→", show=False),
        Binding("up", "move(-1, 0)", "↑", show=False),
        Binding("down", "move(1, 0)", "↓", show=False),
        Binding("comma", "layers(-1)", "Layer -", show=False),
        Binding("full_stop", "layers(1)", "Layer +", show=False),
        Binding("k", "next_kernel", "Kernel"),
        Binding("x", "flip_kernel", "Flip 180°"),
        Binding("p", "predict", "Predict"),
        Binding("v", "next_view", "View"),
        Binding("a", "reveal", "Reveal the answer", show=False),
        Binding("escape", "focus_lab", "Lab keys", show=False),
    ]

    lab_name = "convolution"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.note = ""
        self._pending_path: str | None = None  # a file being decoded by a worker
        self._pending_restore: dict | None = None  # a saved state waiting for that file
        path, size = self.params["path"], int(self.params["size"])
        if path and self.params["view"] != "lenet" and not is_cached(decode_image, path, size):
            # The lesson's own image is decoded in a worker (a large file takes seconds, a
            # device is refused): the lab opens on the built-in picture meanwhile.
            self._pending_path = path
            self.note = f"loading {path.rsplit('/', 1)[-1]} …"
            self.params["path"] = ""
        try:
            self.model = ConvModel(self.params)
        except ValueError as exc:  # e.g. a missing image file: fall back to the built-in scene
            self.note = f"✗ {exc}; showing the built-in scene"
            self.params.update(path="", image="scene")
            self.model = ConvModel(self.params)
        self.params = dict(self.model.params)
        self.revealed: set[tuple[int, int]] = set()
        self._draw_due = False  # a drawing of the images waits for the layout (`draw_images_soon`)

    # --- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        view = self.model.view
        yield Static("", id="conv-title", markup=False)
        with Horizontal(id="conv-main"):
            with Vertical(classes="conv-panel"):
                yield Static(INPUT_TITLES[view], id="conv-in-title", markup=False)
                with ImageBox(classes="conv-box", id="conv-in-box"):
                    yield PixelView(id="conv-in")
            with VerticalScroll(id="conv-mid", can_focus=False):
                yield Static("kernel w (edit a cell, enter)", id="conv-grid-label", markup=False)
                with Vertical(id="conv-grid"):
                    for r in range(5):
                        with Horizontal(classes="conv-row", id=f"conv-row-{r}"):
                            for c in range(5):
                                yield Input("", id=f"conv-cell-{r}-{c}", classes="conv-cell", compact=True)
                yield Static("", id="conv-info", markup=False)
                yield PredictInput(id="conv-predict")
            with Vertical(classes="conv-panel"):
                yield Static(OUTPUT_TITLES[view], id="conv-out-title", markup=False)
                with ImageBox(classes="conv-box", id="conv-out-box"):
                    yield PixelView(id="conv-out")
        with Grid(id="conv-settings"):
            yield ParamInput("view", "view", view, "choice", choices=P.VIEWS)
            for key in ALL_SETTINGS:
                field = self._param_input(key)
                field.display = key in SETTINGS[view]
                yield field
        with Horizontal(id="conv-path-row") as row:
            row.display = view == "filter"
            yield Static("file", markup=False)
            yield Input(self.params["path"], placeholder="your image: .pgm .ppm .png .jpg, enter",
                        id="conv-path", compact=True)  # fmt: skip
        yield Static("", id="conv-message", markup=False)
        yield StepControls(id="conv-controls")

    def _param_input(self, key: str) -> ParamInput:
        spec = P.PARAMS[key]
        label = LABELS.get(key, key)
        value = self.params[key]
        if spec.kind == "bool":
            return ParamInput(key, label, ONOFF[bool(value)], "choice", choices=ONOFF)
        if spec.kind == "str":
            return ParamInput(key, label, value, "choice", choices=spec.choices)
        return ParamInput(key, label, value, spec.kind, min=spec.min, max=spec.max,
                          step=1 if spec.kind == "int" else 0.5)  # fmt: skip

    def on_mount(self) -> None:
        super().on_mount()
        if self._pending_path:
            read_data_file(self, self._pending_path, decode_image, int(self.params["size"]))

    def draw_images_soon(self) -> None:
        """Draw the images once the layout under way is done (both boxes resized in one pass
        draw once)."""
        if not self._draw_due:
            self._draw_due = True
            self.call_after_refresh(self._draw_due_images)

    def _draw_due_images(self) -> None:
        self._draw_due = False
        self.draw_images()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Let escape (`FieldKeys`) and ? reach the lesson screen and the app when the lab has
        no use for them."""
        if action == "reveal":
            return self.model.view == "slide"
        if action == "layers":
            return self.model.view == "stack"
        if action == "flip_kernel":
            return self.model.view in ("filter", "slide")
        if action == "predict":
            return self.model.view == "slide"
        return super().check_action(action, parameters)

    # --- drawing -------------------------------------------------------------------------
    def redraw(self) -> None:
        """Bring every part of the lab up to the model's state (skipped while recomposing)."""
        if not self.is_mounted:
            return
        try:
            self._redraw()
        except NoMatches:  # a view switch is recomposing the children; it redraws after
            return

    def _redraw(self) -> None:
        m = self.model
        set_text(self.query_one("#conv-title", Static), self._title())
        self._show_kernel_grid()
        set_text(self.query_one("#conv-info", Static), self._info())
        set_text(self.query_one("#conv-message", Static), self.note)
        self.query_one(StepControls).status = m.status()
        self._ask_prediction()
        self.draw_images()

    def _title(self) -> str:
        m, p = self.model, self.params
        if m.view == "lenet":
            return f"lenet · digit {m.digit()} · 1×32×32 → 10 scores · untrained LeNet-5"
        img = p["path"].rsplit("/", 1)[-1] if p["path"] else p["image"]
        h, w = m.image.shape
        return f"{m.view} · image {img} {h}×{w} · K={m.k} P={p['padding']} ({p['padding_mode']}) S={p['stride']}"

    def _show_kernel_grid(self) -> None:
        m = self.model
        shown = m.view not in ("bank", "pool", "lenet")
        self.query_one("#conv-grid").display = shown
        self.query_one("#conv-grid-label").display = shown
        if not shown:
            return
        kernel = m.current_kernel()
        for r in range(5):
            self.query_one(f"#conv-row-{r}").display = r < m.k
            for c in range(5):
                field = self.query_one(f"#conv-cell-{r}-{c}", Input)
                field.display = c < m.k
                if r < m.k and c < m.k and not field.has_focus:
                    # the same length in every cell: Input asks for a layout pass of the whole
                    # screen whenever the length of its text (its virtual width) changes
                    # (no Input.Changed: nothing listens, and nine messages a frame bubbling
                    # up to the app cost more than the step)
                    with field.prevent(Input.Changed):
                        field.value = T.cell(kernel[r, c], CELL_WIDTH).strip().ljust(CELL_WIDTH)
                    field.remove_class("-invalid")

    def _info(self) -> str:
        m = self.model
        v = m.view
        if v == "slide":
            w = m.window()
            return T.slide_text(m, w, (w.i, w.j) in self.revealed)
        if v == "bank":
            return T.bank_text(m, m.bank())
        if v == "stack":
            return T.stack_text(m)
        if v == "pool":
            return T.pool_text(m, m.pooling())
        if v == "lenet":
            return T.lenet_text(m, m.lenet()[2])
        return T.filter_text(m, m.convolve())

    def _ask_prediction(self) -> None:
        predict = self.query_one(PredictInput)
        if self.model.view != "slide":
            predict.display = False
            return
        predict.display = True
        w = self.model.window()
        key = f"pixel-{w.i}-{w.j}"
        if predict.key == key:
            return
        if (w.i, w.j) in self.revealed:
            predict.clear()
            return
        predict.ask(key, f"y[{w.i},{w.j}] = ?", w.output, 0.01 + 0.02 * abs(w.output),
                    "Sum the products, then add b" + (" and apply ReLU." if self.params["relu"] else "."))  # fmt: skip

    def _panel_size(self, box_id: str) -> tuple[int, int]:
        box = self.query_one(box_id).size
        return max(box.width, 1), max(2 * box.height, 2)

    def draw_images(self) -> None:
        """Both pixel panels at the size of their boxes."""
        if not self.is_mounted:
            return
        try:
            left, right = self.query_one("#conv-in", PixelView), self.query_one("#conv-out", PixelView)
        except NoMatches:
            return
        (lw, lh), (rw, rh) = self._panel_size("#conv-in-box"), self._panel_size("#conv-out-box")
        if lw < 2 or rw < 2:
            return
        a, b = render_views(self.model, lw, lh, rw, rh)
        left.set_pixels(a)
        right.set_pixels(b)

    # --- Lab interface -------------------------------------------------------------------
    def reset_lab(self) -> None:
        super().reset_lab()
        self.revealed.clear()

    def save_state(self) -> dict:
        """Every setting (with an edited kernel and the student's file), the view's step and
        the stack view's pixel; the answered windows are not kept. While a saved state waits
        for its image file, that state (it is still what the student left)."""
        from tutor.labs.convolution.state import save

        if self._pending_restore is not None:
            return dict(self._pending_restore)
        return save(self.model)

    def restore_state(self, state: dict) -> None:
        """Put back a saved state. Its image file, unless cached, is decoded in a worker first
        (a large file takes seconds): meanwhile the lab shows what it showed, saying so, and
        the state comes back when the file is read (`on_data_file_read`)."""
        from tutor.labs.convolution.state import image_file, parse, restore

        params, _, _ = parse(state)  # raises on a damaged state: nothing changed yet
        path, size = image_file(params), int(params["size"])
        if path and not is_cached(decode_image, path, size):
            if not os.path.isfile(path):  # refused at once, as a decode would
                raise ValueError(f"{path}: no such image file")
            self.playing = False
            self._pending_path, self._pending_restore = path, dict(state)
            self.note = f"loading {path.rsplit('/', 1)[-1]} …"
            set_text(self.query_one("#conv-message", Static), self.note)
            read_data_file(self, path, decode_image, size)
            return
        self._adopt(restore(state))  # the image is cached: nothing is decoded here

    def _adopt(self, model: ConvModel) -> None:
        """Show a restored model (its fields, its view)."""
        self.playing = False
        old_view = self.model.view
        self.model, self.params = model, dict(model.params)
        self.revealed.clear()
        self.note = ""
        self._pending_path = self._pending_restore = None
        self._sync_fields()
        self.query_one("#conv-path", Input).value = self.params["path"]
        if model.view != old_view:
            self._show_view()
        self.request_redraw()

    # --- keys ----------------------------------------------------------------------------
    def action_move(self, dr: int, dc: int) -> None:
        if self.model.move(dr, dc):
            self.params = dict(self.model.params)  # the sliding window's start row and col
            self.request_redraw()

    def action_layers(self, delta: int) -> None:
        if self.model.view == "stack":
            layers = min(max(int(self.params["layers"]) + delta, 1), 6)
            self.apply_param("layers", layers)

    def action_next_kernel(self) -> None:
        names = P.PRESETS
        current = self.params["kernel"]
        nxt = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        self.apply_param("kernel", nxt)

    def action_flip_kernel(self) -> None:
        """Rotate the kernel by 180°: cross-correlating with it is the notes' convolution."""
        flipped = self.model.current_kernel()[::-1, ::-1]
        self.apply_param("weights", flipped.tolist())
        self.note = "kernel rotated by 180°: the output is now the notes' convolution (x again undoes it)"
        set_text(self.query_one("#conv-message", Static), self.note)

    def action_next_view(self) -> None:
        self.apply_param("view", P.VIEWS[(P.VIEWS.index(self.model.view) + 1) % len(P.VIEWS)])

    def action_reveal(self) -> None:
        if self.model.view == "slide":
            w = self.model.window()
            self.revealed.add((w.i, w.j))
            self.query_one(PredictInput).reveal()
            set_text(self.query_one("#conv-info", Static), self._info())

    def on_key(self, event: events.Key) -> None:
        """In the sliding window, typing a number answers the question: a first digit (or .)
        moves into the prediction field, no tabbing past the kernel cells (the Lab base does the
        same for a sign)."""
        char = event.character
        if self.has_focus and self.model.view == "slide" and char and char in "0123456789.":
            if self._start_prediction(char):
                event.stop()
                event.prevent_default()

    def _start_prediction(self, text: str) -> bool:
        return self.query_one(PredictInput).start_answer(text)

    def action_predict(self) -> None:
        self._start_prediction("")

    # --- editing -------------------------------------------------------------------------
    def apply_param(self, name: str, value) -> str | None:
        """Change one setting through the model (rebuilt from the new settings); on failure
        the model keeps its state and the note says why."""
        old_view = self.model.view
        refused = self.model.apply(name, value)
        if refused is not None:
            self.note = f"✗ {refused}"
            self.request_redraw()
            return refused
        self.playing = False
        self.params = dict(self.model.params)
        self.revealed.clear()
        self.note = ""
        self._pending_restore = None  # the student changed the lab before the state came back
        self._sync_fields()
        if self.model.view != old_view:
            self._show_view()
        self.request_redraw()
        return None

    def _sync_fields(self) -> None:
        """Show the parameters in use (keys such as k, , . and x change them too)."""
        for field in self.query(ParamInput):
            value = self.params.get(field.param_name)
            shown = ONOFF[bool(value)] if isinstance(value, bool) else value
            if value is not None and field.value != shown:
                field.value = shown

    def _show_view(self) -> None:
        """The settings, titles and footer keys of the current view (no widget is mounted)."""
        view = self.model.view
        for field in self.query(ParamInput):
            if field.param_name != "view":
                field.display = field.param_name in SETTINGS[view]
        self.query_one("#conv-path-row").display = view == "filter"
        set_text(self.query_one("#conv-in-title", Static), INPUT_TITLES[view])
        set_text(self.query_one("#conv-out-title", Static), OUTPUT_TITLES[view])
        self.refresh_bindings()
        self.draw_images_soon()  # the panels change size with the settings

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        value = event.value
        if P.PARAMS[event.name].kind == "bool":
            value = value == "on"
        if self.apply_param(event.name, value) is not None:
            old = self.params[event.name]
            event.param_input.value = ONOFF[bool(old)] if isinstance(old, bool) else old
            return
        self.back_to_lab(event.param_input)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._edited(event.input, event.value):
            self.back_to_lab(event.input)

    def on_input_blurred(self, event: Input.Blurred) -> None:
        self._edited(event.input, event.value)
        if _is_cell(event.input):
            event.input.scroll_to(0, animate=False, immediate=True)  # its number back in view

    def on_descendant_focus(self, event) -> None:
        """A kernel cell taking the focus shows its number without the padding that keeps
        every cell the same length: with it, the selected text and the cursor after it were
        wider than the cell, which scrolled its number out of view (the cell looked empty)."""
        field = event.widget
        if not _is_cell(field):
            return
        text = field.value.strip()
        if text != field.value:
            with field.prevent(Input.Changed):
                field.value = text
        field.selection = Selection(0, len(text))  # typing replaces it, as before
        field.scroll_to(0, animate=False, immediate=True)

    def _edited(self, field: Input, text: str) -> bool:
        """Apply a kernel cell or the file field; True when the text was accepted."""
        if field.id == "conv-path":
            path = text.strip()
            if path == self.params["path"] or path == self._pending_path:
                return True
            self._pending_restore = None  # another file: a saved state waiting is dropped
            if not path:
                self._pending_path = None
                return self.apply_param("path", "") is None
            self._pending_path = path
            self.note = f"loading {path.rsplit('/', 1)[-1]} …"
            set_text(self.query_one("#conv-message", Static), self.note)
            read_data_file(self, path, decode_image, int(self.params["size"]))
            return True
        if not field.id or not field.id.startswith("conv-cell-"):
            return False
        r, c = map(int, field.id.rsplit("-", 2)[1:])
        try:
            value = parse_weight(text)
        except ValueError as exc:
            field.add_class("-invalid")
            self.note = f"✗ cell ({r}, {c}): {exc}; kept {T.cell(self.model.current_kernel()[r, c]).strip()}"
            set_text(self.query_one("#conv-message", Static), self.note)
            return False
        field.remove_class("-invalid")
        kernel = self.model.current_kernel().copy()
        if r >= kernel.shape[0] or c >= kernel.shape[1] or kernel[r, c] == value:
            return True
        kernel[r, c] = value
        return self.apply_param("weights", kernel.tolist()) is None

    def on_data_file_read(self, event: DataFileRead) -> None:
        """The image file a worker decoded (into read_image's cache) or refused: a saved state
        waiting for it comes back, or the file becomes the lab's image."""
        event.stop()
        if event.path != self._pending_path:  # the student typed another file meanwhile
            return
        self._pending_path = None
        saved, self._pending_restore = self._pending_restore, None
        if event.error is None and saved is not None:
            from tutor.labs.convolution.state import restore

            try:
                model = restore(saved)  # the file is cached now: nothing is decoded here
            except (ValueError, TypeError, KeyError) as exc:  # e.g. the file changed meanwhile
                self.note = f"✗ {exc}; the lab keeps the lesson's settings"
                set_text(self.query_one("#conv-message", Static), self.note)
                return
            self._adopt(model)
            return
        if event.error is not None:
            shown = self.params["path"].rsplit("/", 1)[-1] or f"the built-in {self.params['image']}"
            self.note = f"✗ {event.error}; kept {shown}"
            set_text(self.query_one("#conv-message", Static), self.note)
            return
        self.apply_param("path", event.path)

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        event.stop()
        w = self.model.window()
        self.revealed.add((w.i, w.j))
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))
        set_text(self.query_one("#conv-info", Static), self._info())


def _is_cell(widget) -> bool:
    """Whether `widget` is one of the kernel's cells."""
    return isinstance(widget, Input) and bool(widget.id) and widget.id.startswith("conv-cell-")


LAB_CLASS = ConvolutionLab
