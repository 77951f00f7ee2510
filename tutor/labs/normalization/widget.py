"""The normalization lab widget: a batch drawn as a block, the normalized group lit, statistics."""

from __future__ import annotations

from rich.style import Style as RichStyle
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Static

from tutor.labs.base import Lab
from tutor.labs.kit import FieldKeys, ModelLab
from tutor.widgets.text import set_text
from tutor.widgets.text_lines import TextLines
from tutor.labs.normalization import block as B
from tutor.labs.normalization.model import C_IN, NormModel
from tutor.labs.normalization.params import PARAMS
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput
from tutor.widgets.step_controls import StepControls

SIDE_WIDTH = 36
SETTINGS = (("kind", "norm"), ("mode", "mode"), ("n", "N"), ("c", "C"), ("h", "H"), ("w", "W"),
            ("momentum", "momentum"), ("seed", "seed"))  # fmt: skip
ONOFF = ("off", "on")


class BlockLines(TextLines):
    """The batch drawing: `TextLines` (only the rows that changed are drawn again; a `Static`
    formatted the whole drawing, cell by cell, on every step), its rows padded with the
    background alone, as a `Static` pads them."""

    def pad_style(self, base: RichStyle) -> RichStyle:
        return RichStyle(bgcolor=base.bgcolor)


