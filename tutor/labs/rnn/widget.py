"""The RNN lab widget: the unrolled network and BPTT, the memory race, a character model."""

from __future__ import annotations

import math
import threading
from time import monotonic

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.labs.rnn import params as P
from tutor.labs.rnn.draw import section_pixels, stack_picture, unroll_picture, unroll_sections
from tutor.labs.rnn.model import RnnModel
from tutor.labs.rnn.training import MEMORY_BUDGET, MEMORY_CELLS, N_SYMBOLS, PROMPT
from tutor.labs.rnn.unroll import fmt
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

SIDE_WIDTH = 30
REDRAW_EVERY = 0.1  # seconds between pictures while a worker trains
CELL_COLORS = {"rnn": "#ff7b72", "lstm": "#58a6ff", "gru": "#7ee787"}
ALL = P.VIEWS

#: The settings column: (parameter, label, kind, step, views that use it).
SETTINGS = (
    ("view", "view v", "choice", None, ALL),
    ("cell", "cell c", "choice", None, ("unroll", "text")),
    ("activation", "φ a", "choice", None, ("unroll", "text")),
    ("rho", "ρ < >", "float", 0.1, ("unroll",)),
    ("w_init", "W_hh", "choice", None, ("unroll",)),
    ("gate_bias", "gate b.", "float", 0.5, ("unroll", "memory", "text")),
    ("T", "T", "int", 1, ("unroll",)),
    ("hidden", "H", "int", 1, ("unroll",)),
    ("input_scale", "x scale", "float", 0.1, ("unroll",)),
    ("length", "length T", "int", 5, ("memory",)),
    ("temperature", "temp < >", "float", 0.1, ("text",)),
    ("lr", "lr η", "float", None, ("memory", "text")),
    ("clip", "clip k", "choice", None, ("unroll", "memory", "text")),
    ("clip_norm", "clip at", "float", 0.5, ("unroll", "memory", "text")),
    ("seed", "seed", "int", 1, ("unroll", "memory", "text", "padding")),
)


def _views_of(key: str) -> tuple:
    """The views whose settings column shows the field of parameter `key`."""
    return next(views for name, *_, views in SETTINGS if name == key)


KEYS_HELP = {
    "unroll": "c cell · a φ · < > ρ∓0.1\nk clipping · g gates/states\ni predict · esc leave a field",
    "memory": "space trains (a worker)\nn one step · k clipping\ni predict · esc leave a field",
    "text": "space trains (a worker)\n< > temperature ∓0.1 · c cell\ni predict · esc leave a field",
    "padding": "n one time step\ndim: a word that has ended\ni predict · esc leave a field",
}


