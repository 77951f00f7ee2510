"""Playback buttons for a lab: reset, back, play/pause, step, slower, faster, and a status line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Static

from tutor.widgets.text import set_text

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


class StepControls(Widget):
    """A one-row bar of playback buttons and a status text.

    Attributes down, messages up: the owning `Lab` sets `playing`, `fps` and `status`; the
    buttons post `StepControls.Pressed(action)` with an action from `ACTIONS`, which
    `Lab.on_step_controls_pressed` maps onto its `action_*` methods.
    """

    DEFAULT_CSS = """
    StepControls {
        height: auto;
        width: 1fr;
        layout: horizontal;
        background: $boost;
        & > Button {
            margin: 0 1 0 0;
            min-width: 3;
        }
        & > #toggle_play {
            min-width: 9;
        }
        & > #toggle_play.-playing {
            background: $warning-muted;
        }
        & > .step-controls--status {
            width: 1fr;
            height: auto;
            min-height: 1;
            padding: 0 1;
            color: $text-muted;
        }
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

    def compose(self) -> ComposeResult:
        for action, label, _narrow, tooltip in BUTTONS:
            button = Button(label, id=action, tooltip=tooltip, compact=True)
            # Button ignores clicks while its 0.2 s "active" flash runs; a student clicking
            # "step" quickly must get every step.
            button.active_effect_duration = 0
            yield button
        yield Static(self._status_text(), classes="step-controls--status", markup=False)

    def _status_text(self) -> str:
        state = "playing" if self.playing else "paused"
        text = f"{state} · {self.fps:.3g} fps"
        return f"{text} · {self.status}" if self.status else text

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        # A layout pass repaints the whole screen (every frame, as labs set `status` on each
        # step); set_text runs one only when the text wraps onto a different number of lines.
        set_text(self.query_one(".step-controls--status", Static), self._status_text())

    def _labels(self) -> None:
        """Full labels, or symbols only when the bar is narrow."""
        narrow = 0 < self.size.width < NARROW_WIDTH
        changed = []
        for action, label, short, _tooltip in BUTTONS:
            if action == "toggle_play":
                label, short = ("⏸ pause", "⏸") if self.playing else (label, short)
            button = self.query_one(f"#{action}", Button)
            text = short if narrow else label
            if str(button.label) != text:
                button.label = text
                changed.append(button)
        if changed:
            # A label set while the bar is being resized left its button at the old width
            # (back from a narrow terminal "↺ reset" showed as "↺"): measure the buttons and
            # lay the bar out again after this refresh.
            self.call_after_refresh(self._relayout, changed)

    def _relayout(self, buttons: list[Button]) -> None:
        for button in buttons:
            button.refresh(layout=True)
        self.refresh(layout=True)

    def watch_playing(self, playing: bool) -> None:
        if not self.is_mounted:
            return
        self.query_one("#toggle_play", Button).set_class(playing, "-playing")
        self._labels()
        self._update_status()

    def on_resize(self) -> None:
        self._labels()

    def watch_fps(self, fps: float) -> None:
        self._update_status()

    def watch_status(self, status: str) -> None:
        self._update_status()

    def on_mount(self) -> None:
        self.watch_playing(self.playing)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id in ACTIONS:
            self.post_message(self.Pressed(self, event.button.id))
