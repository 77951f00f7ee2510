"""One of a few choices on one line, as one widget: `adam ▼`, a menu to pick another.

Textual's `Select` is ten widgets (the current value, its arrows, an option list kept hidden
below); a lab shows up to six choices, and building them was ~9 ms each, each lab opened.
`ChoiceField` draws the value itself and builds its menu only when the student opens it.

Keys: enter, space, up or down open the menu (as in a `Select`); left and right step to the
previous or next choice at once. In the menu: arrows and enter pick, escape or a click
outside closes it; nothing changes unless a choice is picked.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import OptionList

ARROW = "▼"


class ChoiceMenu(ModalScreen[Any]):
    """The list of choices, drawn just under (or above) the field that opened it; dismissed
    with the choice picked, or with `ChoiceMenu.NOTHING`."""

    NOTHING = object()
    """The result when the menu is closed without a choice."""

    DEFAULT_CSS = """
    ChoiceMenu {
        background: $background 0%;
        & > OptionList {
            position: absolute;
            width: auto;
            height: auto;
            max-height: 12;
            border: tall $border;
            background: $surface;
            padding: 0;
            & > .option-list--option { padding: 0 1; }
        }
    }
    """

    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def __init__(self, choices: tuple, value: Any, under: Region) -> None:
        super().__init__()
        self.choices = choices
        self.value = value
        self.under = under  # the field's region on the screen

    def compose(self) -> ComposeResult:
        menu = OptionList(*(str(choice) for choice in self.choices))
        if self.value in self.choices:
            menu.highlighted = self.choices.index(self.value)
        widest = max((cell_len(str(c)) for c in self.choices), default=1) + 2 + 2  # pad, border
        width = max(widest, self.under.width)
        height = min(len(self.choices), 10) + 2
        screen = self.app.size
        x = max(min(self.under.x, screen.width - width), 0)
        below = self.under.bottom
        y = below if below + height <= screen.height else max(self.under.y - height, 0)
        menu.styles.offset = (x, y)
        menu.styles.min_width = width
        yield menu

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index])

    def on_click(self, event: events.Click) -> None:
        if event.widget is self:  # outside the list
            self.dismiss(self.NOTHING)

    def action_close(self) -> None:
        self.dismiss(self.NOTHING)


class ChoiceField(Widget, can_focus=True):
    """A choice among `choices`, drawn as `value ▼`; posts `ChoiceField.Changed` when the
    student picks another (not when `value` is set from code)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"choice-field--arrow"}
    DEFAULT_CSS = """
    ChoiceField {
        width: 1fr;
        height: 1;
        background: $surface;
        color: $foreground;
        padding: 0 1 0 0;
        pointer: pointer;
        &:focus { background-tint: $foreground 5%; text-style: bold; }
        &:disabled { color: $text-disabled; }
        & > .choice-field--arrow { color: $foreground 50%; }
    }
    """

    BINDINGS = [
        Binding("enter,space,up,down", "open", "Choose", show=False),
        Binding("left", "step(-1)", "Previous choice", show=False),
        Binding("right", "step(1)", "Next choice", show=False),
    ]

    class Changed(Message):
        """The student picked `value`."""

        def __init__(self, field: ChoiceField, value: Any) -> None:
            super().__init__()
            self.field: ChoiceField = field
            """The `ChoiceField` that changed."""
            self.value: Any = value
            """The choice picked."""

        @property
        def control(self) -> ChoiceField:
            """Alias for `field`."""
            return self.field

    def __init__(self, choices: tuple | list, value: Any, *, tooltip: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:  # fmt: skip
        if value not in choices:
            raise ValueError(f"{value!r} is not one of the choices {tuple(choices)}")
        super().__init__(id=id, classes=classes)
        self.choices = tuple(choices)
        self._value = value
        if tooltip:
            self.tooltip = tooltip

    @property
    def value(self) -> Any:
        """The choice shown."""
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        """Show `value` (from code: posts nothing)."""
        if value not in self.choices:
            raise ValueError(f"{value!r} is not one of the choices {self.choices}")
        if value != self._value:
            self._value = value
            self.refresh()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max(cell_len(str(c)) for c in self.choices) + 2

    def render(self) -> Text:
        width = self.content_size.width
        arrow_style = self.get_component_rich_style("choice-field--arrow")
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        label = str(self._value)
        room = max(width - 2, 1)
        text.append(label if cell_len(label) <= room else label[: room - 1] + "…")
        text.pad_right(max(width - 2 - text.cell_len, 0))
        text.append(" ")
        text.append(ARROW, arrow_style)
        return text

    def _pick(self, value: Any) -> None:
        if value is ChoiceMenu.NOTHING or value == self._value:
            return
        self.value = value
        self.post_message(self.Changed(self, value))

    def action_step(self, direction: int) -> None:
        """The previous or next choice (wrapping round)."""
        index = self.choices.index(self._value)
        self._pick(self.choices[(index + direction) % len(self.choices)])

    def action_open(self) -> None:
        """Open the menu of choices under the field."""
        if not self.is_mounted or self.disabled:
            return
        self.app.push_screen(ChoiceMenu(self.choices, self._value, self.region), self._picked)

    def _picked(self, value: Any) -> None:
        self._pick(value)
        if self.is_attached:
            self.focus()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.focus()
        self.action_open()
