"""The GAN lab widget: D's belief as a heat map, real and generated points, G's arrows; the
bilinear game's two trajectories."""

from __future__ import annotations

import math

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from tutor.labs.kit import PlayAhead, TrainingLab
from tutor.labs.gan import params as P
from tutor.labs.gan.model import (ALT_COLOR, EG_COLOR, LOG4, SIM_COLOR, GanModel, GanPicture,
                                  Trainer, parse_widths)
from tutor.widgets.braille import BrailleCanvas
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import BRIGHT_GREEN, BRIGHT_PINK
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

SIDE_WIDTH = 34
JUMP = 200
D_COLOR = BRIGHT_GREEN
G_COLOR = BRIGHT_PINK
REF_COLOR = "#6272a4"

#: (parameter, label, kind, step) of the settings fields, in order.
SETTINGS = (
    ("g_loss", "G loss", "choice", None),
    ("k", "k (D:G)", "int", 1),
    ("g_lr", "G lr", "float", None),
    ("d_lr", "D lr", "float", None),
    ("dataset", "data", "choice", None),
    ("batch_size", "batch", "int", 16),
    ("latent", "z dim", "int", 1),
    ("activation", "activation", "choice", None),
    ("optimizer", "optimizer", "choice", None),
    ("seed", "seed", "int", 1),
    ("eta", "game η", "float", 0.05),
    ("x0", "game x₀", "float", 0.5),
    ("y0", "game y₀", "float", 0.5),
)


def _fmt(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.3f}"


