"""TensorView: the tensor mode's graph as a table of nodes (shape, op, value, gradient) and the step's rules."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tutor.labs.backprop.tensor_model import TensorBackpropModel, shape_text


class TensorView(VerticalScroll, can_focus=False):
    """One line per node of x → Linear → ReLU → Linear → ℒ, then what the current step does.

    The focused op is highlighted; the nodes a backward step sends a gradient to are marked →,
    and each gradient that has arrived is shown with its shape.
    """

    COMPONENT_CLASSES = {"tensor-view--focus", "tensor-view--hot", "tensor-view--grad",
                         "tensor-view--muted", "tensor-view--head"}

    DEFAULT_CSS = """
    TensorView {
        height: 1fr;
        scrollbar-size: 1 1;
        padding: 0 1;
        & > .tensor-view--focus { color: $accent; text-style: bold; }
        & > .tensor-view--hot { color: $warning; text-style: bold; }
        & > .tensor-view--grad { color: $success; }
        & > .tensor-view--muted { color: $text-muted; }
        & > .tensor-view--head { color: $text-muted; text-style: bold; }
    }
    """

    def compose(self):
        yield Static("", id="bp-tensor-text")

    def show(self, model: TensorBackpropModel) -> None:
        """Redraw from the model's current step."""
        style = self.get_component_rich_style
        focus = model.focus()
        hot = {f.target for f in model.flows()}
        text = Text()
        known = model.computed()
        chain = " → ".join(
            f"{n}{shape}" for n, shape in (
                (name, shape_text(model.shape(name)) if name in known else "")
                for name in ("x", "u1", "z1", "h", "u2", "z2", "L")))
        text.append(chain.replace("L", "ℒ") + "\n\n", style=style("tensor-view--muted"))
        text.append(f"{'node':4} {'shape':8} {'computed as':22} {'value':13} gradient\n",
                    style=style("tensor-view--head"))
        for name, shape, form, value, grad in model.rows():
            if name == focus:
                line_style = style("tensor-view--focus")
            elif name in hot:
                line_style = style("tensor-view--hot")
            else:
                line_style = None
            mark = "▶" if name == focus else ("→" if name in hot else " ")
            text.append(f"{mark}{name:3} {shape:8} {form[:22]:22} ", style=line_style)
            text.append(f"{value[:13]:13} ", style=line_style or style("tensor-view--muted"))
            text.append(f"{grad}\n", style=style("tensor-view--grad") if grad and not line_style else line_style)
        text.append("\n")
        for line in model.detail():
            text.append(line + "\n")
        self.query_one("#bp-tensor-text", Static).update(text)
        names = [row[0] for row in model.rows()]
        focus_line = 3 + (names.index(focus) if focus in names else 0)
        self.call_after_refresh(self._keep_in_view, focus_line)

    def _keep_in_view(self, focus_line: int) -> None:
        """When the text is taller than the view: the focused row near the top, then as much
        of the step's explanation below it as fits."""
        self.scroll_to(y=max(0, min(focus_line - 1, self.max_scroll_y)), animate=False)