class RnnLab(FieldKeys, ModelLab):
    """Recurrent networks: unroll a cell over T steps and watch BPTT carry ∂ℒ/∂hₜ back; race
    RNN, LSTM and GRU on a memory task; train a character model and sample it.

    In the unrolled view a step computes one hidden state (forward) or one ∂ℒ/∂hₜ (backward);
    in the training views a step is one batch, and playing trains in a thread worker. `b` steps
    back, `r` returns to the start; changing a setting rebuilds from the seed.
    """

    DEFAULT_CSS = """
    RnnLab {
        layout: vertical;
        & #rnn-main { height: 1fr; }
        & #rnn-left { width: 1fr; min-width: 12; }
        & #rnn-title { height: 1; color: $text; text-style: bold; }
        & #rnn-picture-box { height: 1fr; }
        & #rnn-chart { height: 1fr; min-height: 5; display: none; }
        & #rnn-figures { height: 3; }
        &.-memory #rnn-picture-box { height: 1fr; max-height: 8; }
        &.-memory #rnn-chart { display: block; height: 1fr; max-height: 14; }
        &.-memory #rnn-figures { height: 1fr; min-height: 5; }
        &.-text #rnn-picture-box { display: none; }
        &.-text #rnn-chart { display: block; height: 10; }
        &.-text #rnn-figures { height: 1fr; min-height: 4; }
        &.-padding #rnn-figures { height: auto; }
        & #rnn-side { width: %d; padding: 0 0 0 1; background: $panel; scrollbar-size-vertical: 1; }
        & #rnn-message { height: auto; color: $text-warning; }
        & #rnn-keys { height: auto; color: $text-muted; margin: 1 0 0 0; }
        & ParamInput .param-input--label { min-width: 9; }
        & ParamInput.-unused { display: none; }
    }
    """ % SIDE_WIDTH

    BINDINGS = [
        Binding("v", "next('view')", "View"),
        Binding("c", "next('cell')", "Cell"),
        Binding("a", "next('activation')", "Activation φ", show=False),
        Binding("k", "toggle_clip", "Clipping", show=False),
        Binding("g", "toggle_gates", "Gates/states"),
        Binding("less_than_sign", "knob(-0.1)", "ρ or temperature − 0.1", show=False),
        Binding("greater_than_sign", "knob(0.1)", "ρ or temperature + 0.1", show=False),
        Binding("i", "focus_predict", "Predict", show=False),
        Binding("escape", "focus_lab", "Leave a field", show=False),
    ]

    lab_name = "rnn"

    class Trained(Message):
        """The training worker took steps (posted from the thread; merged in the queue)."""

        def __init__(self, run: int, done: bool = False, finished: bool = False) -> None:
            super().__init__()
            self.run = run  # which worker (a stale one's messages are ignored)
            self.done = done  # the worker stopped
            self.finished = finished  # ... because the model has no step left

        def can_replace(self, message: Message) -> bool:
            return (isinstance(message, RnnLab.Trained) and not message.done
                    and message.run == self.run)

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.model = RnnModel(self.params)
        self.show_gates = False
        self.note = ""
        self._answered: set[str] = set()
        self._passed: set[str] = set()  # questions the student stepped past
        self._lock = threading.Lock()  # the model is stepped by the UI or by one worker
        self._working = False
        self._drawn_at = 0.0
        self._run = 0  # the number of the latest training worker
        self._head_start = int(self.model.params["steps"]) if self.model.training else 0
        self._target: int | None = None  # the step a restore's worker trains towards
        self._kept = None  # (model, steps replayed, steps saved) of a shortened restore
        self.add_class(f"-{self.model.params['view']}", update=False)

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        p = self.model.params
        with Horizontal(id="rnn-main"):
            with Vertical(id="rnn-left"):
                yield Static("", id="rnn-title", markup=False)
                with Vertical(id="rnn-picture-box"):
                    yield PixelView(id="rnn-picture")
                yield LineChart(title="loss", x_label="step", id="rnn-chart")
                yield Static("", id="rnn-figures", markup=False)
            with VerticalScroll(id="rnn-side", can_focus=False):
                yield PredictInput(id="rnn-predict")
                yield Static("", id="rnn-message", markup=False)
                for key, label, kind, step, _views in SETTINGS:
                    spec = P.PARAMS[key]
                    choices = ("off", "on") if spec.kind == "bool" else spec.choices
                    unused = "-unused" if p["view"] not in _views_of(key) else None
                    yield ParamInput(key, label, self._shown(key), kind, min=spec.min,
                                     max=spec.max, choices=choices, step=step, id=f"rnn-pi-{key}",
                                     classes=unused)
                yield Static("", id="rnn-keys", markup=False)
        yield StepControls(id="rnn-controls")

    def _shown(self, key: str):
        value = self.model.params[key]
        return ("on" if value else "off") if P.PARAMS[key].kind == "bool" else value

    def on_mount(self) -> None:
        super().on_mount()
        self._view_classes()
        if self._head_start:
            self._start_worker(self._head_start)

    def on_resize(self) -> None:
        self.call_after_refresh(self.draw_picture)

    def _view_classes(self) -> None:
        """The view's class on the lab and `-unused` on the fields it does not use, each widget
        restyled once at most (a class change restyles a widget and all it holds: one class at
        a time, a view change restyled the whole lab up to six times). The lesson's view is set
        before the lab is first styled (`__init__`, `compose`): mounting restyles nothing."""
        view = self.model.params["view"]
        self.update_classes({f"-{name}": name == view for name in ALL})
        for field in self.query(ParamInput):
            field.set_class(view not in _views_of(field.param_name), "-unused")

    # --- drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        """Bring every part of the lab up to the model's current state."""
        if not self.is_mounted:
            return
        m = self.model
        view = m.params["view"]
        set_text(self.query_one("#rnn-title", Static), self._title())
        set_text(self.query_one("#rnn-figures", Static), self._figures())
        set_text(self.query_one("#rnn-message", Static), self.note)
        set_text(self.query_one("#rnn-keys", Static), KEYS_HELP[view])
        self.query_one(StepControls).status = ("training… " if self._working else "") + m.status()
        if view in ("memory", "text"):
            self._draw_chart()
        self.draw_picture()
        self._predict()

    def _title(self) -> str:
        p, v = self.model.params, self.model.view
        view = p["view"]
        if view == "unroll":
            extra = " (φ fixed)" if p["cell"] != "rnn" else f" φ={p['activation']}"
            return f"{p['cell'].upper()}{extra} · ρ={p['rho']:g} · T={v.T} · H={v.H} · ℒ = uᵀh_T"
        if view == "memory":
            return (f"recall x₁ after T={v.length} noisy steps · RNN, LSTM, GRU · H=16 · "
                    f"{MEMORY_BUDGET} steps each")
        if view == "padding":
            return f"{len(v.words)} words padded to T={v.T} · GRU H=6 · mask 1 real, 0 pad"
        return f"{v.cell.upper()} character model · {len(v.corpus.text)} characters of Peter Rabbit"

    def _figures(self) -> str:
        view = self.model.params["view"]
        if view == "memory":
            return self._memory_table()
        if view == "padding":
            return self._padding_text()
        if view == "text":
            v = self.model.view
            return (f"temperature {self.model.params['temperature']:g} · chance ln {v.corpus.vocab}"
                    f" = {v.chance_loss():.2f}\n{PROMPT}{v.sample_text()}")
        v = self.model.view
        shown = v.backward_done
        first = f"‖∂ℒ/∂h₁‖ = {fmt(v.dh_norms[0])}" if shown == v.T else "‖∂ℒ/∂h₁‖ = ?"
        ratio = ""
        if shown == v.T and v.T > 1 and v.dh_norms[0] > 0 and math.isfinite(v.dh_norms[0]):
            ratio = f" · ×{v.dh_norms[0] ** (1 / (v.T - 1)):.3g} per step"
        line2 = ("linear, W_hh = ρQ: ‖∂ℒ/∂h₁‖ = ρ^(T−1)" if v.closed_form() is not None
                 else "‖∂ℒ/∂hₜ‖ = ‖(∂hₜ₊₁/∂hₜ)ᵀ ⋯ (∂h_T/∂h_T₋₁)ᵀ u‖")
        grad = v.gradient_line() if shown == v.T else "‖∇θℒ‖ after BPTT"
        return f"‖∂ℒ/∂h_T‖ = 1 · {first}{ratio}\n{line2}\n{grad}"

    def _padding_text(self) -> str:
        v = self.model.view
        lines = v.grid_lines()
        order = ", ".join(v.words[b] for b in v.sorted_order())
        slots = v.T * len(v.words)
        lines.append(f"packing sorts by length: {order}")
        lines.append(f"{v.real_tokens} real tokens of {slots} slots: the loss")
        lines.append(f"averages over the {v.real_tokens}")
        if v.k == v.T:
            lines.append(f"last state vs word alone: max |Δ| = {v.final_gap():.1e}")
        else:
            lines.append("last state vs word alone: after the last step")
        return "\n".join(lines)

    def _memory_table(self) -> str:
        v = self.model.view
        steps, loss, acc = v.curves()
        rows = [f"{'cell':5} {'loss':>6} {'acc':>5} {'‖∂ℒ/∂h₁‖/‖∂ℒ/∂h_T‖':>20}"]
        for i, cell in enumerate(MEMORY_CELLS):
            if len(steps):
                reach = v.state.reach[i]
                rows.append(f"{cell.upper():5} {loss[-1, i]:6.3f} {acc[-1, i]:5.0%} {fmt(reach):>20}")
            else:
                rows.append(f"{cell.upper():5} {'–':>6} {'–':>5} {'–':>20}")
        rows.append(f"chance: ln {N_SYMBOLS} = {v.chance_loss():.3f}, {1 / N_SYMBOLS:.0%}")
        return "\n".join(rows)

    def _draw_chart(self) -> None:
        chart = self.query_one("#rnn-chart", LineChart)
        v = self.model.view
        if self.model.params["view"] == "memory":
            steps, loss, _ = v.curves()
            series = [Series(c.upper(), loss[:, i] if len(steps) else np.zeros(0), x=steps,
                             color=CELL_COLORS[c]) for i, c in enumerate(MEMORY_CELLS)]
        else:
            steps, loss = v.curve()
            series = [Series(v.cell.upper(), loss, x=steps, color=CELL_COLORS[v.cell])]
        chance = v.chance_loss()
        if len(steps):
            series.append(Series("chance", np.array([chance, chance]),
                                 x=np.array([steps[0], steps[-1]]), color="#8a8a96"))
        chart.set_series(series)

    def draw_picture(self) -> None:
        if not self.is_mounted:
            return
        view = self.model.params["view"]
        box = self.query_one("#rnn-picture-box").size
        if view == "text" or box.width < 8 or box.height < 2:
            return
        picture = self.query_one("#rnn-picture", PixelView)
        if view == "memory":
            pixels, overlay = self._task_picture(box.width, box.height)
        elif view == "padding":
            v = self.model.view
            sections = [(w, v.run.h[1:, b, :].T) for b, w in enumerate(v.words)]
            pixels, overlay = stack_picture(sections, v.k, box.width, box.height, v.mask.T)
        else:
            if box.height < 4:
                return
            v = self.model.view
            sections = unroll_sections(v.run, v.activation, self.show_gates)
            pixels, overlay = unroll_picture(sections, v.dh_norms, v.forward_done,
                                             v.backward_done, box.width, box.height)
        picture.set_pixels(pixels)
        picture.set_overlay(overlay)

    def _task_picture(self, width: int, rows: int):
        """One sequence of the memory task: channels (rows) over time (columns)."""
        from core.recurrent import recall_batch

        v = self.model.view
        x, label = recall_batch(v.length, 1, N_SYMBOLS, 0.5, seed=int(v.params["seed"]), step=0)
        values = x[:, 0, :].T  # (K + 1, T)
        label_cols = 6
        img = np.zeros((2 * rows, width, 3), dtype=np.uint8)
        img[:] = (24, 24, 28)
        img[:, label_cols:] = section_pixels("h", values, v.length, 2 * rows, width - label_cols)
        overlay = {(0, 0): ("  xₜ", "#c8c8d0"), (rows - 1, 0): (f"→ {int(label[0])}", "#ffd75f")}
        return img, overlay

    # --- predict then reveal ---------------------------------------------------------------
    def _question(self):
        m = self.model
        view = m.params["view"]
        v = m.view
        if view == "memory":
            return (f"chance:{N_SYMBOLS}", f"Predict the loss of a network that forgot x₁ "
                    f"({N_SYMBOLS} symbols)", v.chance_loss(), 0.05,
                    "A uniform guess gives −ln(1/K) = ln K: the curve stuck there has learned "
                    "nothing about x₁.")
        if view == "padding":
            return ("packed:t4", "Predict: how many words does the packed batch still run "
                    "at t = 4?", float(v.batch_sizes()[3]), 0.0,
                    "Only the words longer than 3 characters (garden, Peter): batch_sizes = "
                    + " ".join(str(s) for s in v.batch_sizes()) + ".")
        if view == "text":
            V = v.corpus.vocab
            return (f"chance:text:{V}", f"Predict the first loss ({V} characters)",
                    v.chance_loss(), 0.15, f"Untrained, p ≈ 1/{V} for every character: "
                    f"−ln(1/{V}) = ln {V}.")
        p = m.params
        key = f"dh1:{p['cell']}:{p['activation']}:{p['w_init']}:{p['rho']:g}:{p['gate_bias']:g}:{v.T}"
        closed = v.closed_form()
        if closed is not None:
            return (key, f"Predict ‖∂ℒ/∂h₁‖ (ρ={p['rho']:g}, T={v.T}, linear)", closed,
                    0.02 * closed, f"ρ^(T−1) = {p['rho']:g}^{v.T - 1}: one factor Wᵀ per step, "
                    "each shrinking or stretching by exactly ρ.")
        actual = v.dh_norms[0]
        answer = math.log10(actual) if actual > 0 and math.isfinite(actual) else -300.0
        return (key, "Predict log₁₀ ‖∂ℒ/∂h₁‖ (± 0.5)", answer, 0.5,
                f"‖∂ℒ/∂h₁‖ = {fmt(actual)}: each step multiplies by a Jacobian "
                "diag(φ')·W_hhᵀ (or the gates' own).")

    def _revealed(self) -> bool:
        v = self.model.view
        if self.model.params["view"] == "unroll":
            return v.backward_done == v.T
        if self.model.params["view"] == "padding":
            return v.k >= 4
        return v.k >= 1

    def _predict(self) -> None:
        """The unrolled view asks once the forward pass is done (before BPTT's first step); the
        training views ask at step 0, and not again after `r` once the student trained past it
        (so + and - stay the speed keys). The answer is revealed once it is on screen."""
        predict = self.query_one("#rnn-predict", PredictInput)
        key, prompt, answer, tol, explanation = self._question()
        v = self.model.view
        k = v.k
        training = self.model.training
        if training and k > 0:
            self._passed.add(key)
        if self._revealed():
            if predict.key == key and predict.state == "asking":
                predict.reveal()
            return
        ask_at = v.T if self.model.params["view"] == "unroll" else 0
        skip = key in self._answered or (training and key in self._passed)
        if k < ask_at or skip:
            if predict.state != "idle" and not (key in self._answered and predict.key == key and k >= ask_at):
                predict.clear()
            return
        if predict.key != key or predict.state == "idle":
            predict.ask(key, prompt, answer, tol, explanation)

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        event.stop()
        self._answered.add(event.key)
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))

    # --- stepping: training views step under a lock, playing trains in a worker -----------
    def _busy(self) -> bool:
        if self._working and not self.playing:
            self.notify("training in the background…", timeout=2)
            return True
        return False

    def step_forward(self) -> bool:
        if self._busy():
            return False
        with self._lock:
            return super().step_forward()

    def step_back(self) -> bool:
        if self._busy():
            return False
        with self._lock:
            return super().step_back()

    def reset_lab(self) -> None:
        if self._busy():
            return
        with self._lock:
            super().reset_lab()

    def _tick(self) -> None:
        if not self.model.training:
            super()._tick()
        elif not self._working:
            self._start_worker(None)

    def _start_worker(self, steps: int | None) -> None:
        """Train in a thread: `steps` steps (a head start), or while playing (None)."""
        self._working = True
        self._run += 1
        run = self._run
        self.request_redraw()
        self.run_worker(lambda: self._train(steps, run), thread=True, exclusive=True,
                        group="rnn-train", exit_on_error=False)

    def _train(self, steps: int | None, run: int) -> None:
        """(Thread worker.) Step the model; the UI draws from the merged Trained messages."""
        worker = get_current_worker()
        model = self.model
        done = 0
        sampled = 0.0
        while not worker.is_cancelled and model is self.model:
            if steps is None and not self.playing and done:
                break  # (a started worker always takes its first step)
            if steps is not None and done >= steps:
                break
            with self._lock:
                moved = model.step()
            if not moved:
                self.post_message(self.Trained(run, done=True, finished=True))
                return
            done += 1
            if monotonic() - sampled > REDRAW_EVERY and hasattr(model.view, "sample_text"):
                model.view.sample_text()  # written here, so the redraw finds it ready
                sampled = monotonic()
            self.post_message(self.Trained(run))
        self.post_message(self.Trained(run, done=True))

    def on_rnn_lab_trained(self, message: Trained) -> None:
        message.stop()
        if message.run != self._run:
            return  # a worker that was replaced or cancelled
        if message.done:
            self._working = False
            if message.finished:
                self.playing = False
        elif monotonic() - self._drawn_at < REDRAW_EVERY:
            return  # a step every ~30 ms, a picture every 100 ms: the keys stay quick
        self._drawn_at = monotonic()
        self.request_redraw()

    # --- the lab as the student left it ----------------------------------------------------
    def save_state(self) -> dict:
        """Settings, step, gates picture, questions answered (see tutor.labs.rnn.state for
        what is retrained and what is not kept)."""
        from tutor.labs.rnn.state import save

        target = self._target if self._working else None
        kept = self._kept
        if kept and kept[0] is self.model and self.model.view.k == kept[1]:
            target = kept[2]  # not moved since: the longer run stays saved
        return save(self.model, self.show_gates, self._answered, self._passed, target)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.rnn.state import parse

        restored = parse(state, self._head_start)  # raises before anything changes
        self.playing = False
        self.workers.cancel_group(self, "rnn-train")
        self._working = False
        self._run += 1  # a cancelled worker's last messages are stale
        with self._lock:
            self.model = restored.model
        self.show_gates = restored.gates
        self._answered, self._passed = restored.answered, restored.passed
        self.note = restored.note
        self._sync_inputs()
        self._view_classes()
        self._target = None
        self._kept = (restored.model, restored.replay, restored.target)
        if restored.replay:
            self._target = restored.target
            self._start_worker(restored.replay)
        self.request_redraw()

    # --- keys ------------------------------------------------------------------------------
    def action_next(self, name: str) -> None:
        choices = P.PARAMS[name].choices
        current = self.model.params[name]
        self.change(name, choices[(choices.index(current) + 1) % len(choices)])

    def action_toggle_clip(self) -> None:
        self.change("clip", not self.model.params["clip"])

    def action_toggle_gates(self) -> None:
        self.show_gates = not self.show_gates
        self.request_redraw()

    def action_knob(self, delta: float) -> None:
        """< and > turn ρ (unrolled view) or the temperature (text view)."""
        name = "temperature" if self.model.params["view"] == "text" else "rho"
        spec = P.PARAMS[name]
        value = round(self.model.params[name] + delta, 6)
        self.change(name, min(spec.max, max(spec.min, value)))

    # --- editing ---------------------------------------------------------------------------
    def change(self, name: str, value) -> bool:
        """Apply one setting; a refused value is reported and the field shows the kept one."""
        if name != "temperature":
            self.playing = False
        if self._working and name != "temperature":
            self.workers.cancel_group(self, "rnn-train")
            self._working = False
            self._run += 1  # its last messages are stale
        with self._lock:
            error = self.apply_param(name, value)
        self.note = f"✗ {error}" if error else ""
        self._sync_inputs()
        self._view_classes()
        return error is None

    def _sync_inputs(self) -> None:
        for field in self.query(ParamInput):
            want = self._shown(field.param_name)
            if field.value != want:
                field.value = want

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        value = event.value
        if P.PARAMS[event.name].kind == "bool":
            value = value == "on"
        self.change(event.name, value)


LAB_CLASS = RnnLab
