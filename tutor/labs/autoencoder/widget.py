"""The autoencoder lab widget: layout and drawing of the linear AE vs PCA, and of the digit
autoencoders (plain, denoising, VAE) whose training runs in a thread worker."""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tutor.labs.autoencoder import pictures as pic
from tutor.labs.autoencoder.digits_model import DigitsModel
from tutor.labs.autoencoder.model import AutoencoderModel
from tutor.labs.autoencoder.pages import page_pixels
from tutor.labs.autoencoder.params import PARAMS, VIEW_PAGES, VIEWS
from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import BLUE, ORANGE
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView, ascii_mode_active
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

ADVANCE_CHUNK = 5
"""Training steps a worker takes between two looks at whether it was cancelled (~0.1 s)."""

SIDE_WIDTH = 30
CURVE_COLORS = {"−log p(x|z)": BLUE, "KL": ORANGE}
#: The settings each view shows: (parameter, label, nudge step).
VIEW_SETTINGS = {
    "pca": (("cloud", "cloud", None), ("k", "code size k", 1), ("lr_linear", "lr η", 0.05)),
    "ae": (("latent", "code size", 1), ("lr", "Adam lr", 0.001), ("hidden", "hidden", 8)),
    "denoise": (("noise", "noise σ , .", 0.05), ("latent", "code size", 1)),
    "vae": (("beta", "β , .", 0.25), ("latent", "code size", 1)),
}
PAGE_TITLES = {  # at most 46 columns: the picture's width beside a lesson
    "recon": "top: inputs x · below: x̂ = decoder(μ(x))",
    "denoise": "each row: noisy input · output · clean target",
    "interp": "a · x̂ along μ(a) → μ(b) · b (i: new pair)",
    "grid": "the latent plane decoded (z₁ right, z₂ up)",
    "samples": "x̂ = decoder(z), z ~ N(0, I) (s: new draw)",
    "reparam": "z = μ + σ⊙ε · e: next · s: new ε · i: digit",
}


def _vec(v) -> str:
    """The first two numbers of a code (and … when there are more)."""
    v = np.ravel(v)
    more = ", …" if v.size > 2 else ""
    return "(" + ", ".join(f"{float(x):.2f}" for x in v[:2]) + more + ")"


