"""Playback buttons for a lab: reset, back, play/pause, step, slower, faster, and a status line.

One widget draws the whole bar. It used to be six Textual `Button`s and a `Static` (eight
widgets, ~12 ms of the ~200 ms it takes to build a lab, each lab opened); it looks and answers
the mouse the same (a click presses a button, hovering highlights it and shows its key), and
the lab's keys (r b space n - +) do what the buttons do.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tutor.widgets.parts import ClickableParts

#: (action, label, narrow label, tooltip) in display order; the play label follows `playing`.
BUTTONS: tuple[tuple[str, str, str, str], ...] = (
    ("reset", "↺ reset", "↺", "Back to the start (r)"),
    ("back", "◀ back", "◀", "One step back (b)"),
    ("toggle_play", "▶ play", "▶", "Play or pause (space)"),
    ("step", "step ▶", "▶|", "One step forward (n)"),
    ("slower", "−", "−", "Slower (-)"),
    ("faster", "+", "+", "Faster (+)"),
)

ACTIONS: tuple[str, ...] = tuple(button[0] for button in BUTTONS)

#: Below this width the buttons show only their symbols.
NARROW_WIDTH = 60

#: The narrowest a button is drawn (the play button: as wide as "⏸ pause" and its padding).
MIN_WIDTH = {"toggle_play": 9}
BUTTON_MIN_WIDTH = 3
GAP = 1  # between two buttons
STATUS_PADDING = 1  # left and right of the status text


class StepControls(ClickableParts, Widget, can_focus=False):
    """A bar of playback buttons and a status text (one row, more if the status wraps).

    Attributes down, messages up: the owning `Lab` sets `playing`, `fps` and `status`; a click
    on a button posts `StepControls.Pressed(action)` with an action from `ACTIONS`, which
    `Lab.on_step_controls_pressed` maps onto its `action_*` methods.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "step-controls--button",
        "step-controls--hover",
        "step-controls--playing",
        "step-controls--status",
    }
    DEFAULT_CSS = """
    StepControls {
        height: auto;
        width: 1fr;
        background: $boost;
        & > .step-controls--button {
            text-style: bold;
            color: $button-foreground;
            background: $surface;
        }
        & > .step-controls--hover { background: $surface-darken-1; }
        & > .step-controls--playing { background: $warning-muted; }
        & > .step-controls--status { color: $text-muted; }
    }
    """

    playing: reactive[bool] = reactive(False)
    """Whether the lab is playing (the play button then reads "pause")."""

    fps: reactive[float] = reactive(5.0, repaint=False)
    """The lab's playback speed in steps per second, shown beside the status."""

    status: reactive[str] = reactive("", repaint=False)
    """Free text from the lab, e.g. "step 12 / 40 · loss 0.031"."""

    class Pressed(Message):
        """A button was pressed; `action` is one of `ACTIONS`."""

        def __init__(self, controls: StepControls, action: str) -> None:
            super().__init__()
            self.controls: StepControls = controls
            """The `StepControls` that sent the message."""
            self.action: str = action
            """"reset", "back", "toggle_play", "step", "slower" or "faster"."""

        @property
        def control(self) -> StepControls:
            """Alias for `controls`."""
            return self.controls

    def __init__(
        self,
        status: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(StepControls.status, status)

    # --- what is drawn where -------------------------------------------------------------
    def label(self, action: str, width: int | None = None) -> str:
        """The label the button of `action` shows at the bar's width (or at `width`)."""
        _action, label, short, _tooltip = next(b for b in BUTTONS if b[0] == action)
        if action == "toggle_play" and self.playing:
            label, short = "⏸ pause", "⏸"
        width = self.size.width if width is None else width
        return short if 0 < width < NARROW_WIDTH else label

    def _buttons(self, bar_width: int | None = None) -> list[tuple[str, int, int]]:
        """(action, x, width) of each button, left to right."""
        spans, x = [], 0
        for action, *_ in BUTTONS:
            label = self.label(action, bar_width)
            width = max(cell_len(label) + 2, MIN_WIDTH.get(action, BUTTON_MIN_WIDTH))
            spans.append((action, x, width))
            x += width + GAP
        return spans

    def button_region(self, action: str) -> Region:
        """Where the button of `action` is drawn, relative to the bar."""
        _action, x, width = next(span for span in self._buttons() if span[0] == action)
        return Region(x, 0, width, 1)

    @property
    def status_width(self) -> int:
        """Columns the status text has beside the buttons (it wraps when longer)."""
        return self._status_width(self.size.width)

    def _status_width(self, bar_width: int) -> int:
        _action, x, width = self._buttons(bar_width)[-1]
        return max(bar_width - (x + width + GAP) - 2 * STATUS_PADDING, 0)

    def status_text(self) -> str:
        """What the status part reads: playing or paused, the speed, the lab's status."""
        state = "playing" if self.playing else "paused"
        text = f"{state} · {self.fps:.3g} fps"
        return f"{text} · {self.status}" if self.status else text

    def _status_lines(self, width: int) -> list[Text]:
        if width < 1:
            return []
        return list(Text(self.status_text()).wrap(self.app.console, width, overflow="fold"))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(len(self._status_lines(self._status_width(width))), 1)

    def render(self) -> Text:
        base = Style(bgcolor=self.rich_style.bgcolor)
        button = self.get_component_rich_style("step-controls--button")
        hover = self.get_component_rich_style("step-controls--hover")
        playing = self.get_component_rich_style("step-controls--playing")
        muted = self.get_component_rich_style("step-controls--status")
        first = Text(no_wrap=True, overflow="crop", end="")
        for action, _x, width in self._buttons():
            style = button
            if action == "toggle_play" and self.playing:
                style = style + Style(bgcolor=playing.bgcolor)
            if action == self.hovered:
                style = style + Style(bgcolor=hover.bgcolor)
            label = self.label(action)
            extra = width - cell_len(label)  # centred, the odd column on the right
            first.append(" " * (extra // 2) + label + " " * (extra - extra // 2), style)
            first.append(" " * GAP, base)
        indent = first.cell_len
        lines = self._status_lines(self.status_width) or [Text("")]
        text = Text(no_wrap=True, overflow="crop", end="")
        for row, line in enumerate(lines):
            if row:
                text.append("\n")
                text.append(" " * indent, base)
            else:
                text.append_text(first)
            text.append(" " * STATUS_PADDING, base)
            text.append(line.plain, muted)
            fill = self.size.width - indent - STATUS_PADDING - line.cell_len
            text.append(" " * max(fill, 0), base)
        return text

    # --- state from the lab --------------------------------------------------------------
    def _status_changed(self) -> None:
        if not self.is_mounted:
            return
        # A layout pass repaints the whole screen (every frame, as labs set `status` on each
        # step): only a status that wraps onto a different number of rows asks for one.
        rows = max(len(self._status_lines(self.status_width)), 1)
        self.refresh(layout=rows != self.size.height)

    def watch_playing(self, playing: bool) -> None:
        self._status_changed()

    def watch_fps(self, fps: float) -> None:
        self._status_changed()

    def watch_status(self, status: str) -> None:
        self._status_changed()

    # --- the mouse (ClickableParts) -----------------------------------------------------
    def part_at(self, x: int, y: int) -> str | None:
        if y != 0:
            return None
        return next((a for a, left, width in self._buttons() if left <= x < left + width), None)

    def part_tooltip(self, action: str) -> str | None:
        return next(b[3] for b in BUTTONS if b[0] == action)

    def press_part(self, action: str) -> None:
        self.post_message(self.Pressed(self, action))
