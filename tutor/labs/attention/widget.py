"""The attention lab widget: the view's pictures, a prediction, settings keys and playback;
training runs in a worker thread that only posts its results."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, Static

from tutor.labs.attention import render
from tutor.labs.attention.explore import DIMS
from tutor.labs.attention.maps import maps_image
from tutor.labs.attention.model import AttentionModel
from tutor.labs.attention.numerics import softmax_jacobian_norm
from tutor.labs.attention.params import VIEWS
from tutor.labs.attention.steps import STAGES
from tutor.labs.attention.training import task_targets
from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import BLUE, ORANGE
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text
from tutor.widgets.text_lines import TextLines

RAW, SCALED = ORANGE, BLUE
SIDE = 21  # columns of the training views' side text


class AttentionLab(FieldKeys, ModelLab):
    """Attention, one computation at a time.

    Keys: v next view; c causal mask, p padding, e positional encodings, o next query row
    (steps view); a digit or a minus sign typed on the lab, or i, starts an answer. In the training views n trains one chunk
    in a worker thread (space keeps training) and every layer's and head's map is drawn.
    """

    DEFAULT_CSS = """
    AttentionLab {
        layout: vertical;
        & #att-title { height: 1; color: $text-muted; }
        & #att-main { height: 1fr; }
        & .att-pane { height: 1fr; }
        & #att-matrices { height: auto; }
        & #att-explain { height: auto; color: $text-muted; }
        & #att-chart, #att-pe-chart, #att-loss { height: 1fr; min-height: 6; }
        & #att-bars { height: auto; }
        & #att-pe-row { height: auto; }
        & #att-pe-side { width: 1fr; height: auto; padding: 0 0 0 2; }
        & #att-sim { margin: 0 0 0 2; }
        & #att-train-top { height: auto; }
        & #att-train-text { width: %d; height: auto; padding: 0 0 0 2; }
        & #att-message { height: auto; color: $text-warning; }
    }
    """ % (SIDE + 2)

    BINDINGS = [
        Binding("v", "next_view", "View"),
        Binding("c", "toggle('causal')", "Causal", tooltip="causal mask on/off (steps view)"),
        Binding("p", "next_pad", "Padding", tooltip="pad the last 0, 1 or 2 tokens (steps view)"),
        Binding("e", "toggle('positions')", "Positions", tooltip="add positional encodings to x (steps view)"),
        Binding("o", "next_query", "Row", tooltip="the query row the questions ask about (steps view)"),
        Binding("i", "predict", "Predict", show=False),
        Binding("escape", "focus_lab", "Lab keys", show=False),
    ]

    lab_name = "attention"

    class Trained(Message):
        """A worker finished a training chunk (`moved`: a state was added)."""

        def __init__(self, model: AttentionModel, moved: bool) -> None:
            super().__init__()
            self.model = model
            self.moved = moved

    class Replayed(Message):
        """A restore's worker retrained one more chunk (`done` of `total`); merged in the queue."""

        def __init__(self, model: AttentionModel, done: int, total: int) -> None:
            super().__init__()
            self.model, self.done, self.total = model, done, total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, AttentionLab.Replayed) and message.model is self.model

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = AttentionModel(self.params)
        self.note = ""
        self.busy = False
        self._target: int | None = None  # the step a restore's worker retrains towards
        self._kept = None  # (model, steps replayed, steps saved) of a shortened restore
        self._asked = None
        self._trained_past = False

    def compose(self) -> ComposeResult:
        yield Static("", id="att-title", markup=False)
        # the stage's explanation stays above the matrices, which scroll beside a lesson
        yield Static("", id="att-explain", markup=False)
        with ContentSwitcher(initial=self._pane(), id="att-main"):
            with VerticalScroll(id="pane-steps", classes="att-pane", can_focus=False):
                yield TextLines("", id="att-matrices")
            with Vertical(id="pane-scaling", classes="att-pane"):
                yield LineChart(title="largest softmax weight", x_label="d (log scale)", log_x=True,
                                id="att-chart")
                yield TextLines("", id="att-bars")
            with VerticalScroll(id="pane-positions", classes="att-pane", can_focus=False):
                with Horizontal(id="att-pe-row"):
                    yield PixelView(id="att-pe")
                    yield PixelView(id="att-sim")
                    yield Static("", id="att-pe-side", markup=False)
                yield LineChart(title="PE(p)·PE(j)", x_label="position j", id="att-pe-chart")
            with Vertical(id="pane-train", classes="att-pane"):
                with Horizontal(id="att-train-top"):
                    yield PixelView(id="att-maps")
                    yield Static("", id="att-train-text", markup=False)
                yield LineChart(title="training loss", x_label="step", log_y=True, id="att-loss")
        yield PredictInput(id="att-predict")
        yield Static("", id="att-message", markup=False)
        yield StepControls(id="att-controls")

    def _pane(self) -> str:
        view = self.model.kind
        return "pane-train" if view in ("train", "lm") else f"pane-{view}"

    def on_resize(self) -> None:
        self.request_redraw()

    # --- drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        if not self.is_mounted:
            return
        m = self.model
        self.query_one(ContentSwitcher).current = self._pane()
        self.query_one("#att-explain").display = m.kind == "steps"
        width = max(self.size.width - 2, 10)
        getattr(self, f"_draw_{m.kind if not m.trains else 'train'}")(width)
        set_text(self.query_one("#att-title", Static), self._title())
        set_text(self.query_one("#att-message", Static), self.note)
        self.query_one(StepControls).status = self._short_status()
        self._ask()

    def _title(self) -> str:
        m, p = self.model, self.model.params
        if m.kind == "steps":
            masks = [n for n, on in (("causal", p["causal"]), (f"pad {p['pad']}", p["pad"])) if on]
            return (f"one attention · T = {len(m.view.words)}, d = {p['d']} · mask: "
                    f"{' + '.join(masks) or 'none'} · positions {'on' if p['positions'] else 'off'} · v: view")
        if m.kind == "scaling":
            return f"why √d: random q and {p['keys']} keys with N(0, 1) entries · v: view"
        if m.kind == "positions":
            return f"sinusoidal positional encoding · {p['length']} positions × d = {p['pe_dim']} · v: view"
        if m.kind == "train":
            # at most about 78 columns: the lab's width beside a lesson
            return (f"transformer · {p['task']} {p['seq_len']} digits · {p['layers']} layers × "
                    f"{p['heads']} heads · d = {p['d_model_train']} · {m.view.net.n_parameters} params")
        return (f"character decoder (causal) · context {p['context']} · {p['layers']} layers × "
                f"{p['heads']} heads · {m.view.net.n_parameters} params")

    def _short_status(self) -> str:
        m = self.model
        if m.kind == "steps":
            return f"stage {m.view.stage}/{len(STAGES) - 1} {STAGES[m.view.stage][0]}"
        if m.kind == "scaling":
            return f"d = {m.view.d}"
        if m.kind == "positions":
            return f"position {m.view.pos}"
        if self._target is not None:
            return f"step {m.view.state.step} · retraining the steps you had taken…"
        return f"step {m.view.state.step}"

    def _draw_steps(self, width: int) -> None:
        v = self.model.view
        a, stage, t, i = v.att, v.stage, len(v.att.words), v.query
        d_model, d = a.X.shape[1], a.Q.shape[1]
        words = a.words
        show = lambda k: stage >= k
        blocks = [
            render.matrix_block(f"X {t}×{d_model}", a.X, t, d_model, row_labels=words, lit=stage == 0, mark_row=i),
            render.matrix_block(f"Q {t}×{d}", a.Q if show(1) else None, t, d, lit=stage == 1),
            render.matrix_block(f"K {t}×{d}", a.K if show(2) else None, t, d, lit=stage == 2),
            render.matrix_block(f"V {t}×{d}", a.V if show(3) else None, t, d, lit=stage == 3),
            render.matrix_block(f"S=QKᵀ/√{d}" if stage < 5 else "S + M", (a.S if stage < 5 else a.M) if show(4) else None,
                                t, t, row_labels=words, lit=stage in (4, 5), mark_row=i),
            render.matrix_block("A=softmax", a.A if show(6) else None, t, t, kind="weights", lit=stage == 6),
            render.matrix_block(f"Y=AV {t}×{d}", a.Y if show(7) else None, t, d, lit=stage == 7),
        ]
        self.query_one("#att-matrices", TextLines).update(render.flow(blocks, width))
        name, text = STAGES[stage]
        extra = ""
        if stage == 5:
            masked = int((~a.mask).sum())
            extra = (f"\n{masked} scores set to −∞ (exp(−∞) = 0)." if masked else
                     "\nNo mask: c turns on the causal mask, p pads the end.")
        elif stage >= 6:
            extra = f"\nRow {i} ('{words[i]}') sums to {a.A[i].sum():.3f}."
        if stage == 0 and len(set(words)) < len(words) and not self.model.params["positions"]:
            extra = "\nA repeated word has the same x (e adds positions)."
        set_text(self.query_one("#att-explain", Static), f"{text}{extra}")
        # Beside a lesson the matrices take four bands: keep the one being computed in view.
        pane = self.query_one("#pane-steps", VerticalScroll)
        if stage >= 4:
            pane.call_after_refresh(pane.scroll_end, animate=False)
        else:
            pane.call_after_refresh(pane.scroll_home, animate=False)

    def _draw_scaling(self, width: int) -> None:
        v = self.model.view
        k = v.shown
        xs = np.array(DIMS[:k], dtype=np.float64)
        raw = np.array([s["max_raw"] for s in v.stats[:k]])
        scaled = np.array([s["max_scaled"] for s in v.stats[:k]])
        every = np.array(DIMS, dtype=np.float64)  # the uniform line spans every d: a fixed x axis
        uniform = np.full(every.size, 1.0 / v.keys)
        chart = self.query_one("#att-chart", LineChart)
        chart.markers = [(float(v.d), float(raw[-1]), f"d={v.d}")]
        chart.set_series([Series("uniform 1/t", uniform, every, "#777777"),
                          Series("softmax(q·k/√d)", scaled, xs, SCALED),
                          Series("softmax(q·k)", raw, xs, RAW)])
        s, p_raw, p_scaled = v.example()
        bar_w = max(4, min(30, (width - 24) // 2))
        lines = [Text(f"one query, {v.keys} keys, d = {v.d}:  q·k spreads like √d = {np.sqrt(v.d):.3g}", style="bold")]
        for j in range(min(v.keys, 10)):
            line = Text(f"k{j:<2}{s[j]:7.1f} ")
            line.append("█" * int(round(p_raw[j] * bar_w)), style=RAW)
            line.append(" " * (bar_w - int(round(p_raw[j] * bar_w))) + " │ ")
            line.append("█" * int(round(p_scaled[j] * bar_w)), style=SCALED)
            lines.append(line)
        lines.append(Text(f"{'':11}{'softmax(q·k)':<{bar_w}} │ softmax(q·k/√d)", style="dim"))
        lines.append(Text(f"largest |∂pᵢ/∂sⱼ|: {softmax_jacobian_norm(p_raw):.2g} unscaled, "
                          f"{softmax_jacobian_norm(p_scaled):.2g} scaled (gradient that gets through)"))
        self.query_one("#att-bars", TextLines).update(Text("\n").join(lines))

    def _draw_positions(self, width: int) -> None:
        v = self.model.view
        pe = v.pe
        table = render.heat_block(pe, -1.0, 1.0, "diverging", cell_w=1)[::2]  # 1 pixel per position
        marker = np.zeros((pe.shape[0], 2, 3), dtype=np.uint8)
        marker[v.pos] = (255, 230, 0)  # a yellow tab beside the selected position
        img = np.concatenate([marker, np.zeros_like(marker[:, :1]), table], axis=1)
        if img.shape[0] % 2:
            img = np.concatenate([img, np.zeros((1, img.shape[1], 3), np.uint8)])
        self.query_one("#att-pe", PixelView).set_pixels(img)
        # the similarity of every pair of positions, where the width allows (not beside a lesson)
        sim_view = self.query_one("#att-sim", PixelView)
        sim_view.display = width >= 3 + v.dim + 2 + v.length + 2 + 40
        if sim_view.display:
            sim = render.heat_block(v.similarity, float(v.similarity.min()), v.dim / 2, "viridis", cell_w=1)[::2]
            sim = sim.copy()
            sim[v.pos] = (255, 230, 0)  # the selected position's row, in the tab's yellow
            if sim.shape[0] % 2:
                sim = np.concatenate([sim, np.zeros((1, sim.shape[1], 3), np.uint8)])
            sim_view.set_pixels(sim)
        row = pe[v.pos]
        lines = ["PE table: row = position (0 at the top),",
                 f"column = dimension 0..{v.dim - 1}; blue −1, red +1.",
                 f"Position {v.pos} has the yellow tab.",
                 "", "PE(p, 2i)   = sin(p / 10000^(2i/d))", "PE(p, 2i+1) = cos(p / 10000^(2i/d))", "",
                 f"PE({v.pos}, 0..3) = {', '.join(f'{x:.2f}' for x in row[:4])}",
                 f"PE({v.pos})·PE({v.pos}) = {v.similarity[v.pos, v.pos]:.1f} (= d/2)",
                 "similarity falls with |p − j|,", "the same for every p: relative offsets."]
        if self.query_one("#att-sim", PixelView).display:
            lines += ["", "Middle: PE(p)·PE(j) for every pair", "(bright = similar; the yellow row is p)."]
        set_text(self.query_one("#att-pe-side", Static), "\n".join(lines))
        chart = self.query_one("#att-pe-chart", LineChart)
        chart.title = f"PE({v.pos})·PE(j)"
        chart.markers = [(float(v.pos), float(v.similarity[v.pos, v.pos]), f"p={v.pos}")]
        chart.set_series([Series("similarity", v.similarity[v.pos], np.arange(v.length, dtype=float), SCALED)])

    def _draw_train(self, width: int) -> None:
        m = self.model
        v, s = m.view, m.view.state
        ideal = v.ideal if m.kind == "train" else None
        rows = max(4, self.size.height - 14)  # leave the loss chart, question and controls room
        img, overlay = maps_image(s.maps, ideal, max(8, min(width - SIDE - 4, 72)), rows)
        view = self.query_one("#att-maps", PixelView)
        view.set_pixels(img)
        view.set_overlay(overlay)
        if m.kind == "train":
            ex = "".join(map(str, v.example))
            right = "".join(map(str, task_targets(v.task, v.example[None])[0]))
            lines = [f"input  {ex}", f"answer {right}", f"model  {s.prediction}",
                     f"{'✓ right' if s.prediction == right else '✗ not yet'}", "",
                     f"loss {s.loss:.4f}", "held-out digits", f"right: {s.accuracy:.1%}", "",
                     "maps: output down,", "input across;", "weight on the ideal", "map, per head:"]
            for l in range(s.alignment.shape[0]):
                lines.append(f" L{l + 1}: " + " ".join(f"{a:.2f}" for a in s.alignment[l]))
        else:
            text = s.prediction
            lines = [f"loss {s.loss:.4f}", f"sample at τ = {m.params['temperature']:g}:"]
            lines += [text[k:k + SIDE] for k in range(0, len(text), SIDE)]
            lines += ["", f"maps: the first {v.example.size}", "characters, query", "down, key across;",
                      "causal: the upper", "triangle stays empty"]
        set_text(self.query_one("#att-train-text", Static), "\n".join(lines))
        states = v.states
        steps = np.array([st.step for st in states], dtype=np.float64)
        losses = np.array([st.loss for st in states])
        self.query_one("#att-loss", LineChart).set_series([Series("loss", losses, steps, RAW)])

    # --- questions -----------------------------------------------------------------------------
    def _ask(self) -> None:
        predict = self.query_one(PredictInput)
        m = self.model
        if m.trains and m.index > 0:
            self._trained_past = True  # the step-0 question is not asked again after training
        q = None if self.playing or self.busy else m.question()
        if q is not None and m.trains and self._trained_past:
            q = None
        if q is None:
            if predict.state == "asking":
                predict.clear()
            self._asked = None
            return
        key = (q[0], q[1], self.model.index)
        if key == self._asked:
            return
        self._asked = key
        predict.ask(q[0], q[1], q[2], q[3], q[4])

    def on_predict_input_checked(self, message: PredictInput.Checked) -> None:
        message.stop()
        self.post_message(Lab.Answered(self.lab_name, message.key, message.correct))
        self.focus()

    def action_predict(self) -> None:
        """i: into the answer field (a digit, sign or point typed on the lab also starts one)."""
        self.query_one(PredictInput).start_answer("")

    # --- Lab protocol ----------------------------------------------------------------------
    def step_forward(self) -> bool:
        if self.model.trains:
            if not self.busy:
                self.busy = True
                self._train(self.model)
            return True
        moved = self.model.step()
        self.request_redraw()
        return moved

    @work(thread=True, exclusive=True, group="attention-train", exit_on_error=False)
    def _train(self, model: AttentionModel) -> None:
        """(Thread.) One chunk of training; the UI keeps drawing the last state meanwhile."""
        moved = model.step()
        self.post_message(self.Trained(model, moved))

    def on_attention_lab_trained(self, message: Trained) -> None:
        message.stop()
        if message.model is not self.model:
            return
        self.busy = False
        self._target = None
        if not message.moved:
            self.playing = False
            self.note = "training stopped: the loss is not finite (try a smaller lr)"
        self.request_redraw()

    def step_back(self) -> bool:
        if self._restoring():
            return False
        moved = self.model.back()  # waits for a running chunk (the model's lock)
        self.request_redraw()
        return moved

    def reset_lab(self) -> None:
        if self._restoring():
            return
        self.model.reset()
        self.note = ""
        self.request_redraw()

    def pytorch_code(self) -> str | None:
        return self.model.pytorch_code()

    # --- the lab as the student left it ---------------------------------------------------------
    def save_state(self) -> dict:
        """View, settings, step (see tutor.labs.attention.state for what is retrained and
        what is not kept)."""
        from tutor.labs.attention.state import save

        target, kept = self._target, self._kept
        if kept and kept[0] is self.model and self.model.index == kept[1]:
            target = kept[2]  # not moved since: the longer run stays saved
        return save(self.model, self._trained_past, target)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.attention.state import parse

        restored = parse(state)  # raises before anything changes
        self.playing = False
        self.workers.cancel_group(self, "attention-train")
        self.model = restored.model
        self.params = dict(restored.model.params)
        self._trained_past = restored.trained_past
        self.note = restored.note
        self._asked = None
        self.busy, self._target = False, None
        self._kept = (restored.model, restored.replay, restored.target)
        if restored.replay:
            self.busy, self._target = True, restored.target
            self._replay(restored.model, restored.replay)
        self.request_redraw()

    @work(thread=True, exclusive=True, group="attention-train", exit_on_error=False)
    def _replay(self, model: AttentionModel, chunks: int) -> None:
        """(Thread.) Retrain `chunks` chunks from the seed: the weights the student had."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        moved = True
        for done in range(1, chunks + 1):
            if worker.is_cancelled or model is not self.model:
                return
            moved = model.step()
            if not moved:
                break
            self.post_message(self.Replayed(model, done, chunks))
        self.post_message(self.Trained(model, moved))

    def on_attention_lab_replayed(self, message: Replayed) -> None:
        message.stop()
        if message.model is self.model:
            self.request_redraw()

    def _restoring(self) -> bool:
        if self._target is not None:
            self.notify("retraining the steps you had taken…", timeout=2)
            return True
        return False

    # --- settings ------------------------------------------------------------------------------
    def apply(self, name: str, value) -> bool:
        self.playing = False
        error = self.model.apply(name, value)
        if error:
            self.note = f"✗ {error}"
            self.request_redraw()
            return False
        self.params[name] = self.model.params[name]
        self.note = ""
        self.busy = False
        self._target = None
        self._asked = None
        self._trained_past = False
        self.request_redraw()
        return True

    def action_next_view(self) -> None:
        self.apply("view", VIEWS[(VIEWS.index(self.model.kind) + 1) % len(VIEWS)])

    def action_toggle(self, name: str) -> None:
        if self._steps_only():
            stage = self.model.view.stage
            if self.apply(name, not self.model.params[name]):
                self.model.advance(stage)  # stay at the same stage
                self.request_redraw()

    def action_next_pad(self) -> None:
        if self._steps_only():
            stage = self.model.view.stage
            t = len(self.model.view.words)
            if self.apply("pad", (self.model.params["pad"] + 1) % min(t, 3)):
                self.model.advance(stage)
                self.request_redraw()

    def action_next_query(self) -> None:
        if self._steps_only():
            stage = self.model.view.stage
            t = len(self.model.view.words)
            if self.apply("query", (self.model.view.query + 1) % t):
                self.model.advance(stage)
                self.request_redraw()

    def _steps_only(self) -> bool:
        if self.model.kind != "steps":
            self.notify("This key works in the steps view (v switches views).", timeout=2)
            return False
        return True


LAB_CLASS = AttentionLab
