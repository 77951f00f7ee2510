"""The Gridworld lab: value iteration (or the random policy's evaluation, or Q-learning) on an
editable grid, sweep by sweep, with any cell's Bellman backup written out."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from rich.cells import cell_len
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.labs.gridworld.gridview import GridData, GridView, fmt
from tutor.labs.gridworld.model import GridModel
from tutor.labs.gridworld.params import MAX_EPISODES, MAX_SIDE, MODES, PRESETS
from tutor.labs.gridworld.presets import preset
from tutor.labs.gridworld.text import backup_text, loop_text
from tutor.widgets.line_chart import LineChart, Series
from tutor.widgets.palette import ORANGE
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls
from tutor.widgets.text import set_text

KEYS_HELP = (
    "←↑↓→ select · click select\n"
    "shift+click wall · w wall\n"
    "t terminal · c cell reward\n"
    "g γ · s slip · u step reward\n"
    "z size · m mode · p preset\n"
    "v Q-values · i predict\n"
    "e ε · a α · k episodes/step\n"
    "esc back from a field"
)

#: The longest text StepControls puts before the status (the speed has 3 digits, e.g. 25.3).
STATUS_PREFIX = "playing · 25.3 fps · "


class GridworldLab(FieldKeys, ModelLab):
    """Watch value iteration fill a Gridworld in, predict a cell's next value, edit the grid.

    Stepping, going back and resetting are the kit's (`ModelLab` over the `GridModel`);
    settings change in `apply_param`, edits of a cell in `_edit`; `redraw` draws it all.
    """

    lab_name = "gridworld"

    class Compared(Message):
        """The policy-iteration comparison finished in its worker."""

    DEFAULT_CSS = """
    GridworldLab {
        layout: vertical;
        #gw-body { height: 1fr; }
        #gw-left { width: 1fr; min-width: 20; }
        #gw-title { height: 1; color: $text; text-style: bold; padding: 0 1; }
        #gw-message { height: auto; color: $text-error; padding: 0 1; display: none; }
        #gw-message.-shown { display: block; }
        #gw-chart { height: 7; min-height: 4; }
        #gw-side { width: 34; padding: 0 0 0 1; background: $panel; scrollbar-size-vertical: 1; }
        #gw-backup { height: auto; margin: 0 0 1 0; }
        #gw-keys { height: auto; color: $text-muted; margin: 1 0 0 0; }
        ParamInput .param-input--label { min-width: 12; }
    }
    """

    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("w", "toggle_wall", "Wall"),
        Binding("t", "toggle_terminal", "Terminal"),
        Binding("v", "toggle_q", "Q-values"),
        Binding("m", "next_mode", "Mode"),
        Binding("p", "next_preset", "Preset"),
        Binding("i", "focus_predict", "Predict", show=False),
        Binding("c", "focus_input('cell_reward')", "Cell reward", show=False),
        Binding("g", "focus_input('gamma')", "γ", show=False),
        Binding("s", "focus_input('slip')", "Slip", show=False),
        Binding("u", "focus_input('step_reward')", "Step reward", show=False),
        Binding("z", "focus_input('rows')", "Size", show=False),
        Binding("e", "focus_input('epsilon')", "ε", show=False),
        Binding("a", "focus_input('alpha')", "α", show=False),
        Binding("k", "focus_input('episodes')", "Episodes", show=False),
        Binding("escape", "focus_lab", "Back to the lab", show=False),
    ]

    def __new__(cls, params: dict | None = None, *args, **kwargs):
        """`mode = "dqn"` builds the deep Q-learning view (`DqnLab`) instead."""
        if cls is GridworldLab and params is not None and params.get("mode") == "dqn":
            from tutor.labs.gridworld.dqn_widget import DqnLab

            return DqnLab(params, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        spec = preset(params["preset"])
        rows = params.get("rows") or spec.rows
        cols = params.get("cols") or spec.cols
        if (rows, cols) != (spec.rows, spec.cols):
            spec = spec.resized(rows, cols)
        for key in ("gamma", "slip"):
            value = params.get(key, -1.0)
            if value is not None and value >= 0:
                spec = replace(spec, **{key: float(value)})
        self.model = GridModel(spec, params["mode"], params["epsilon"], params["alpha"],
                               params["episodes"], params["seed"])
        self.show_q = bool(params["show_q"])
        self.selected: tuple[int, int] | None = None
        self._message = ""
        select = params.get("select")
        if select:
            try:
                r, c = (int(v) for v in select)
                if not (0 <= r < spec.rows and 0 <= c < spec.cols):
                    raise ValueError
                self.selected = (r, c)
            except (TypeError, ValueError):
                self._message = f"select = {select!r} is not a cell of the grid; ignored"
        self._ready = False  # set once composed: widgets can be queried (in on_mount already)
        self._panel_shape: tuple = ()  # (width, context, height) of the side panel's text
        self._message_shown = ""
        self._compared_grid = None
        self._asked: tuple | None = None
        self._answered: set[tuple] = set()
        if params.get("sweeps"):
            self.model.advance(int(params["sweeps"]))

    # --- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        m = self.model
        with Horizontal(id="gw-body"):
            with Vertical(id="gw-left"):
                yield Static("", id="gw-title", markup=False)
                yield Static("", id="gw-message", markup=False)
                yield GridView(id="gw-grid")
                yield LineChart(id="gw-chart", log_y=True)
            with VerticalScroll(id="gw-side", can_focus=False):
                yield Static("", id="gw-backup", markup=False)
                yield PredictInput(id="gw-predict")
                yield ParamInput("preset", "preset p", self.params["preset"],
                                 kind="choice", choices=PRESETS, id="pi-preset")
                yield ParamInput("mode", "mode m", m.mode, kind="choice", choices=MODES,
                                 id="pi-mode")
                yield ParamInput("gamma", "γ g", m.spec.gamma, min=0.0, max=1.0, step=0.01,
                                 id="pi-gamma")
                yield ParamInput("slip", "slip s", m.spec.slip, min=0.0, max=1.0, step=0.05,
                                 id="pi-slip")
                yield ParamInput("step_reward", "step rew. u", m.spec.step_reward, min=-100.0,
                                 max=100.0, step=0.5, id="pi-step_reward")
                yield ParamInput("cell_reward", "cell rew. c", 0.0, min=-1000.0, max=1000.0,
                                 id="pi-cell_reward")
                yield ParamInput("rows", "rows z", m.spec.rows, kind="int", min=1, max=MAX_SIDE,
                                 step=1, id="pi-rows")
                yield ParamInput("cols", "cols", m.spec.cols, kind="int", min=1, max=MAX_SIDE,
                                 step=1, id="pi-cols")
                yield ParamInput("epsilon", "ε e", m.epsilon, min=0.0, max=1.0, step=0.05,
                                 id="pi-epsilon")
                yield ParamInput("alpha", "α a", m.alpha, min=0.0, max=1.0, step=0.05,
                                 id="pi-alpha")
                yield ParamInput("episodes", "episodes k", m.episodes, kind="int", min=0,
                                 max=MAX_EPISODES, step=1, id="pi-episodes")
                yield Static(KEYS_HELP, id="gw-keys", markup=False)
        yield StepControls(id="gw-controls")

    def on_mount(self) -> None:
        super().on_mount()
        self._ready = True
        # Drawn at once, not after the first refresh as requested redraws are: the grid view
        # knows its cells from the first frame on (a click lands on the cell drawn under it).
        self.redraw()

    # --- the lab as the student left it ---------------------------------------------------------
    def save_state(self) -> dict:
        from tutor.labs.gridworld.state import save

        return save(self)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.gridworld.state import restore

        restore(self, state)
        self._sync_inputs()
        self.request_redraw()

    # --- actions -----------------------------------------------------------------------------
    def action_move(self, dr: int, dc: int) -> None:
        rows, cols = self.model.spec.rows, self.model.spec.cols
        if self.selected is None:
            self.selected = (rows // 2, cols // 2)
        else:
            r, c = self.selected
            self.selected = (min(rows - 1, max(0, r + dr)), min(cols - 1, max(0, c + dc)))
        self.request_redraw()

    def apply_param(self, name: str, value) -> str | None:
        """The one place a setting changes (a field, m, p): through `model.apply`. A refused
        value is shown under the title and the grid kept as it was."""
        if name == "cell_reward":  # an edit of the selected cell, not a setting of the model
            cell = self._cell_or_message()
            if cell is not None:
                self._edit(self.model.set_cell_reward, cell, value)
            return None
        if name == "preset":
            self.selected = None
        self.playing = False
        refused = self.model.apply(name, value)
        spec = self.model.spec
        if self.selected and (self.selected[0] >= spec.rows or self.selected[1] >= spec.cols):
            # a smaller grid: the selected cell is gone before any redraw (the redraw of (2, 2)
            # on a 1 x 5 grid raised)
            self.selected = None
        self._edited(refused)
        if name == "preset":
            self.query_one("#pi-preset", ParamInput).value = value
        return refused

    def _edit(self, what, *args) -> None:
        """Apply an edit of the grid (a wall, a terminal, a cell's reward); on a bad value
        keep the grid and show why."""
        self.playing = False
        try:
            what(*args)
        except ValueError as exc:
            self._edited(str(exc))
        else:
            self._edited(None)

    def _edited(self, refused: str | None) -> None:
        """After a change: its refusal shown (or the message cleared), the fields showing the
        model's settings, and the lab drawn again if something changed."""
        self._show_message(refused or "")
        self._sync_inputs()
        if refused is None:
            self.request_redraw()

    def _cell_or_message(self) -> tuple[int, int] | None:
        if self.selected is None:
            self._show_message("select a cell first (arrow keys or a click)")
        return self.selected

    def action_toggle_wall(self) -> None:
        cell = self._cell_or_message()
        if cell is not None:
            self._edit(self.model.toggle_wall, cell)

    def action_toggle_terminal(self) -> None:
        cell = self._cell_or_message()
        if cell is not None:
            self._edit(self.model.toggle_terminal, cell)

    def action_toggle_q(self) -> None:
        self.show_q = not self.show_q
        self.request_redraw()
        view = self.query_one(GridView)
        cw, ch, _, _ = view.geometry(*view.size)
        if self.show_q and (cw < 11 or ch < 3):
            self.notify("The four Q-values need cells 11 wide and 3 tall: widen the lab (f) or "
                        "shrink the grid (z).", severity="warning")

    def action_next_mode(self) -> None:
        self.apply_param("mode", MODES[(MODES.index(self.model.mode) + 1) % len(MODES)])

    def action_next_preset(self) -> None:
        current = self.query_one("#pi-preset", ParamInput).value
        self.apply_param("preset", PRESETS[(PRESETS.index(current) + 1) % len(PRESETS)])

    def action_focus_input(self, name: str) -> None:
        if name == "cell_reward" and self._cell_or_message() is None:
            return
        widget = self.query_one(f"#pi-{name}", ParamInput)
        widget.scroll_visible()
        for child in widget.query(Input):
            child.focus()
            return
        widget.focus()

    # --- messages ----------------------------------------------------------------------------
    def on_grid_view_cell_clicked(self, message: GridView.CellClicked) -> None:
        message.stop()
        self.selected = (message.row, message.col)
        self.focus()
        if message.shift or message.button == 3:
            self.action_toggle_wall()
        else:
            self.request_redraw()

    def on_param_input_changed(self, message: ParamInput.Changed) -> None:
        message.stop()
        self.focus()
        self.apply_param(message.name, message.value)

    @work(thread=True, exclusive=True, group="gridworld-compare", exit_on_error=False)
    def _compare(self) -> None:
        """Policy iteration can take seconds on a big γ = 1 grid: never on the event loop, and
        stopped between chunks of sweeps when the grid changes or the lab goes."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        if self.model.compare(lambda: worker.is_cancelled) is not None:
            self.post_message(self.Compared())

    def on_gridworld_lab_compared(self, message: Compared) -> None:
        message.stop()
        self.request_redraw()

    def on_predict_input_checked(self, message: PredictInput.Checked) -> None:
        message.stop()
        self._answered.add(self._asked)
        self.post_message(Lab.Answered(self.lab_name, "bellman-backup", message.correct))
        self.focus()
        self.request_redraw()

    # --- drawing -------------------------------------------------------------------------------
    def _show_message(self, text: str) -> None:
        self._message = text
        self._put_message(f"✗ {text}" if text else "")

    def _put_message(self, line: str) -> None:
        """Show `line` under the title ("" hides it); untouched when unchanged (no layout pass)."""
        if not self._ready or line == self._message_shown:
            return
        self._message_shown = line
        widget = self.query_one("#gw-message", Static)
        widget.update(line)
        widget.set_class(bool(line), "-shown")

    def _sync_inputs(self) -> None:
        """Show the model's settings in the inputs (after an edit, a preset, or a bad value)."""
        m = self.model
        values = {"gamma": m.spec.gamma, "slip": m.spec.slip, "step_reward": m.spec.step_reward,
                  "rows": m.spec.rows, "cols": m.spec.cols, "epsilon": m.epsilon,
                  "alpha": m.alpha, "episodes": m.episodes, "mode": m.mode}
        for name, value in values.items():
            widget = self.query_one(f"#pi-{name}", ParamInput)
            if widget.value != value:
                widget.value = value
        if self.selected is not None:
            reward = m.spec.reward_of(self.selected)
            self.query_one("#pi-cell_reward", ParamInput).value = (
                m.spec.step_reward if reward is None else reward)

    def redraw(self) -> None:
        """Draw the grid, its title, message, chart, status and side panel from the model."""
        if not self._ready:
            return
        m = self.model
        spec = m.spec
        rows, cols = spec.rows, spec.cols
        q = m.Q.reshape(rows, cols, 4) if self.show_q else None
        labels = {cell: f"{r:+g}" for cell, r in spec.rewards}
        for name, (src, dst, r) in zip("ABCDEFGH", spec.teleports):  # A → A' as in the notes
            labels[src] = f"{name} ⇒{r:+g}"
            labels.setdefault(dst, f"{name}'")
        agent = m.agent
        self.query_one(GridView).show(GridData(
            kinds=m.grid.kind_grid(), values=m.V.reshape(rows, cols),
            arrows=m.arrows().reshape(rows, cols, 4), q=q, labels=labels,
            selected=self.selected, agent=None if agent is None else m.grid.cell(agent),
            rewards=dict(spec.rewards)))
        mode = {"value_iteration": "value iteration", "random_policy": "random policy",
                "q_learning": "Q-learning"}[m.mode]
        title = f"{mode} · γ {spec.gamma:g}"
        if spec.slip:
            title += f" · slip {spec.slip:g}"
        title += f" · {spec.title or 'custom grid'}"
        set_text(self.query_one("#gw-title", Static), title)
        self._update_status()
        chart = self.query_one(LineChart)
        if m.mode == "q_learning":
            chart.log_y = False
            chart.title = "return per episode"
            series = [Series("return", m.episode_returns)]
            start = m.episode_start
            ref = m.reference()
            n = len(m.episode_returns)
            if start is not None and ref.converged and n:
                series.append(Series("v*(start)", np.full(n, ref.V[start]), color=ORANGE))
            chart.set_series(series)
        else:
            chart.log_y = True
            chart.title = "max |ΔV| per sweep"
            chart.set_series([Series("Δ", m.deltas)])
        if not self._message and m.finished and not m.converged and m.mode != "q_learning":
            self._put_message(f"✗ no convergence after {m.k} sweeps: with γ = 1 every cell "
                              "needs a terminal it can reach")
        elif not self._message and m.diverges():
            n = int(m.stuck_cells().sum())
            self._put_message(f"✗ γ = 1 and {n} cell{'s' if n > 1 else ''} cannot reach a "
                              "terminal: their values change every sweep, forever (no "
                              "convergence)")
        else:
            self._show_message(self._message)
        self._draw_side()

    def _update_status(self) -> None:
        """The status beside the playback buttons, short when the long one would wrap (the bar
        then grows a line and squeezes the grid)."""
        controls = self.query_one(StepControls)
        room = controls.status_width
        short = self.model.status(short=True)
        for status in (self.model.status(), short, short.replace(" episodes", " ep.")):
            if not room or len(STATUS_PREFIX) + len(status) <= room:
                break
        controls.status = status

    def on_resize(self) -> None:
        if self._ready:
            self._update_status()

    def _set_panel(self, text: str, context: tuple = ()) -> None:
        """Update the side panel without moving what is under it: while `context` (the cell,
        mode and grid shown) stays the same the panel never shrinks (blank lines pad it), and
        the whole-screen layout pass runs only when it must grow. Numbers changing width as
        they converge used to relayout the panel's eleven inputs on most frames."""
        static = self.query_one("#gw-backup", Static)
        width = static.content_size.width
        if not width:
            set_text(static, text)
            self._panel_shape = ()
            return
        height = sum(1 if cell_len(line) <= width else  # most lines fit: no wrapping needed
                     Content(line).get_height(static.styles, width) for line in text.split("\n"))
        old = self._panel_shape
        if old and old[:2] == (width, context) and height < old[2]:
            text += "\n" * (old[2] - height)
            height = old[2]
        self._panel_shape = (width, context, height)
        set_text(static, text)

    def watch_playing(self, playing: bool) -> None:
        super().watch_playing(playing)
        if self._ready and not playing:
            self.request_redraw()  # back from playback: ask for the next value again

    def _draw_side(self) -> None:
        m = self.model
        predict = self.query_one(PredictInput)
        if m.mode == "q_learning":
            self._set_panel(loop_text(m), ("loop", id(m.grid), m.episodes))
            self._ask_nothing(predict)
            return
        if self.selected is None:
            self._set_panel("Select a cell (arrow keys or a click) to see its Bellman backup.")
            self._ask_nothing(predict)
            return
        if (m.converged and m.mode == "value_iteration" and m.comparison is None
                and self._compared_grid is not m.grid):
            self._compared_grid = m.grid  # one worker per grid
            self._compare()
        backup = m.backup(self.selected)
        key = (id(m.grid), m.mode, m.k, self.selected)
        revealed = key in self._answered or m.finished or self.playing
        self._set_panel(backup_text(m, backup, revealed), (self.selected, m.mode, id(m.grid)))
        # While playing nobody can answer: the question hides (re-asking every frame cost a
        # layout pass of the whole screen) and the backup shows its numbers instead. Hidden
        # inline only then: otherwise the widget's own state shows or hides it (an inline
        # display kept a cleared question on show after a terminal cell or a new preset).
        if self.playing:
            predict.display = False
        else:
            predict.styles.display = None  # no inline rule (a no-op when there is none)
        if self.playing:
            self._asked = None
            return
        if backup.kind == "absorbing" or m.finished:
            self._ask_nothing(predict)
            return
        if key in self._answered:  # back on a cell answered at this sweep: its numbers show
            if key != self._asked:
                self._ask_nothing(predict)
            return
        if key != self._asked:
            self._asked = key
            r, c = self.selected
            predict.ask("bellman-backup", f"Predict V{_sub(m.k + 1)}({r},{c}) (i):",
                        backup.next_value, 0.01,
                        f"V{_sub(m.k + 1)}({r},{c}) = {fmt(backup.next_value, 8)}.")


    def _ask_nothing(self, predict: PredictInput) -> None:
        """No question here: the last one is put away, and asked again when its cell is
        selected again (unless answered)."""
        if predict.state != "idle":
            predict.clear()
        self._asked = None


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


LAB_CLASS = GridworldLab

__all__ = ["GridworldLab", "LAB_CLASS"]