class AutoencoderLab(FieldKeys, ModelLab):
    """Linear autoencoder vs PCA, and autoencoders, denoising and VAEs on the digits.

    Keys: v next view · p next panel page · ←↑↓→ move the latent cursor (decoded live) ·
    i another digit pair / digit · s new samples / ε · e next piece of the reparameterization ·
    , and . turn the 3-D cloud, or lower / raise the noise or β · g 50 steps.

    The pca view steps on the UI thread (the kit's glue). The digit views train in a thread
    worker of the lab's own: stepping back and resetting restore a checkpoint and replay, so
    n, b and r are all jobs for it, and keys pressed while it works wait in a queue (`pending`)
    instead of being refused.
    """

    DEFAULT_CSS = """
    AutoencoderLab {
        layout: vertical;
        & #ae-title { height: 1; color: $text; text-style: bold; padding: 0 1; }
        & #ae-body { height: 1fr; }
        & #ae-left { width: 1fr; min-width: 10; }
        & #ae-page-title { height: 1; color: $text-muted; padding: 0 1; }
        & #ae-page-box { height: 1fr; padding: 0 1; }
        & #ae-chart { height: 7; min-height: 4; }
        & #ae-side { width: %d; padding: 0 0 0 1; background: $panel;
                     scrollbar-size-vertical: 1; }
        & #ae-scatter-box { height: 12; }
        & #ae-legend { height: 1; }
        & #ae-cursor-row { height: 8; }
        & #ae-cursor-text { width: 1fr; padding: 0 0 0 1; color: $text-muted; }
        & #ae-info { height: auto; }
        & #ae-message { height: auto; color: $text-warning; }
        & ParamInput .param-input--label { min-width: 12; }
        &.-pca #ae-scatter-box, &.-pca #ae-legend, &.-pca #ae-cursor-row { display: none; }
        &.-reparam #ae-cursor-row { display: none; }
    }
    """ % SIDE_WIDTH

    BINDINGS = [
        Binding("v", "next_view", "View"),
        Binding("p", "next_page", "Page"),
        Binding("up", "move(0, 1)", "Cursor up", show=False),
        Binding("down", "move(0, -1)", "Cursor down", show=False),
        Binding("left", "move(-1, 0)", "Cursor left", show=False),
        Binding("right", "move(1, 0)", "Cursor right", show=False),
        Binding("i", "next_item", "Another digit/pair", show=False),
        Binding("s", "new_draw", "New samples/ε", show=False),
        Binding("e", "reparam_stage", "Next piece of z", show=False),
        Binding("comma", "knob(-1)", "Turn / lower noise or β", show=False),
        Binding("full_stop", "knob(1)", "Turn / raise noise or β", show=False),
        Binding("g", "go_many", "Go 50 steps", show=False),
        Binding("escape", "focus_lab", "Back to the lab", show=False),
    ]

    lab_name = "autoencoder"

    class Trained(Message):
        """The training worker finished a job: `moved` steps were taken out of `asked`."""

        def __init__(self, model, moved: int, asked: int) -> None:
            super().__init__()
            self.model = model
            self.moved = moved
            self.asked = asked

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.note = ""
        try:
            self.model = AutoencoderModel(self.params)
        except ValueError as exc:  # a lesson asked for something impossible: the defaults
            self.note = f"✗ {exc}; showing the default settings"
            self.model = AutoencoderModel({k: p.default for k, p in PARAMS.items()})
        self.busy = False
        self.pending: list = []  # jobs (n, b, r) asked while the worker trained, in order
        self.answered: set[str] = set()
        self.cursor = np.zeros(2)
        self.pair_n = 2  # the interpolation pair (a 2 and a 7 first)
        self.item = 0  # the reparameterized digit
        self.draw = 0  # the draw of ε and of the prior samples
        self.stage = 0  # how much of z = μ + σ ⊙ ε is shown
        self.head_start = int(self.params["steps"])
        self._target: int | None = None  # the step a restore's worker retrains towards
        self._kept = None  # (model, steps replayed, steps saved) of a shortened restore

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="ae-title", markup=False)
        with Horizontal(id="ae-body"):
            with Vertical(id="ae-left"):
                yield Static("", id="ae-page-title", markup=False)
                with Vertical(id="ae-page-box"):
                    yield PixelView(id="ae-page")
                yield LineChart(id="ae-chart", x_label="step")
            with VerticalScroll(id="ae-side", can_focus=False):
                with Vertical(id="ae-scatter-box"):
                    yield PixelView(id="ae-scatter")
                yield Static("", id="ae-legend")
                with Horizontal(id="ae-cursor-row"):
                    yield PixelView(id="ae-cursor")
                    yield Static("", id="ae-cursor-text", markup=False)
                yield Static("", id="ae-info", markup=False)
                yield PredictInput(id="ae-predict")
                yield Static("", id="ae-message", markup=False)
                for name, (key, label, step) in self._settings_fields():
                    spec = PARAMS[key]
                    kind = "choice" if spec.choices else spec.kind
                    yield ParamInput(key, label, self.model.params[key], kind, min=spec.min,
                                     max=spec.max, choices=spec.choices, step=step, id=name)
        yield StepControls(id="ae-controls")

    def _settings_fields(self):
        seen = set()
        for view in VIEWS:
            for key, label, step in VIEW_SETTINGS[view]:
                if key not in seen:
                    seen.add(key)
                    yield f"ae-set-{key}", (key, label, step)

    def on_mount(self) -> None:
        # (ModelLab.on_mount, which starts the playback timer and asks for the first redraw,
        # runs too: Textual calls each class's.)
        if self.head_start and self.model.view != "pca":
            self.note = f"training the first {self.head_start} steps…"
            self._start(("advance", self.head_start))
        elif self.head_start:
            self.model.advance(self.head_start)

    def on_resize(self) -> None:
        self.request_redraw()

    # --- the worker --------------------------------------------------------------------------
    def _start(self, job) -> None:
        """Run `job` ("step", "back", "reset" or ("advance", n)) on the model in a thread."""
        self.busy = True
        model = self.model.current
        self.run_worker(lambda: self._work(model, job), thread=True, exclusive=True,
                        group="ae-train", exit_on_error=False)

    def _work(self, model: DigitsModel, job) -> None:
        """(Thread worker.) Only this thread touches the view model until it posts Trained."""
        asked, moved = 1, 0
        if job == "step":
            moved = int(model.step())
        elif job == "back":
            moved = int(model.back())
        elif job == "reset":
            model.reset()
        else:
            asked = job[1]
            moved = self._advance_unless_cancelled(model, asked)
            if moved is None:
                return  # the lab was left, or its settings changed: nothing to show
        self.post_message(self.Trained(model, moved, asked))

    @staticmethod
    def _advance_unless_cancelled(model: DigitsModel, n: int) -> int | None:
        """(Thread worker.) `model.advance(n)`, `ADVANCE_CHUNK` steps at a time, stopping
        (None) as soon as the worker is cancelled: a head start or a restore's replay (up to
        ~2 s) does not run on after the student moved on."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        moved = 0
        while moved < n:
            if worker.is_cancelled:
                return None
            want = min(ADVANCE_CHUNK, n - moved)
            taken = model.advance(want)
            moved += taken
            if taken < want:
                break  # the end (max_steps) or a diverged step
        return moved

    def _queue(self, job) -> None:
        """Run `job` now, or after the worker's current job (keys pressed quickly all count;
        at most 20 wait)."""
        if not self.busy:
            self._start(job)
        elif len(self.pending) < 20:
            self.pending.append(job)

    def on_autoencoder_lab_trained(self, message: Trained) -> None:
        message.stop()
        if message.model is not self.model.current:  # the settings changed meanwhile
            return
        self.busy = False
        self._target = None
        if self.note.startswith("training the first"):
            self.note = ""
        if message.moved < message.asked:
            self.playing = False
        if self.pending:
            self._start(self.pending.pop(0))
            return
        self.request_redraw()

    def on_lab_error(self, error: Exception) -> None:
        """A failed training job (reported by the base class) frees the lab's keys again."""
        self.busy = False
        self.pending = []
        self.request_redraw()

    def _digits(self) -> bool:
        return isinstance(self.model.current, DigitsModel)

    def _replaying(self) -> bool:
        """The pca view's steps are taken on the UI thread, except while a restore's worker
        replays them: keys wait (the digit views queue theirs behind the worker's job)."""
        if self.busy and not self._digits():
            self.notify("retraining the steps you had taken…", timeout=2)
            return True
        return False

    # --- the lab as the student left it -----------------------------------------------------
    def save_state(self) -> dict:
        """View, page, settings, step, cursor and panel choices (see
        tutor.labs.autoencoder.state for what is retrained and what is not kept)."""
        from tutor.labs.autoencoder.state import save

        target, kept = (self._target if self.busy else None), self._kept
        current = self.model.current
        if kept and kept[0] is current and self.model.index == kept[1]:
            target = kept[2]  # not moved since: the longer run stays saved
        return save(self.model, self.cursor, self.pair_n, self.item, self.draw, self.stage,
                    self.answered, target)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.autoencoder.state import parse

        restored = parse(state, self.head_start)  # raises before anything changes
        self.playing = False
        self.workers.cancel_group(self, "ae-train")  # its result is for the old model: ignored
        self.model = restored.model
        self.cursor = np.array(restored.cursor, dtype=float)
        self.pair_n, self.item, self.draw = restored.pair_n, restored.item, restored.draw
        self.stage, self.answered = restored.stage, restored.answered
        self.note = restored.note
        self.busy, self.pending, self._target = False, [], None
        self._kept = (restored.model.current, restored.replay, restored.target)
        for field in self.query(ParamInput):
            field.value = self.model.params[field.param_name]
        if restored.replay:
            self._target = restored.target
            self._start(("advance", restored.replay))
        self.redraw()  # at once: the restored lab is drawn before anything else happens

    # --- stepping: the pca view through the kit, the digit views in the worker ----------------
    # In the pca view a step that does not move still redraws: the model's message says why
    # (max_steps reached, diverged), and going back clears it.
    def step_forward(self) -> bool:
        if self._replaying():
            return False
        if not self._digits():
            moved = super().step_forward()
            self.request_redraw()
            return moved
        self._queue("step")
        return True

    def _tick(self) -> None:
        if self._replaying():
            self.playing = False
            return
        if not self._digits():
            n = max(1, int(self.fps // 10))
            taken = self.advance(n)
            self.request_redraw()
            if taken < n:
                self.playing = False
            return
        if not self.busy:  # one job at a time; a slow machine just plays slower
            self._start(("advance", max(1, int(self.fps // 10))))

    def step_back(self) -> bool:
        if self._replaying():
            return False
        if not self._digits():
            moved = super().step_back()
            self.request_redraw()
            return moved
        self._queue("back")
        return True

    def reset_lab(self) -> None:
        if self._replaying():
            return
        self.stage = 0
        if not self._digits():
            super().reset_lab()
        else:
            self.pending = []  # a reset makes the steps asked before it moot
            self._queue("reset")

    # --- drawing ---------------------------------------------------------------------------
    def _text(self, selector: str, text) -> None:
        set_text(self.query_one(selector, Static), text)

    def redraw(self) -> None:
        m = self.model
        if self.has_class("-pca") != (m.view == "pca"):  # panels appear: draw once laid out
            self.request_redraw()
        self.set_class(m.view == "pca", "-pca")
        self.set_class(m.params["page"] == "reparam", "-reparam")
        busy = " · training…" if self.busy else ""
        self._ask()
        status = m.status(self._hiding_loss())
        self._text("#ae-title", f"{m.view}: {status}{busy}")
        self._text("#ae-message", self.note or m.message)
        for field in self.query(ParamInput):
            field.display = any(k == field.param_name for k, _, _ in VIEW_SETTINGS[m.view])
        if m.view == "pca":
            self._draw_pca()
        else:
            self._draw_digits()
        self.query_one(StepControls).status = m.status().split(" · ")[0]

    def _page_size(self) -> tuple[int, int]:
        box = self.query_one("#ae-page-box").content_size
        return max(0, box.width), max(0, box.height)

    # pca view
    def _draw_pca(self) -> None:
        pm = self.model.current
        s = pm.state
        cloud = pm.params["cloud"]
        # short enough for the picture's width beside a lesson (about 48 columns)
        self._text("#ae-page-title", f"{cloud.upper()} · green: PCA · orange: decoder"
                   + (" · , . turn" if pm.D == 3 else ""))
        width, rows = self._page_size()
        view = self.query_one("#ae-page", PixelView)
        if width >= 2 and rows >= 1:
            bg = np.empty((2 * rows, width, 3), dtype=np.uint8)
            bg[:] = pic.BACKGROUND
            view.set_pixels(bg)
            principal, learned = pm.directions()
            residuals = None
            if pm.D == 2:
                xs = pm.X[::10]
                xc = xs - pm.mean
                residuals = (xs, pm.mean + xc @ s.encoder.T @ s.decoder.T)
            view.set_overlay(pic.cloud_overlay(pm.X, pm.mean, principal, learned,
                                               pm.eigenvalues, width, rows,
                                               pm.params["azimuth"], residuals))
        steps, angle, loss = pm.curves()
        chart = self.query_one("#ae-chart", LineChart)
        chart.title = "largest angle to PCA (°)"
        chart.log_y = False
        chart.set_series([Series("angle°", angle, x=steps, color=pic.LEARNED)])
        lam = ", ".join(f"{v:.3f}" for v in pm.eigenvalues)
        predict = self.query_one(PredictInput)
        asking = predict.state == "asking" and predict.key == pm.question()[0]
        floor = "? (predict first)" if asking else f"{pm.floor:.4f}"
        angles = ", ".join(f"{a:.2f}°" for a in s.angles)
        self._text("#ae-info", f"x̂ = W_d W_e x, k = {pm.k}, D = {pm.D}\n"
                   f"λ = {lam}\nstep {s.step}  loss {s.loss:.4f}\nPCA floor {floor}\n"
                   f"angle {angles}")

    # digit views
    def _draw_digits(self) -> None:
        dm: DigitsModel = self.model.current
        page = self.model.params["page"]
        self._text("#ae-page-title", PAGE_TITLES.get(page, ""))
        width, rows = self._page_size()
        view = self.query_one("#ae-page", PixelView)
        view.clear_overlay()
        if width >= 8 and rows >= 4:
            view.set_pixels(page_pixels(dm, page, width, 2 * rows, self.pair_n, self.item,
                                        self.draw, self.stage))
        curves = {} if self._hiding_loss() else dm.curves()  # the answer waits for the guess
        chart = self.query_one("#ae-chart", LineChart)
        chart.title = "loss terms (evaluation digits)"
        chart.log_y = dm.view == "vae"
        chart.x_label = "batches"
        chart.set_series([Series(name, v, x=t, color=CURVE_COLORS[name])
                          for name, (t, v) in curves.items()])
        self._draw_scatter(dm)
        self._draw_info(dm, page)

    def _draw_scatter(self, dm: DigitsModel) -> None:
        box = self.query_one("#ae-scatter-box").content_size
        width, height = box.width, 2 * box.height
        view = self.query_one("#ae-scatter", PixelView)
        if width < 2 or height < 2:
            return
        lo, hi = dm.latent_box()
        snap = dm.snapshot
        view.set_pixels(pic.scatter_pixels(snap.codes, dm.y_eval, lo, hi, width, height))
        marks = {}
        if ascii_mode_active(self.app):  # no colours: each code written as its class digit
            cols, rows = pic.latent_to_pixel(snap.codes, lo, hi, width, height)
            for c, r, label in zip(cols.tolist(), rows.tolist(), dm.y_eval.tolist()):
                if 0 <= c < width and 0 <= r < height:
                    marks[(r // 2, c)] = (str(label), None)
        self.cursor = np.clip(self.cursor, lo, hi)
        points = [(self.cursor, "+")]
        if self.model.params["page"] == "reparam":
            r = dm.reparam(self.item, self.draw)
            points = [(r["mu"], "μ")] + ([(r["z"], "z")] if self.stage >= 3 else [])
        elif self.model.params["page"] == "interp":
            a, b = dm.pair(self.pair_n)
            points = [(self.cursor, "+"), (snap.codes[a], "a"), (snap.codes[b], "b")]
        for z, glyph in points:
            c, rw = pic.latent_to_pixel(z[None], lo, hi, width, height)
            if 0 <= c[0] < width and 0 <= rw[0] < height:
                marks[(int(rw[0]) // 2, int(c[0]))] = (glyph, "#ffffff")
        view.set_overlay(marks)
        legend = Content.assemble(*[(str(c), f"bold {pic.to_hex(pic.CLASS_COLORS[c])}")
                                    for c in range(10)], (" classes", "dim"))
        self.query_one("#ae-legend", Static).update(legend)
        self.query_one("#ae-cursor", PixelView).set_pixels(pic.tile(dm.decode(self.cursor)[0]))
        self._text("#ae-cursor-text", f"cursor z\nz₁ {self.cursor[0]:+.2f}\n"
                   f"z₂ {self.cursor[1]:+.2f}\n←↑↓→ move\n(click the\n scatter)")

    def _draw_info(self, dm: DigitsModel, page: str) -> None:
        if page != "reparam":
            hints = {"ae": "p: page · v: view", "denoise": f"noise σ = {dm.noise:g} (, .)",
                     "vae": f"β = {dm.beta:g} (, .) · p: page"}
            info = hints[dm.view]
            if dm.view == "vae" and not self._hiding_loss():
                s = dm.state
                info += f"\n−ELBO = {s.recon:.1f} + β·{s.kl:.2f}"
            self._text("#ae-info", info)
            return
        r = dm.reparam(self.item, self.draw)
        lines = [f"digit {r['label']}: μ = {_vec(r['mu'])}"]
        if self.stage >= 1:
            lines.append(f"log σ² = {_vec(r['logvar'])}")
            lines.append(f"σ = exp(log σ²/2) = {_vec(r['sigma'])}")
        if self.stage >= 2:
            lines.append(f"ε ~ N(0, I) = {_vec(r['eps'])}")
        if self.stage >= 3:
            lines.append(f"z = μ + σ ⊙ ε = {_vec(r['z'])}")
        if self.stage >= 4:
            lines.append("x̂ = decoder(z), right of x")
        self._text("#ae-info", "\n".join(lines))

    # --- predictions -----------------------------------------------------------------------
    def _question(self):
        m = self.model.current
        if m.view == "vae" and self.model.params["page"] == "reparam":
            if self.stage != 2:
                return None
            r = m.reparam(self.item, self.draw)
            return (f"reparam-{self.item}-{self.draw}-{m.snapshot.state.step}",
                    f"μ₁ = {r['mu'][0]:.2f}, log σ₁² = {r['logvar'][0]:.2f}, ε₁ = "
                    f"{r['eps'][0]:.2f}. Predict z₁.", float(r["z"][0]), 0.02,
                    "z₁ = μ₁ + exp(log σ₁²/2) · ε₁: the noise is scaled by σ and shifted by μ.")
        if self.model.index != 0:
            return None
        return m.question()

    def _hiding_loss(self) -> bool:
        """The first loss is asked: the title, the chart and the ELBO line keep it back."""
        predict = self.query_one(PredictInput)
        return predict.state == "asking" and (predict.key or "").endswith("-initial-loss")

    def _ask(self) -> None:
        predict = self.query_one(PredictInput)
        if predict.state == "asking" and predict.key is not None and \
                self.model.index != 0 and not predict.key.startswith("reparam"):
            # the student trained past the question: the lab has shown the answer, so it is
            # not asked again (after r, + and - are the speed keys again, not an answer)
            self.answered.add(predict.key)
        q = self._question()
        if q is None or q[0] in self.answered:
            if predict.state == "asking":
                predict.clear()
            return
        if predict.key != q[0] or predict.state == "idle":
            predict.ask(*q)

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        event.stop()
        self.answered.add(event.key)
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))
        if event.key.startswith("reparam"):
            self.stage = 3
        self.request_redraw()

    # --- settings and lab keys ---------------------------------------------------------------
    def apply_param(self, name: str, value) -> str | None:
        """Change one setting through the model: the refusal, or what the change means
        (training restarts), is shown in the note; a refused value keeps the last good one.
        A change that rebuilds the model drops the worker's result and the queued steps."""
        if self.busy and name not in ("page", "azimuth"):
            self.busy = False  # the worker's result belongs to the old model: ignored
            self.pending = []
        self.playing = False
        refused = self.model.apply(name, value)
        self.note = refused or self.model.applied_note(name)
        if name == "view":
            self.cursor = np.zeros(2)
            self.stage = 0
        for field in self.query(ParamInput):
            if field.param_name == name and refused is None:
                field.value = self.model.params[name]
        self.request_redraw()
        return refused

    def action_next_view(self) -> None:
        i = VIEWS.index(self.model.view)
        self.apply_param("view", VIEWS[(i + 1) % len(VIEWS)])

    def action_next_page(self) -> None:
        pages = VIEW_PAGES.get(self.model.view)
        if not pages:
            self.notify("the pca view has one panel; v changes the view", timeout=2)
            return
        i = pages.index(self.model.params["page"]) if self.model.params["page"] in pages else -1
        self.stage = 0
        self.apply_param("page", pages[(i + 1) % len(pages)])

    def action_move(self, dx: int, dy: int) -> None:
        if not self._digits():
            return
        lo, hi = self.model.current.latent_box()
        self.cursor = np.clip(self.cursor + np.array([dx, dy]) * (hi - lo) / 20, lo, hi)
        self._draw_scatter(self.model.current)  # only the cursor moved: not the whole lab

    def on_pixel_view_clicked(self, event: PixelView.Clicked) -> None:
        if event.pixel_view.id != "ae-scatter" or not self._digits():
            return
        event.stop()
        lo, hi = self.model.current.latent_box()
        view = event.pixel_view
        self.cursor = pic.pixel_to_latent(event.x, event.y, lo, hi, view.cols, 2 * view.rows)
        self._draw_scatter(self.model.current)  # only the cursor moved: not the whole lab

    def action_next_item(self) -> None:
        self.item += 1
        self.pair_n += 1
        self.stage = 0
        self.request_redraw()

    def action_new_draw(self) -> None:
        self.draw += 1
        self.stage = min(self.stage, 2)
        self.request_redraw()

    def action_reparam_stage(self) -> None:
        if self.model.params["page"] != "reparam":
            self.notify("e steps through z = μ + σ ⊙ ε on the VAE's reparam page (v, p)",
                        timeout=3)
            return
        q = self._question()
        if self.stage == 2 and q is not None and q[0] not in self.answered:
            self.query_one(PredictInput).reveal()
            self.answered.add(q[0])
        self.stage = (self.stage + 1) % 5
        if self.stage == 0:
            self.draw += 1
        self.request_redraw()

    def action_knob(self, direction: int) -> None:
        view = self.model.view
        if view == "pca":
            self.apply_param("azimuth", (self.model.params["azimuth"] + 15 * direction + 360) % 360)
        elif view == "denoise":
            self.apply_param("noise", round(min(1.0, max(0.0, self.model.params["noise"]
                                                    + 0.05 * direction)), 2))
        elif view == "vae":
            self.apply_param("beta", round(min(20.0, max(0.0, self.model.params["beta"]
                                                    + 0.25 * direction)), 2))

    def action_go_many(self) -> None:
        self.playing = False
        if self._replaying():
            return
        if not self._digits():
            self.advance(50)
            self.request_redraw()  # also when it did not move: the model's message says why
        elif not self.busy:
            self._start(("advance", 50))

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        if self.apply_param(event.name, event.value) is not None:
            event.param_input.value = self.model.params[event.name]


LAB_CLASS = AutoencoderLab