class NormalizationLab(FieldKeys, ModelLab):
    """Batch, layer and instance normalization of a small N x C x H x W batch.

    Keys: n draws the next training batch (BatchNorm's running statistics follow), b goes back,
    k cycles batch/layer/instance, m switches train/eval, g highlights the next group,
    o shows BatchNorm folded into the convolution that produced the batch (f belongs to the
    lesson screen).
    """

    DEFAULT_CSS = """
    NormalizationLab {
        layout: vertical;
        & #norm-title { height: 1; color: $text-muted; }
        & #norm-predict { height: 4; overflow: hidden hidden; }
        & #norm-main { height: 1fr; }
        & #norm-left { width: 1fr; min-width: 10; }
        & #norm-side { width: %d; padding: 0 0 0 1; }
        & #norm-settings { height: auto; grid-size: 3; grid-gutter: 0 1; }
        & #norm-settings ParamInput .param-input--label { min-width: 9; }
        & #norm-message { height: auto; color: $text-warning; }
    }
    """ % SIDE_WIDTH

    BINDINGS = [
        Binding("k", "next_kind", "Norm kind"),
        Binding("m", "toggle_mode", "Train/eval"),
        Binding("g", "next_group", "Group"),
        Binding("o", "toggle_fold", "Fold"),
        Binding("escape", "focus_lab", "Lab keys", show=False),
    ]

    lab_name = "normalization"

    def __new__(cls, params: dict | None = None, *args, **kwargs):
        """`view = "training"` builds the 4.5.4 race (`RaceLab`) instead of the batch view."""
        if cls is NormalizationLab and params is not None and params.get("view") == "training":
            from tutor.labs.normalization.race_widget import RaceLab

            return RaceLab(params, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.note = ""
        self.model = NormModel(self.params)

    def compose(self) -> ComposeResult:
        yield Static("", id="norm-title", markup=False)
        yield PredictInput(id="norm-predict")
        with Horizontal(id="norm-main"):
            with VerticalScroll(id="norm-left", can_focus=False):
                yield BlockLines("", id="norm-block")
            with VerticalScroll(id="norm-side", can_focus=False):
                yield Static("", id="norm-stats", markup=False)
        with Grid(id="norm-settings"):
            for key, label in SETTINGS:
                spec = PARAMS[key]
                if spec.kind == "str":
                    yield ParamInput(key, label, self.params[key], "choice", choices=spec.choices)
                else:
                    yield ParamInput(key, label, self.params[key], spec.kind, min=spec.min, max=spec.max,
                                     step=1 if spec.kind == "int" else 0.05)  # fmt: skip
        yield Static("", id="norm-message", markup=False)
        yield StepControls(id="norm-controls")

    def on_mount(self) -> None:
        # (ModelLab.on_mount, which starts the playback timer and asks for the first redraw,
        # runs too: Textual calls each class's.)
        self._asked = None
        self._sync_prediction()  # before the first layout: the question's rows are reserved

    # --- predict first --------------------------------------------------------------------
    def _sync_prediction(self) -> None:
        """Before the first n the lab asks what the next batch will show; once the student
        has stepped, an unanswered question shows its answer (asked again back at batch 0)."""
        predict = self.query_one("#norm-predict", PredictInput)
        m = self.model
        if m.index > 0:
            if predict.state == "asking":
                predict.reveal()
            return
        key, prompt, answer, tolerance, explanation = m.question()
        ident = (key, prompt, round(answer, 9), m.kind, self.params["mode"])
        if predict.state == "asking" and self._asked == ident:
            return
        self._asked = ident
        predict.ask(key, prompt, answer, tolerance, explanation)

    def on_predict_input_checked(self, event: PredictInput.Checked) -> None:
        event.stop()
        self.post_message(Lab.Answered(self.lab_name, event.key, event.correct))

    def on_resize(self) -> None:
        self.request_redraw()

    # --- drawing -------------------------------------------------------------------------
    def redraw(self) -> None:
        m = self.model
        n, c, h, w = m.shape
        mode = f" · {self.params['mode']}" if m.kind == "batch" else ""
        set_text(self.query_one("#norm-title", Static), 
            f"{m.kind} norm{mode} · batch {n}×{c}×{h}×{w} = conv 3×3 ({C_IN}→{c} channels) of a random input"
        )
        x, y = m.x(), m.output()
        mask = m.group_mask()
        left = B.block_lines(x, mask, "x (conv output)")
        right = B.block_lines(y, mask, f"y = {m.kind} norm(x)")
        width = self.query_one("#norm-left").size.width
        fits = max(len(t.plain) for t in left) + 3 + max(len(t.plain) for t in right) <= max(width, 1)
        drawing = B.side_by_side(left, right) if fits else B.stacked(left, right)
        drawing.append(f"\nrows: samples N · blocks: channels C · a block: its {h}×{w} pixels\n"
                       f"lit: one group normalized together (over {m.reduced()})", style="dim")  # fmt: skip
        self.query_one("#norm-block", BlockLines).update(drawing)
        set_text(self.query_one("#norm-stats", Static), self._stats())
        set_text(self.query_one("#norm-message", Static), self.note)
        self.query_one(StepControls).status = m.status()
        self._sync_prediction()

    def _stats(self) -> str:
        m = self.model
        groups = m.groups()
        g = m.group % len(groups)
        lines = [f"reduces over {m.reduced()}", f"{len(groups)} groups, lit: {groups[g][0]}",
                 f"{'group':<7}{'μ':>9}{'σ²':>10}"]  # fmt: skip
        shown = groups if len(groups) <= 12 else groups[max(0, g - 5) : max(0, g - 5) + 12]
        for label, mu, var in shown:
            mark = " ◀" if label == groups[g][0] else ""
            lines.append(f"{label:<7}{mu:9.3f}{var:10.3f}{mark}")
        if m.kind == "batch":
            s = m.state
            lines.append(f"\nrunning μ  {' '.join(f'{v:.2f}' for v in s.running_mean)}")
            lines.append(f"running σ² {' '.join(f'{v:.2f}' for v in s.running_var)}")
            true_mu, true_var = m.population()
            lines.append(f"true μ     {' '.join(f'{v:.2f}' for v in true_mu)}")
            lines.append(f"true σ²    {' '.join(f'{v:.2f}' for v in true_var)}")
            lines.append(f"mode {self.params['mode']}: "
                         + ("batch statistics" if self.params["mode"] == "train" else "running statistics"))  # fmt: skip
            if self.params["fold"]:
                err, wf, bf = m.fold_check()
                lines.append("\nfolded into the conv (eval):")
                lines.append(" w′ = w·γ/σ, b′ = (b − μ)·γ/σ + β")
                lines.append(f" b′ = {' '.join(f'{v:.2f}' for v in bf)}")
                if err < 1e-12:  # rounding only: print the bound, not the last bits
                    lines.append(" max|conv′ − BN(conv)| < 1e-12\n equal ✓ (up to rounding)")
                else:
                    lines.append(f" max|conv′ − BN(conv)| = {err:.1e}\n differ ✗")
        else:
            lines.append("\nsame in train and eval:\neach sample is normalized alone")
        return "\n".join(lines)

    # --- saved state -------------------------------------------------------------------
    def save_state(self) -> dict:
        """Every setting, the batch number, the lit group and the running statistics."""
        from tutor.labs.normalization.state import save_batch

        return save_batch(self.model)

    def restore_state(self, state: dict) -> None:
        from tutor.labs.normalization.state import restore_batch

        model = restore_batch(state)  # raises on a damaged state: nothing changed yet
        self.playing = False
        self.model, self.params = model, dict(model.params)
        self.note = ""
        for field in self.query(ParamInput):
            field.value = self.params[field.param_name]
        self.redraw()  # at once: the restored lab is drawn before anything else happens

    # --- keys and edits ------------------------------------------------------------------
    def action_next_kind(self) -> None:
        kinds = PARAMS["kind"].choices
        self.apply_param("kind", kinds[(kinds.index(self.params["kind"]) + 1) % len(kinds)])

    def action_toggle_mode(self) -> None:
        self.apply_param("mode", "eval" if self.params["mode"] == "train" else "train")

    def action_next_group(self) -> None:
        self.model.next_group()
        self.request_redraw()

    def action_toggle_fold(self) -> None:
        # Not a field: playback goes on and a note on show stays (apply_param clears both).
        self.model.apply("fold", not self.params["fold"])
        self.params = dict(self.model.params)
        if self.params["fold"] and self.model.kind != "batch":
            self.note = "folding applies to batch norm (k switches the kind)"
        self.request_redraw()

    def apply_param(self, name: str, value) -> str | None:
        """Change one setting through the model (train/eval keeps the batches and running
        statistics); a refusal is shown in the note, the last good settings kept."""
        refused = self.model.apply(name, value)
        if refused is not None:
            self.note = f"✗ {refused}; kept the previous settings"
            self.request_redraw()
            return refused
        self.playing = False
        self.params, self.note = dict(self.model.params), ""
        for field in self.query(ParamInput):
            if field.param_name == name:
                field.value = self.params[name]
        self.request_redraw()
        return None

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        if self.apply_param(event.name, event.value) is not None:
            event.param_input.value = self.params[event.name]
            return
        self.back_to_lab(event.param_input)


LAB_CLASS = NormalizationLab