class MapBox(Vertical):
    """The box the picture fills: tells the lab when its size changes (the title wrapping to
    two rows beside a lesson, a resized terminal), so the picture is drawn for the size it has."""

    def __init__(self, on_resize, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_resize = on_resize

    def on_resize(self) -> None:
        self._on_resize()


class GanLab(PlayAhead, TrainingLab):
    """A GAN on 2-D points as GAN Lab shows it, with a history you can step back through.

    n: one round (k D steps then one G step); x: one D step; g: one G step; j: 200 rounds in a
    worker; m: minimax ↔ non-saturating; a: arrows; v: the bilinear game.
    """

    DEFAULT_CSS = """
    GanLab {
        layout: vertical;
        & #gan-main { height: 1fr; }
        & #gan-left { width: 1fr; min-width: 10; }
        & #gan-title { height: auto; max-height: 2; color: $text-muted; }
        & #gan-map-box { height: 1fr; align: center middle; }
        & #gan-side { width: %d; padding: 0 0 0 1; }
        & #gan-stats { height: 6; }
        & #gan-chart { height: 8; min-height: 4; }
        & #gan-message { height: auto; color: $text-warning; }
        & #gan-settings { height: 1fr; }
        & .gan-text-row { height: auto; }
        & .gan-text-row > Label { min-width: 14; padding: 0 1 0 0; }
        & .gan-text-row > Input { width: 1fr; max-width: 24; }
        & .gan-text-row > Input.-invalid { color: $text-error; }
    }
    """ % SIDE_WIDTH

    BINDINGS = [
        Binding("x", "d_step", "D step"),
        Binding("g", "g_step", "G step"),
        Binding("j", "jump", f"{JUMP} rounds"),
        Binding("m", "toggle_loss", "Minimax/non-sat."),
        Binding("a", "toggle_arrows", "Arrows", show=False),
        Binding("v", "toggle_view", "GAN/bilinear"),
        Binding("i", "focus_predict", "Predict", show=False),
        Binding("escape", "focus_lab", "Leave a field", show=False),
    ]

    lab_name = "gan"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = self.model_or_defaults(GanModel, P.PARAMS)  # custom points out of range…
        self.show_arrows = bool(self.params["arrows"])

    # --- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="gan-main"):
            with Vertical(id="gan-left"):
                yield Static("", id="gan-title", markup=False)
                with MapBox(self._map_resized, id="gan-map-box"):
                    yield PixelView(id="gan-map")
            with Vertical(id="gan-side"):
                yield Static("", id="gan-stats", markup=False)
                yield LineChart(title="losses", x_label="round", id="gan-chart")
                yield Static("", id="gan-message", markup=False)
                yield PredictInput(id="gan-predict")
                with VerticalScroll(id="gan-settings", can_focus=False):
                    yield from self._settings()
        yield StepControls(id="gan-controls")

    def _settings(self) -> ComposeResult:
        for key, label, kind, step in SETTINGS:
            spec = P.PARAMS[key]
            yield ParamInput(key, label, self.params[key], kind, min=spec.min, max=spec.max,
                             choices=spec.choices, step=step)
        for key, label in (("g_hidden", "G hidden"), ("d_hidden", "D hidden")):
            with Horizontal(classes="gan-text-row"):
                yield Label(label)
                yield Input(self._widths(key), id=f"gan-{key}", compact=True,
                            tooltip="hidden widths, e.g. 16, 16")

    def _widths(self, key: str) -> str:
        return ", ".join(str(int(w)) for w in self.params[key])

    def on_mount(self) -> None:
        super().on_mount()
        if self.params["steps"]:
            self._start_training(int(self.params["steps"]))

    def on_resize(self) -> None:
        self.call_after_refresh(self.draw_map)

    # --- training in a worker -------------------------------------------------------------
    def _start_training(self, n: int) -> None:
        self.start_training(n, f"training {n} rounds…")

    def train(self, model: GanModel, n: int, cancelled) -> list:
        """(Thread.) Compute `n` rounds on a separate trainer."""
        trainer = Trainer(model.params, model.data, model.z_shown)
        return trainer.run(model.state, n, model.params["max_steps"], cancelled)

    # --- playing: rounds computed ahead in a worker (the kit's PlayAhead) -------------------
    def ahead_source(self):
        return self.model if self.model.view == "gan" else None

    def ahead_keys(self):
        size = self._map_size()
        return None if size is None else (*size, self.show_arrows)

    # --- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        if not self.is_mounted:
            return
        m = self.model
        p = m.params
        self._ask()  # first: a reveal adds the log 4 line to this frame's chart
        if m.view == "bilinear":
            g = m.game
            title = f"min_x max_y x·y · η = {g.eta:g} · red sim. · blue alt. · green EG"
            sim, alt = g.radius("simultaneous"), g.radius("alternating")
            stats = (f"step {g.t}/{g.n} · η = {g.eta:g}\n"
                     f"simultaneous r = {sim:.4g}\n"
                     f"  r₀(1+η²)^(t/2) = {g.r0 * (1 + g.eta**2) ** (g.t / 2):.4g}\n"
                     f"alternating  r = {alt:.4g}\n"
                     f"  x²−ηxy+y² = {g.invariant():.4g}\n"
                     f"extragradient r = {g.radius('extragradient'):.4g}")
            chart = self.query_one("#gan-chart", LineChart)
            chart.title, chart.x_label = "distance to (0, 0)", "step"
            t = np.arange(g.t + 1, dtype=np.float64)
            chart.set_series([
                Series("simultaneous", np.hypot(*g.sim[: g.t + 1].T), t, SIM_COLOR),
                Series("alternating", np.hypot(*g.alt[: g.t + 1].T), t, ALT_COLOR),
                Series("extragradient", np.hypot(*g.eg[: g.t + 1].T), t, EG_COLOR)])
        else:
            s = m.state
            picture = self._picture()
            grad_norm = m.mean_grad_norm() if picture is None else picture.grad_norm
            title = (f"{p['dataset']} · G {'-'.join(map(str, m.gan.G.sizes))} · "
                     f"D {'-'.join(map(str, m.gan.D.sizes))} · {p['g_loss']}")
            modes = f"modes {s.modes}/8 · " if s.modes >= 0 else ""
            stats = (f"round {s.round} · D steps {s.checkpoint.d_steps} · G {s.checkpoint.g_steps}\n"
                     f"D loss {_fmt(s.d_loss)} · G loss {_fmt(s.g_loss)}\n"
                     f"D(real) {s.d_real:.3f} · D(G(z)) {s.d_fake:.3f}\n"
                     f"{modes}mean ‖∇ₓ‖ {grad_norm:.3g}\n"
                     f"k={p['k']} · lr G {p['g_lr']:g} D {p['d_lr']:g} · {p['optimizer']}")
            chart = self.query_one("#gan-chart", LineChart)
            chart.title, chart.x_label = "losses", "round"
            x, d, g_ = m.curves()
            series = [Series("D", d, x, D_COLOR), Series("G", g_, x, G_COLOR)]
            if "log4" in self.answered and len(x):
                series.insert(0, Series("log 4", np.full(2, LOG4), np.array([0.0, max(x[-1], 1.0)]),
                                        REF_COLOR))
            chart.set_series(series)
        title_view = self.query_one("#gan-title", Static)
        set_text(title_view, title)
        set_text(self.query_one("#gan-stats", Static), stats)
        set_text(self.query_one("#gan-message", Static), self.note or m.message)
        self.query_one(StepControls).status = m.status().split(" · ")[0]
        self.draw_map(picture if m.view == "gan" else None)

    def _map_resized(self) -> None:
        self.call_after_refresh(self.draw_map)

    def _map_size(self) -> tuple[int, int] | None:
        """(width, rows) of the box the map fills; None when too small to draw."""
        box = self.query_one("#gan-map-box").size
        if box.width < 2 or box.height < 1:
            return None
        return box.width, box.height

    def _picture(self) -> GanPicture | None:
        """The GAN map of the current state at the box's size (computed ahead, or now)."""
        size = self._map_size()
        return None if size is None else self.model.picture(*size, self.show_arrows)

    def draw_map(self, picture: GanPicture | None = None) -> None:
        if not self.is_mounted:
            return
        size = self._map_size()
        if size is None:
            return
        view = self.query_one("#gan-map", PixelView)
        if self.model.view == "bilinear":
            pixels, overlay = self._game_picture(*size)
        else:
            if picture is None:
                picture = self.model.picture(*size, self.show_arrows)
            pixels, overlay = picture.pixels, picture.overlay
        view.set_pixels(pixels)
        view.set_overlay(overlay)

    def _game_picture(self, width: int, rows: int):
        g = self.model.game
        pixels = np.full((2 * rows, width, 3), 22, dtype=np.uint8)
        canvas = BrailleCanvas(width, rows)
        side = min(canvas.width, canvas.height)
        half = g.limits()
        cx, cy = (canvas.width - 1) / 2, (canvas.height - 1) / 2

        def dots(path):
            return cx + path[:, 0] / half * side / 2, cy - path[:, 1] / half * side / 2

        canvas.line(cx - side / 2, cy, cx + side / 2, cy, "#555555")
        canvas.line(cx, cy - side / 2, cx, cy + side / 2, "#555555")
        for path, color in ((g.eg, EG_COLOR), (g.alt, ALT_COLOR), (g.sim, SIM_COLOR)):
            xs, ys = dots(path[: g.t + 1])
            canvas.polyline(xs, ys, color)
        overlay = canvas.cells()
        for path, color in ((g.eg, EG_COLOR), (g.alt, ALT_COLOR), (g.sim, SIM_COLOR)):
            xs, ys = dots(path[g.t: g.t + 1])
            r, c = int(ys[0] // 4), int(xs[0] // 2)
            if 0 <= r < rows and 0 <= c < width:
                overlay[(r, c)] = ("●", color)
        r, c = int(cy // 4), int(cx // 2)
        overlay[(r, c)] = ("+", "#ffffff")
        return pixels, overlay

    # --- predict first --------------------------------------------------------------------
    def _ask(self) -> None:
        predict = self.query_one(PredictInput)
        m = self.model
        if m.view == "bilinear":
            g = m.game
            key = f"radius-{g.predict_at}-{g.eta:g}-{g.r0:.6g}"
            if key in self.answered:
                return
            if predict.key != key:
                predict.ask(key, f"Predict ‖(x, y)‖ after {g.predict_at} simultaneous steps (i):",
                            g.predicted_radius(), 0.02 * g.predicted_radius(),
                            f"Each step multiplies the distance by √(1 + η²) = "
                            f"{math.sqrt(1 + g.eta**2):.4f}.")
            elif g.t > 0 and predict.state == "asking":  # stepped without an answer
                predict.reveal()
                self.answered.add(key)
        else:
            if "log4" in self.answered:
                if predict.key == "log4" and predict.state == "asking":
                    predict.clear()
                return
            if predict.key == "log4" and predict.state == "asking" and m.index > 0:
                predict.reveal()  # trained without an answer: not asked again (+ - are speeds)
                self.answered.add("log4")
                return
            if predict.key != "log4":
                predict.ask("log4", "If G matched the data, D's best answer is ½ everywhere. "
                            "Predict D's loss then (i):", LOG4, 0.01,
                            "−log ½ − log(1 − ½) = 2 log 2 = log 4 ≈ 1.386: the level a "
                            "balanced game hovers at (the grey line).")

    # --- the lab as the student left it -------------------------------------------------------
    def save_state(self) -> dict:
        """Settings, view, answered questions and the rounds trained (a history with single D
        or G steps is kept as its settings only: rounds replay, single steps do not)."""
        m = self.model
        rounds_only = m.rounds_only()
        return {"params": {k: v for k, v in self.params.items() if k != "steps"},
                "view": m.view, "answered": sorted(self.answered),
                "rounds": m.index if rounds_only else 0, "game_t": m.game.t}

    def restore_state(self, state: dict) -> None:
        from tutor.labs import validate_lab

        params = validate_lab("gan", {**state["params"], "view": state["view"]})
        model = GanModel(params)
        rounds, game_t = int(state["rounds"]), int(state["game_t"])
        if not 0 <= rounds <= params["max_steps"] or not 0 <= game_t <= model.game.n:
            raise ValueError(f"saved rounds {rounds} or game step {game_t} out of range")
        answered = [str(k) for k in state["answered"]]  # a damaged list raises here
        self.adopt(params, model, answered)
        model.game.t = game_t
        for key in ("g_hidden", "d_hidden"):
            self.query_one(f"#gan-{key}", Input).value = self._widths(key)
        if rounds:
            self._start_training(rounds)
        self.redraw()

    # --- lab keys -------------------------------------------------------------------------
    def _gan_only(self) -> bool:
        if self.model.view != "gan":
            self.notify("x, g, j and m act on the GAN view (v switches)", timeout=2)
            return False
        return not self.waiting()

    def action_d_step(self) -> None:
        self.playing = False
        if self._gan_only():
            self.model.act("d")
            self.redraw()

    def action_g_step(self) -> None:
        self.playing = False
        if self._gan_only():
            self.model.act("g")
            self.redraw()

    def action_jump(self) -> None:
        self.playing = False
        if self._gan_only():
            self._start_training(JUMP)
            self.redraw()

    def action_toggle_loss(self) -> None:
        if self._gan_only():
            new = "minimax" if self.params["g_loss"] == "nonsaturating" else "nonsaturating"
            self.apply_param("g_loss", new)

    def action_toggle_arrows(self) -> None:
        self.show_arrows = not self.show_arrows
        self.draw_map()

    def action_toggle_view(self) -> None:
        self.playing = False
        self.model.view = "bilinear" if self.model.view == "gan" else "gan"
        self.params["view"] = self.model.view
        self.redraw()

    # --- editing --------------------------------------------------------------------------
    def applied_note(self, name: str, before, value) -> str:
        if before == self.params[name]:
            return ""
        if name in ("x0", "y0", "eta", "game_steps", "predict_at"):
            return f"{name} = {self.params[name]}: the game restarts"
        return f"{name} = {self.params[name]}: training restarts from the seed's initial weights"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("gan-g_hidden", "gan-d_hidden"):
            event.stop()
            self._widths_edited(event.input)
            self.focus()

    def on_input_blurred(self, event: Input.Blurred) -> None:
        if event.input.id in ("gan-g_hidden", "gan-d_hidden"):
            self._widths_edited(event.input)

    def _widths_edited(self, field: Input) -> None:
        key = field.id.removeprefix("gan-")
        try:
            widths = parse_widths(field.value, "generator" if key == "g_hidden" else "discriminator")
        except ValueError as exc:
            field.set_class(True, "-invalid")
            self.note = f"✗ {exc}; kept {self._widths(key)}"
            self.redraw()
            return
        field.set_class(False, "-invalid")
        if widths != [int(w) for w in self.params[key]]:
            self.apply_param(key, [float(w) for w in widths])

    def on_pixel_view_clicked(self, event: PixelView.Clicked) -> None:
        """With the custom data set, a click adds a real point there."""
        event.stop()
        if self.model.view != "gan" or self.params["dataset"] != "custom":
            return
        view = self.query_one("#gan-map", PixelView)
        _, scale, origin = self.model.grid(view.cols, view.rows)
        x = origin[0] + scale * (event.x + 0.5)
        y = origin[1] - scale * (event.y + 1.0)
        self.apply_param("points", [*self.params["points"], [round(x, 3), round(y, 3)]])


LAB_CLASS = GanLab
