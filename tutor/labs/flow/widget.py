"""The flow lab widget: a 1-D density pushed through a monotone map; a 2-D flow's density,
samples and warped grid, layer by layer."""

from __future__ import annotations

import math

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Input, Label, Static

from tutor.labs.flow import params as P
from tutor.labs.flow.model import FlowModel, parse_widths
from tutor.labs.kit import PlayAhead, TrainingLab
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import BRIGHT_CYAN, BRIGHT_ORANGE
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

SIDE_WIDTH = 34
JUMP = 200
BASE_COLOR = BRIGHT_CYAN
PUSHED_COLOR = BRIGHT_ORANGE

SETTINGS = (
    ("transform", "1d: f", "choice", None),
    ("a", "1d: a", "float", 0.25),
    ("z0", "1d: z₀ , .", "float", 0.25),
    ("flow", "2d: flow", "choice", None),
    ("dataset", "2d: data", "choice", None),
    ("layers", "2d: layers", "int", 1),
    ("lr", "2d: lr", "float", None),
    ("batch_size", "2d: batch", "int", 16),
    ("seed", "seed", "int", 1),
)


class FlowLab(PlayAhead, TrainingLab):
    """Normalizing flows: p_X(x) = p_Z(z) / |det ∂x/∂z|, in 1-D and trained in 2-D.

    1d: n / b move t from the identity to f; , . move z₀. 2d: n is one training step, j 200
    steps in a worker, w the warped grid, , . its layer; v switches the view.
    """

    DEFAULT_CSS = """
    FlowLab {
        layout: vertical;
        & #flow-main { height: 1fr; }
        & #flow-left { width: 1fr; min-width: 10; }
        & #flow-title { height: 1; color: $text-muted; }
        & #flow-pictures { height: 1fr; }
        & #flow-map-box { height: 1fr; align: center middle; }
        & #flow-plot { height: 1fr; }
        & #flow-side { width: %d; padding: 0 0 0 1; }
        & #flow-stats { height: 6; }
        & #flow-chart { height: 8; min-height: 4; }
        & #flow-message { height: auto; color: $text-warning; }
        & #flow-settings { height: 1fr; }
        & .flow-text-row { height: auto; }
        & .flow-text-row > Label { min-width: 14; padding: 0 1 0 0; }
        & .flow-text-row > Input { width: 1fr; max-width: 24; }
    }
    """ % SIDE_WIDTH

    BINDINGS = [
        Binding("v", "toggle_view", "1-D/2-D"),
        Binding("w", "toggle_grid", "Density/grid"),
        Binding("comma", "nudge(-1)", "z₀ / layer −", show=False),
        Binding("full_stop", "nudge(1)", "z₀ / layer +", show=False),
        Binding("j", "jump", f"{JUMP} steps"),
        Binding("i", "focus_predict", "Predict", show=False),
        Binding("escape", "focus_lab", "Leave a field", show=False),
    ]

    lab_name = "flow"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = self.model_or_defaults(FlowModel, P.PARAMS)  # planar flow for moons: refused
        self.show_grid = False

    # --- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="flow-main"):
            with Vertical(id="flow-left"):
                yield Static("", id="flow-title", markup=False)
                with ContentSwitcher(initial="flow-plot" if self.model.view == "1d"
                                     else "flow-map-box", id="flow-pictures"):
                    yield LineChart(title="densities", x_label="z or x", id="flow-plot")
                    with Vertical(id="flow-map-box"):
                        yield PixelView(id="flow-map")
            with Vertical(id="flow-side"):
                yield Static("", id="flow-stats", markup=False)
                yield LineChart(title="", id="flow-chart")
                yield Static("", id="flow-message", markup=False)
                yield PredictInput(id="flow-predict")
                with VerticalScroll(id="flow-settings", can_focus=False):
                    for key, label, kind, step in SETTINGS:
                        spec = P.PARAMS[key]
                        yield ParamInput(key, label, self.params[key], kind, min=spec.min,
                                         max=spec.max, choices=spec.choices, step=step)
                    with Horizontal(classes="flow-text-row"):
                        yield Label("2d: hidden")
                        yield Input(self._widths(), id="flow-hidden", compact=True,
                                    tooltip="hidden widths of each coupling network, e.g. 16, 16")
        yield StepControls(id="flow-controls")

    def _widths(self) -> str:
        return ", ".join(str(int(w)) for w in self.params["hidden"])

    def on_mount(self) -> None:
        super().on_mount()
        if self.params["steps"]:
            self._start_training(int(self.params["steps"]))

    def on_resize(self) -> None:
        self.request_redraw()

    # --- worker ---------------------------------------------------------------------------
    def _start_training(self, n: int) -> None:
        self.start_training(n, f"training {n} steps…")

    def training_source(self):
        return self.model.training

    def train(self, training, n: int, cancelled) -> list:
        return training.run(n, cancelled)

    # --- playing the 2-D view: steps computed ahead in a worker (the kit's PlayAhead) ---------
    def ahead_source(self):
        return self.model.training if self.model.view == "2d" else None

    def ahead_keys(self):
        size = self._map_size()
        return None if size is None else (*size, self.show_grid, self.model.layer)

    # --- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        m = self.model
        switcher = self.query_one("#flow-pictures", ContentSwitcher)
        self._ask()  # first: while the first −log p is asked, the drawing keeps it back
        if m.view == "1d":
            switcher.current = "flow-plot"
            self._draw_1d()
        else:
            switcher.current = "flow-map-box"
            self._draw_2d()
        set_text(self.query_one("#flow-message", Static), self.note or m.message)
        self.query_one(StepControls).status = m.status().split(" · ")[0]

    def _draw_1d(self) -> None:
        c = self.model.cov
        v = c.at_point()
        set_text(self.query_one("#flow-title", Static),
                 f"x = (1−t)z + t·f(z), f(z) = {self._f_text()}")
        set_text(self.query_one("#flow-stats", Static),
                 f"t = {c.t:.2f} · z₀ = {v['z0']:.3g} → x₀ = {v['x0']:.4g}\n"
                 f"|det| = f_t'(z₀) = {v['det']:.4g}\n"
                 f"p_Z(z₀) = {v['p_z']:.4f}\n"
                 f"p_X(x₀) = p_Z(z₀)/|det| = {v['p_x']:.4f}\n"
                 f"log p_X = log p_Z − log|det|\n"
                 f"at t = 1: f'(z₀) = {c.final()['det']:.4g}")
        z, pz, x, px = c.curves()
        plot = self.query_one("#flow-plot", LineChart)
        plot.markers = [(v["z0"], v["p_z"], "z₀"), (v["x0"], v["p_x"], "x₀")]
        plot.set_series([Series("p_Z", pz, z, BASE_COLOR), Series("p_X", px, x, PUSHED_COLOR)])
        chart = self.query_one("#flow-chart", LineChart)
        chart.title, chart.x_label = "x = f_t(z)", "z"
        chart.markers = [(v["z0"], v["x0"], "")]
        chart.set_series([Series("f_t", c.forward(z), z, PUSHED_COLOR)])

    def _f_text(self) -> str:
        a = self.model.params["a"]
        return {"affine": f"{a:g} z + 1", "exp": f"exp({a:g} z)", "sinh": f"sinh({a:g} z)",
                "split": f"z + {a:g} tanh(3z)"}[self.model.params["transform"]]

    def _draw_2d(self) -> None:
        m = self.model
        tr = m.training
        s = tr.state
        p = m.params
        what = "KL(q‖p) ≈" if tr.planar else "−log p"
        dets = " ".join(f"{d:+.2f}" for d in s.log_dets[:5])
        more = " …" if len(s.log_dets) > 5 else ""
        batch = "" if not math.isfinite(s.loss) else f" · batch {s.loss:.3f}"
        predict = self.query_one(PredictInput)
        hiding = predict.state == "asking" and (predict.key or "").startswith("nll0-")
        value = "? (predict first)" if hiding else f"{s.eval_loss:.3f}"
        set_text(self.query_one("#flow-title", Static),
                 (f"{p['flow']} × {p['layers']} · " +  # at most ~46 columns beside a lesson
                  (f"grid after layer {m.layer}/{p['layers']} (w , .)" if self.show_grid else
                   f"{p['dataset']} · " + ("target p, samples of q" if tr.planar else
                                           "learned density, data"))))
        set_text(self.query_one("#flow-stats", Static),
                 f"step {s.step} · {p['flow']} · lr {p['lr']:g}\n"
                 f"{what} {value}{batch}\n"
                 f"mean log|det| of each layer:\n"
                 f"{dets}{more}\n"
                 f"total {sum(s.log_dets):+.3f}\n"
                 f"grid view: layer {m.layer}/{p['layers']}")
        chart = self.query_one("#flow-chart", LineChart)
        chart.title, chart.x_label = "", "step"
        chart.markers = []
        # The answer waits for the guess.
        steps, losses = (np.zeros(0), np.zeros(0)) if hiding else tr.curve()
        name = "KL(q‖p)" if tr.planar else "−log p on 256 points"
        chart.set_series([Series(name, losses, steps, PUSHED_COLOR)])
        self._draw_map()

    def _map_size(self) -> tuple[int, int] | None:
        """(width, rows) of the box the map fills; None when too small to draw."""
        box = self.query_one("#flow-map-box").size
        if box.width < 2 or box.height < 1:
            return None
        return box.width, box.height

    def _draw_map(self) -> None:
        size = self._map_size()
        if size is None:
            return
        picture = self.model.training.picture(*size, self.show_grid, self.model.layer)
        view = self.query_one("#flow-map", PixelView)
        view.set_pixels(picture.pixels)
        view.set_overlay(picture.overlay)

    # --- predict first --------------------------------------------------------------------
    def _ask(self) -> None:
        predict = self.query_one(PredictInput)
        m = self.model
        if m.view == "1d":
            c = m.cov
            fin = c.final()
            key = f"px-{m.params['transform']}-{m.params['a']:g}-{c.z0:g}"
            if key in self.answered:
                return
            if predict.key != key:
                predict.ask(key, f"At t = 1, f'(z₀) = {fin['det']:.4g} and p_Z(z₀) = "
                            f"{c.at_point()['p_z']:.4f}. Predict p_X(x₀) (i):", fin["p_x"],
                            0.005, "p_X(x₀) = p_Z(z₀) / |f'(z₀)|: stretching spreads the mass.")
            elif c.k > 0 and predict.state == "asking":  # stepped without an answer
                predict.reveal()
                self.answered.add(key)
            return
        tr = m.training
        if tr.planar:
            if predict.state != "idle" and predict.key and predict.key.startswith("px-"):
                predict.clear()
            return
        key = f"nll0-{m.params['dataset']}-{m.params['seed']}"
        if key in self.answered:
            return
        start = tr.start
        half = float(0.5 * (tr.eval_data**2).sum(axis=1).mean())
        if predict.key != key:
            predict.ask(key, f"At step 0 the flow is near the identity. Mean ½‖x‖² of the 256 points = "
                        f"{half:.3f}. Predict their −log p (i):", start.eval_loss, 0.1,
                        "≈ mean ½‖x‖² + log 2π (= 1.838): the standard normal's −log density, "
                        "plus the small log-dets of the initial layers.")
        elif tr.index > 0 and predict.state == "asking":
            predict.reveal()
            self.answered.add(key)

    # --- the lab as the student left it -------------------------------------------------------
    def save_state(self) -> dict:
        """Settings, view, answered questions, the 1-D step, the grid view and the 2-D steps
        trained (replayed from the seed on restore)."""
        m = self.model
        return {"params": {k: v for k, v in self.params.items() if k != "steps"},
                "view": m.view, "answered": sorted(self.answered), "t_step": m.cov.k,
                "steps": m.training.index, "grid": self.show_grid, "layer": m.layer}

    def restore_state(self, state: dict) -> None:
        from tutor.labs import validate_lab

        params = validate_lab("flow", {**state["params"], "view": state["view"]})
        model = FlowModel(params)
        steps, k, layer = int(state["steps"]), int(state["t_step"]), int(state["layer"])
        if not (0 <= steps <= params["max_steps"] and 0 <= k <= model.cov.n
                and 0 <= layer <= params["layers"]):
            raise ValueError("saved steps, t or layer out of range")
        self.adopt(params, model, [str(a) for a in state["answered"]])
        model.cov.k, model.layer, self.show_grid = k, layer, bool(state["grid"])
        self.query_one("#flow-hidden", Input).value = self._widths()
        if steps:
            self._start_training(steps)
        self.request_redraw()

    # --- keys -----------------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        self.playing = False
        self.model.view = "2d" if self.model.view == "1d" else "1d"
        self.model.params["view"] = self.params["view"] = self.model.view
        self.request_redraw()

    def action_toggle_grid(self) -> None:
        if self.model.view != "2d":
            self.notify("w shows the warped grid of the 2-D view (v switches)", timeout=2)
            return
        self.show_grid = not self.show_grid
        self.request_redraw()

    def action_nudge(self, direction: int) -> None:
        m = self.model
        if m.view == "1d":
            z0 = min(3.0, max(-3.0, round(m.cov.z0 + 0.25 * direction, 2)))
            self.apply_param("z0", z0)
        else:
            self.show_grid = True
            m.layer = min(max(0, m.layer + direction), m.params["layers"])
            self.request_redraw()

    def action_jump(self) -> None:
        self.playing = False
        if self.model.view != "2d":
            self.notify("j trains the 2-D flow (v switches)", timeout=2)
            return
        if not self.waiting():
            self._start_training(JUMP)
            self.request_redraw()

    # --- settings -------------------------------------------------------------------------
    def applied_note(self, name: str, before, value) -> str:
        return "" if name in ("z0", "layer") else f"{name} = {value}: restarted"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "flow-hidden":
            event.stop()
            self._hidden_edited(event.input)
            self.focus()

    def on_input_blurred(self, event: Input.Blurred) -> None:
        if event.input.id == "flow-hidden":
            self._hidden_edited(event.input)

    def _hidden_edited(self, field: Input) -> None:
        try:
            widths = parse_widths(field.value)
        except ValueError as exc:
            self.note = f"✗ {exc}; kept {self._widths()}"
            self.request_redraw()
            return
        if widths != [int(w) for w in self.params["hidden"]]:
            self.apply_param("hidden", [float(w) for w in widths])


LAB_CLASS = FlowLab
