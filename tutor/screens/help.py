"""The help screen (F1 or ?): every key of the app, the lesson screen and the labs."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: (section, [(key, what it does)]) in the order shown.
SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Everywhere", [
        ("F1 or ?", "this help"),
        ("ctrl+p", "command palette: go to lesson…, change theme"),
        ("ctrl+t", "next colour theme (remembered)"),
        ("q or ctrl+q", "quit (your progress is saved as you go)"),
    ]),
    ("Catalog", [
        ("↑ ↓", "move between lessons (○ new, ◐ started, ● done)"),
        ("enter", "open the lesson"),
    ]),
    ("Lesson", [
        ("[ / ]", "previous / next lesson"),
        ("d", "mark the lesson done (again to undo)"),
        ("f", "show the lab at full width (again to bring the text back)"),
        ("ctrl+o", "move the focus between the text and the lab"),
        ("tab", "next control (quiz answers, lab inputs)"),
        ("escape", "back to the catalog"),
    ]),
    ("Every lab", [
        ("space", "play / pause"),
        ("n", "one step forward"),
        ("b", "one step back"),
        ("r", "reset"),
        ("+ / -", "faster / slower"),
        ("y", "show the same computation in PyTorch"),
    ]),
]
FOOTNOTE = "Each lab lists its own extra keys in the footer at the bottom of the screen."


class HelpText(Static):
    """Every section's keys as tables, drawn by one widget (the Markdown it replaced was a
    widget per heading, table and row: ~60 ms of the F1 key)."""

    COMPONENT_CLASSES = {"help-text--heading", "help-text--key"}
    DEFAULT_CSS = """
    HelpText {
        padding: 0 1;
        & > .help-text--heading { color: $accent; text-style: bold; }
        & > .help-text--key { color: $text-accent; text-style: bold; }
    }
    """

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def render(self) -> Group:
        heading = self.get_component_rich_style("help-text--heading", partial=True)
        key = self.get_component_rich_style("help-text--key", partial=True)
        parts: list = [Text("dl-tutor keys", style=heading + Style(underline=True))]
        for title, rows in self.sections:
            parts += [Text(""), Text(title, style=heading)]
            table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
            table.add_column("key", style=key, no_wrap=True)
            table.add_column("does", ratio=1)
            for keys, what in rows:
                table.add_row(keys, what)
            parts.append(table)
        parts += [Text(""), Text(FOOTNOTE, style=Style(italic=True))]
        return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys; escape, q or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: 80%; border: round $accent; background: $surface;
    }
    """

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def __init__(self, lab_title: str | None = None, lab_keys: list[tuple[str, str]] = ()) -> None:
        super().__init__()
        self.lab_title = lab_title
        self.lab_keys = list(lab_keys)

    @property
    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """What the help lists: the app's keys, then the open lab's own."""
        if not self.lab_keys:
            return SECTIONS
        return [*SECTIONS, (f"This lab: {self.lab_title}", self.lab_keys)]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield HelpText(self.sections)


def lab_keys(lab) -> list[tuple[str, str]]:
    """The keys a lab adds to the shared ones, as (key, description), from its class bindings."""
    from tutor.labs.base import Lab

    shared = {b.action for b in Lab.BINDINGS if isinstance(b, Binding)}
    keys: dict[str, tuple[str, str]] = {}
    for cls in type(lab).__mro__:
        for binding in getattr(cls, "BINDINGS", []) if cls is not Lab else []:
            if isinstance(binding, tuple):
                binding = Binding(*binding)
            if binding.action in shared or not binding.description:
                continue
            keys.setdefault(binding.action, (binding.key.replace("_", " "), binding.description))
    return list(keys.values())
