"""The race legend, which is also the multi-select: every optimizer on one row with a checkbox."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message

from tutor.labs.optimizer.params import OPTIMIZERS
from tutor.widgets.text_lines import TextLines

#: The first row: how to use the list.
HEADER = "click [x]: race · name: focus"
#: Columns of a row: "▶[x] ● momentum L=24.2"; a click left of NAME_COLUMN toggles the box.
NAME_COLUMN = 4


def legend_text(model, colors: dict[str, str]) -> Text:
    """The header, then one row per optimizer: ▶ on the focused one, [x] and ● in its colour
    with L(θₜ) (or "✗ diverged at k") for those in the race, a dim [ ] for the others."""
    text = Text(HEADER, style="dim")
    for name in OPTIMIZERS:
        text.append("\n")
        text.append("▶" if name == model.focus else " ", style="bold")
        if name in model.selected:
            run = model.runs.get(name)
            if run is None:
                status = ""
            elif model.has_diverged(name):
                status = f"✗ diverged at {run.diverged_at}"
            else:
                status = f"L={run.losses[model.index(name)]:.3g}"
            text.append("[x] ").append("● ", style=colors[name])
            text.append(f"{name:<8} {status}")
        else:
            text.append("[ ] ", style="dim").append("○ ", style="dim")
            text.append(name, style="dim")
    return text


class RaceLegend(TextLines):
    """The legend of the race and the list to choose its optimizers: a click on a row's box
    adds or removes that optimizer, a click on its name focuses it (posts `Picked`)."""

    class Picked(Message):
        """A row was clicked: `toggle` True for the box, False for the name."""

        def __init__(self, optimizer: str, toggle: bool) -> None:
            super().__init__()
            self.optimizer = optimizer
            self.toggle = toggle

    #: False while the legend shows something else (the convergence view): clicks do nothing.
    pickable = True

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1
        if not self.pickable or not 0 <= row < len(OPTIMIZERS):
            return
        event.stop()
        self.post_message(self.Picked(OPTIMIZERS[row], toggle=event.x < NAME_COLUMN))
