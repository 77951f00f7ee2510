"""The Gridworld lab's "dqn" mode: a Q-network learns q* from sampled moves, trained in a worker."""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from tutor.labs.base import Lab
from tutor.labs.kit import ComputeAhead, FieldKeys, ModelLab
from tutor.labs.gridworld.dqn_model import (BATCH, BUFFER, EPISODES_PER_STEP, EPSILON, HIDDEN,
                                            LR, TARGET_UPDATE, DqnModel, DqnSnap)  # fmt: skip
from tutor.labs.gridworld.gridview import ARROWS, GridData, GridView, fmt
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text


class DqnLab(ComputeAhead, FieldKeys, ModelLab):
    """Deep Q-learning on a Gridworld: the network's max Q per cell and greedy arrows, the
    replay buffer, the target network's lag, and max |Q − q*| against value iteration.

    Keys: v shows the four Q-values of every cell, i focuses the prediction, n / space step
    five episodes at a time (trained ahead in a thread worker), b steps back. Back, reset and
    the PyTorch view are the kit's; stepping forward adds the wait for the worker.
    """

    DEFAULT_CSS = """
    DqnLab {
        layout: vertical;
        & #dqn-title { height: 1; color: $text-muted; }
        & #dqn-body { height: 1fr; }
        & #dqn-left { width: 1fr; min-width: 10; }
        & #dqn-side { width: 42; padding: 0 0 0 1; }
        & #dqn-stats { height: auto; }
        & #dqn-chart { height: 1fr; min-height: 5; }
        & #dqn-message { height: auto; color: $text-warning; }
    }
    """

    BINDINGS = [
        Binding("v", "toggle_q", "Q-values"),
        Binding("i", "focus_predict", "Predict"),
        Binding("escape", "focus_lab", "Lab keys", show=False),
    ]

    lab_name = "gridworld"

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.note = ""
        try:
            self.model = DqnModel(self.params)
        except ValueError as exc:  # a lesson's grid DQN cannot learn (every cell absorbing, say)
            self.note = f"{exc}; showing the notes' grid instead"
            self.params.update(preset="notes", rows=0, cols=0, gamma=-1.0, slip=-1.0)
            self.model = DqnModel(self.params)
        self.show_q = bool(self.params.get("show_q"))
        self._wants_more = False
        self._asked = False

    def compose(self) -> ComposeResult:
        yield Static("", id="dqn-title", markup=False)
        yield PredictInput(id="dqn-predict")
        with Horizontal(id="dqn-body"):
            with Vertical(id="dqn-left"):
                yield GridView(id="dqn-grid")
            with Vertical(id="dqn-side"):
                yield Static("", id="dqn-stats", markup=False)
                yield LineChart(title="max |Q − q*|", x_label="episode", log_y=True, id="dqn-chart")
        yield Static("", id="dqn-message", markup=False)
        yield StepControls(id="dqn-controls")

    def on_mount(self) -> None:
        super().on_mount()  # the first redraw is requested there
        self.compute_ahead()
        self.call_after_refresh(self._ask)

    def on_resize(self) -> None:
        self.request_redraw()

    # --- training in a worker ----------------------------------------------------------------
    def computed_ahead(self) -> None:
        """Five more episodes trained: shown at once if the student asked for them (or a
        restored lab waits for them)."""
        if self._restore_to:
            self._catch_up()
            self.request_redraw()
            return
        if self._wants_more and self.model.index < self.model.computed:
            self._wants_more = False
            self.note = ""
            super().step_forward()
        elif self.model.computed in (1, self.model.total_steps):
            self.request_redraw()  # the status line says whether training is still going

    # --- the prediction ------------------------------------------------------------------------
    def _ask(self) -> None:
        m = self.model
        r, c = m.question
        s = r * m.spec.cols + c
        q = float(m.q_star[s, 0])
        self._asked = True
        predict = self.query_one(PredictInput)
        predict.ask(
            "dqn-target", f"Predict first: which value should the network learn for Q(({r},{c}), ↑) (i)?",
            q, 0.05,
            f"q*(({r},{c}), ↑) = {q:.3f} by value iteration (γ {m.gamma:g}); the network only sees sampled "
            "moves, watch its estimate in the panel approach it.",
        )  # fmt: skip
        if self._predicted_before:  # a restored lab: answered before, shown (not scored again)
            predict.reveal()

    @property
    def predicted(self) -> bool:
        """Whether the question was answered or its answer shown."""
        return self.query_one(PredictInput).state in ("right", "wrong", "revealed")

    def on_predict_input_checked(self, message: PredictInput.Checked) -> None:
        message.stop()
        self.post_message(Lab.Answered(self.lab_name, message.key, message.correct))

    # --- drawing -------------------------------------------------------------------------
    def redraw(self) -> None:
        if not self.is_mounted:
            return
        m = self.model
        spec, s = m.spec, m.snap
        set_text(self.query_one("#dqn-title", Static),
                 f"deep Q-learning · γ {m.gamma:g} · one-hot({m.grid.n_states}) → {HIDDEN[0]} ReLU → 4 · "
                 f"{spec.title or 'custom grid'}")  # fmt: skip
        rows, cols = spec.rows, spec.cols
        self.query_one(GridView).show(GridData(
            kinds=m.grid.kind_grid(), values=m.values().reshape(rows, cols),
            arrows=m.arrows().reshape(rows, cols, 4),
            q=np.where(m.free[:, None], s.Q, 0.0).reshape(rows, cols, 4) if self.show_q else None,
            selected=m.question, rewards=dict(spec.rewards)))  # fmt: skip
        x, err = m.errors()
        chart = self.query_one(LineChart)
        chart.set_series([Series("network", err, x=x)])
        first = m.first_optimal()
        chart.markers = [(first, float(err[list(x).index(first)]), "optimal")] if first is not None else []
        set_text(self.query_one("#dqn-stats", Static), self._stats(s, first))
        training = m.computed < m.total_steps
        note = self.note or ("training ahead in the background…" if training and m.index >= m.computed else "")
        set_text(self.query_one("#dqn-message", Static), note)
        self.query_one(StepControls).status = m.status()

    def _stats(self, s: DqnSnap, first: int | None) -> str:
        m = self.model
        r, c = m.question
        q_idx = r * m.spec.cols + c
        n_free = int(m.free.sum())
        lag = float(np.abs(s.Q - s.Q_target)[m.free].max())
        lines = [
            f"episode {s.episode}, {s.transitions} moves, {s.updates} updates",
            f"ε {EPSILON:g} · Adam lr {LR:g} · batch {BATCH}",
            f"Q(({r},{c}), ↑): net {fmt(s.Q[q_idx, 0], 7)} · q* {fmt(m.q_star[q_idx, 0], 7)}",
            f"max |Q − q*| {s.error:.3g}",
            f"greedy = optimal in {s.optimal}/{n_free} cells"
            + (f" (all from ep. {first})" if first is not None else ""),
            "",
            f"replay buffer {s.buffer_len}/{BUFFER}, newest:",
        ]
        for t in s.recent:
            a, b = divmod(t.state, m.spec.cols), divmod(t.next_state, m.spec.cols)
            end = " end" if t.done else ""
            lines.append(f" ({a[0]},{a[1]}) {ARROWS[t.action]} ({b[0]},{b[1]}) r {t.reward:g}{end}")
        lines += [
            "",
            f"target net θ⁻: {s.since_sync} updates old",
            f" copied every {TARGET_UPDATE} ({s.syncs} copies)",
            f" max |Q(θ) − Q(θ⁻)| {lag:.3g}",
        ]
        return "\n".join(lines)

    # --- stepping ------------------------------------------------------------------------
    def step_forward(self) -> bool:
        """One step of five episodes: shown at once when the worker has computed it, else as
        soon as it has (never computed here: the keys never wait for training)."""
        m = self.model
        predict = self.query_one(PredictInput)
        if predict.state == "asking":
            predict.reveal()  # stepping before answering shows the answer (no score)
        if m.finished:
            return False
        if m.index < m.computed:
            self.note = ""
            return super().step_forward()
        self._wants_more = True
        self.request_redraw()
        return True

    def step_back(self) -> bool:
        self._restore_to = 0  # the student moves on from where the restored lab is
        return super().step_back()

    def reset_lab(self) -> None:
        self._restore_to = 0
        super().reset_lab()

    # --- the lab as the student left it ----------------------------------------------------
    _restore_to = 0
    """A restored lab: the step to show again once the worker has trained that far."""
    _predicted_before = False
    """A restored lab whose question was answered: its answer is shown, not asked again."""

    def save_state(self) -> dict:
        """The step shown (trained again on restore), whether the question was answered, and
        the Q-values toggle; the network is not saved (the worker retrains it, seeded)."""
        return {"view": "dqn", "step": max(self.model.index, self._restore_to),
                "predicted": self.predicted or self._predicted_before, "show_q": self.show_q}

    def restore_state(self, state: dict) -> None:
        """Back at the saved step once the worker has trained that far (shown at once if it
        has); raises on a damaged state (or the value-iteration view's) before any change."""
        from tutor.labs.saved import flag, mapping, whole

        mapping(state, ("view", "step", "predicted", "show_q"))
        if state["view"] != "dqn":
            raise ValueError(f"a {state['view']!r} view's state for the deep Q-learning view")
        step = whole(state["step"], "step", 0, self.model.total_steps)
        predicted, show_q = flag(state["predicted"], "predicted"), flag(state["show_q"], "show_q")
        self.show_q = show_q
        if predicted:
            self._predicted_before = True
            predict = self.query_one(PredictInput)
            if predict.state == "asking":
                predict.reveal()
        self.model.reset()
        self._restore_to = step
        self._catch_up()
        self.request_redraw()

    def _catch_up(self) -> None:
        """Show the trained steps up to the restored one; done once it is reached."""
        m = self.model
        while m.index < min(self._restore_to, m.computed):
            m.step()
        if m.index >= self._restore_to:
            self._restore_to, self.note = 0, ""
        else:
            episode = self._restore_to * EPISODES_PER_STEP
            self.note = f"training the network again up to episode {episode}…"

    # --- keys ----------------------------------------------------------------------------
    def action_toggle_q(self) -> None:
        self.show_q = not self.show_q
        self.request_redraw()
        view = self.query_one(GridView)
        cw, ch, _, _ = view.geometry(*view.size)
        if self.show_q and (cw < 11 or ch < 3):  # the grid draws no Q-value there: say why
            self.notify("The four Q-values need cells 11 wide and 3 tall: widen the lab (f).",
                        severity="warning")
